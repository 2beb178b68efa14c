"""What the population is made of: identities, income streams, rights, households.

Every agency answer is derived from these facts and nothing else, which is what keeps a
person's RSA at the CAF, resources at GIP-MDS and RFR at the DGFiP consistent.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["M", "F"]


def normalise(value: str) -> str:
    """Upper-case, accents removed, inner spaces folded: how agencies match names."""
    stripped = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return " ".join(stripped.upper().split())


@dataclass(frozen=True, slots=True)
class Identity:
    nom_naissance: str
    prenoms: tuple[str, ...]
    date_naissance: date
    sexe: Sex
    code_pays_naissance: str
    code_commune_naissance: str | None  # only for persons born in France
    nom_usage: str | None = None

    def echo(self) -> dict[str, object]:
        """The ``identite`` block of "our" APIs."""
        return {
            "nom_naissance": self.nom_naissance,
            "prenoms": list(self.prenoms),
            "date_naissance": self.date_naissance.isoformat(),
            "sexe": self.sexe,
        }

    def params(self) -> dict[str, object]:
        """API Particulier's civility parameters (``prenoms[]`` as a list)."""
        out: dict[str, object] = {
            "nomNaissance": self.nom_naissance,
            "prenoms[]": list(self.prenoms),
            "anneeDateNaissance": self.date_naissance.year,
            "moisDateNaissance": self.date_naissance.month,
            "jourDateNaissance": self.date_naissance.day,
            "sexeEtatCivil": self.sexe,
            "codeCogInseePaysNaissance": self.code_pays_naissance,
        }
        if self.code_commune_naissance is not None:
            out["codeCogInseeCommuneNaissance"] = self.code_commune_naissance
        if self.nom_usage is not None:
            out["nomUsage"] = self.nom_usage
        return out


PayerType = Literal["employeur", "france_travail", "caisse_retraite", "independant"]
Nature = Literal["salaire", "allocation_chomage", "pension", "revenu_independant"]
# A micro-entrepreneur's activity category, which sets the flat allowance the law deducts from
# the declared turnover (CGI art. 50-0: 71 % for sales, 50 % for other commercial services;
# art. 102 ter: 34 % for non-commercial, liberal activities).
TurnoverCategory = Literal["bic_vente", "bic_services", "bnc"]
TURNOVER_CATEGORIES: tuple[TurnoverCategory, ...] = ("bic_vente", "bic_services", "bnc")


@dataclass(frozen=True, slots=True)
class Stream:
    """A payment repeated every month from ``start`` to ``end`` inclusive (month numbers).

    Months before the 24-month window repeat the stream's amount when ``start`` is open
    (``None``), so that tax years older than the window still have incomes.

    A ``revenu_independant`` stream is a micro-entrepreneur's turnover declared for the month
    to the Urssaf (the micro-social regime), with its activity ``category``: no net pay
    exists, the law deducts the category's flat allowance, so both amounts are the turnover.
    """

    payer_siret: str
    payer_type: PayerType
    nature: Nature
    net_social: float
    start: int | None
    end: int | None
    category: TurnoverCategory | None = None  # revenu_independant only

    def pays_in(self, month: int) -> bool:
        return (self.start is None or self.start <= month) and (
            self.end is None or month <= self.end
        )

    @property
    def net_fiscal(self) -> float:
        if self.nature == "revenu_independant":
            return self.net_social  # the turnover declared, see above
        # CSG non déductible and CRDS are taxed although not received: taxable > net social.
        return round(self.net_social * 1.03, 2)


@dataclass(frozen=True, slots=True)
class Right:
    """A benefit currently paid: since when, with which options."""

    since: date
    amount: float | None = None
    with_increase: bool | None = None  # RSA/PPA majoration; CSS participation
    renewal: date | None = None


@dataclass(frozen=True, slots=True)
class Pension:
    regime: str
    payer_siret: str
    kind: Literal["droit_propre", "reversion"]
    monthly_gross: float
    monthly_net: float
    since: date


@dataclass(frozen=True, slots=True)
class Rights:
    rsa: Right | None = None
    ppa: Right | None = None
    aah: Right | None = None
    asf: Right | None = None
    css: Right | None = None
    aspa: Right | None = None


@dataclass(frozen=True, slots=True)
class JobSeeker:
    identifiant: str
    since: date
    until: date | None
    category: int


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth for measuring a non-take-up detector; never served by any agency."""

    rsa_eligible: bool = False
    rsa_non_claimant: bool = False
    aspa_eligible: bool = False
    aspa_non_claimant: bool = False
    ppa_eligible: bool = False
    ppa_non_claimant: bool = False
    css_eligible: bool = False
    css_non_claimant: bool = False
    css_participation: bool = False  # the law's tier for the reference month, when eligible


Activity = Literal["salarie", "chomeur", "independant", "etudiant", "retraite", "inactif", "enfant"]


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    identity: Identity
    household: int
    activity: Activity
    streams: tuple[Stream, ...]
    missing_months: frozenset[int]
    pensions: tuple[Pension, ...]
    rights: Rights
    truth: Truth
    job_seeker: JobSeeker | None = None
    date_deces: date | None = None
    unknown_to_caf: bool = False
    homonym_of: int | None = None
    email: str | None = None
    telephone: str | None = None

    def payments(self, month: int) -> list[Stream]:
        return [s for s in self.streams if s.pays_in(month)]

    def net_social(self, month: int) -> float:
        return round(sum(s.net_social for s in self.streams if s.pays_in(month)), 2)


@dataclass(frozen=True, slots=True)
class Address:
    numero: int
    voie: str
    commune: str  # COG code, a key of gazetteer.COMMUNE_BY_COG


Occupancy = Literal[
    "locataire", "locataire_meuble", "proprietaire", "heberge_gratuit", "sans_domicile"
]
AidKind = Literal["APL", "ALF", "ALS"]
Situation = Literal["celibataire", "marie", "pacse", "divorce", "veuf", "concubin"]


@dataclass(frozen=True, slots=True)
class Housing:
    occupancy: Occupancy
    rent: float | None  # current monthly rent (tenants)
    charges: float | None
    rent_revised_on: int  # month of the yearly rent revision: earlier months paid 3.5 % less
    aid_kind: AidKind | None
    aid_amount: float | None
    previous_rent: float | None = None  # before the move, when the household moved


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    kind: str  # single, couple, single_parent, couple_children, student, pensioner...
    adults: tuple[int, ...]
    children: tuple[int, ...]
    situation: Situation
    address: Address
    housing: Housing
    regime: Literal["CNAF", "MSA"]
    previous_address: Address | None = None
    moved_in: int | None = None  # month of the move, when it falls in the window

    @property
    def members(self) -> tuple[int, ...]:
        return self.adults + self.children


def pivot_params(identity: Identity) -> dict[str, str | list[str]]:
    """The pivot identity in API Particulier's names, every value a string (JSON bodies)."""
    born = identity.date_naissance
    out: dict[str, str | list[str]] = {
        "nomNaissance": identity.nom_naissance,
        "prenoms": list(identity.prenoms),
        "anneeDateNaissance": str(born.year),
        "moisDateNaissance": str(born.month),
        "jourDateNaissance": str(born.day),
        "sexeEtatCivil": identity.sexe,
        "codeCogInseePaysNaissance": identity.code_pays_naissance,
    }
    if identity.code_commune_naissance is not None:
        out["codeCogInseeCommuneNaissance"] = identity.code_commune_naissance
    if identity.nom_usage is not None:
        out["nomUsage"] = identity.nom_usage
    return out
