"""Raw agency answers → an OpenFisca-France situation, written from the model's variables.

Every input below is a variable of OpenFisca-France 176.1.8, fed as its definition says
(``openfisca_france/model``):

- ``salaire_net`` / ``salaire_imposable``, ``chomage_net`` / ``chomage_imposable``,
  ``retraite_nette`` / ``retraite_imposable``: monthly net social and net taxable amounts, from
  GIP-MDS's declarations, for the 18 months before the month evaluated (the RSA and the prime
  d'activité read the last 3, the CSS the last 12, housing aid the 12 ending two months before)
  and for the month itself: the RSA neutralises an income that stops in the month evaluated
  (``calcul_revenu_pro``), the CSS and housing aid read a job seeker's benefit of the month;
- ``retraite_brute``: the CNAV record's gross monthly pensions, from their ``date_effet`` (the
  ASPA counts gross pensions);
- ``etudiant``: a month overlapped by a MESRI enrolment ("inscrit") in initial training (régimes
  RF1 to RF3); the MESRI's 404 code 25003 means not a student;
- ``boursier``: a month the CNOUS's grant is paid (``duree`` months from the month of its
  ``date_rentree``); its 404 code 26003 means no grant;
- ``activite`` and ``date_debut_chomage``: ``chomeur`` in a month France Travail's registration
  covers (categories 1 to 4: without a job), from its start date; for an adult France Travail
  was not asked about (the partner: it is asked by identifier), in a month GIP-MDS declares an
  unemployment benefit, from the first month of the latest run of them; otherwise ``etudiant``,
  ``actif`` (a salary that month), ``retraite`` (a pension), or ``inactif``; ``ass`` is 0
  (France Travail pays it: it is in the declared unemployment payments already);
- ``loyer`` per month from the CAF's rent history, ``statut_occupation_logement`` and
  ``depcom`` from the CAF housing record; ``zone_apl`` is left to OpenFisca's own table for
  the commune (the record's zone is only compared with it);
- the household: the CAF's ``allocataires`` are the family's parents and its ``enfants`` the
  children; the tax households are the DGFiP's (joint declarants together).

What the agencies do not serve makes a benefit unknown here, with the reason: a month GIP-MDS
has not declared, self-employed income (not fed here: the sample has none, see
``_recompute_sample``), an AAH paid (its amount is not served), a gross salary for the ASPA
(which counts gross earnings), a partner the civil registry cannot identify, an agency's
error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bench._raw_agencies import Failure, RawAdult, RawHousehold, shift

BENEFITS = ("rsa", "ppa", "css", "aspa", "aide_logement")
HISTORY = 18
_OCCUPANCY = {
    "locataire": "locataire_vide",
    "locataire_meuble": "locataire_meuble",
    "proprietaire": "proprietaire",
    "heberge_gratuit": "loge_gratuitement",
    "sans_domicile": "sans_domicile",
}
_NATURES = {
    "salaire": ("salaire_net", "salaire_imposable"),
    "allocation_chomage": ("chomage_net", "chomage_imposable"),
    "pension": ("retraite_nette", "retraite_imposable"),
}
_JOBLESS = {1, 2, 3, 4}  # France Travail categories of persons without a job
_INITIAL_TRAINING = {"RF1", "RF2", "RF3"}
ASPA_MIN_AGE = 62  # below, no ASPA whatever the resources (inaptitude age; 65 otherwise)


@dataclass
class Situation:
    """An OpenFisca situation for one household, and what it cannot say."""

    month: str
    entities: dict[str, Any]
    asked: str  # the individual id of the person asked about
    unknown: dict[str, list[str]] = field(default_factory=dict)  # benefit → reasons
    caf_zone: int | None = None  # the zone the CAF's housing record gives
    # What the CAF pays, which the RSA, the PPA and the CSS count as received (the housing
    # flat rates apply to an aid received, CASF R262-10; the ASF received, R262-6): the
    # family's inputs for every month (``aide_logement``: 0 or the monthly amount; ``asf``:
    # 0 when not paid); a variable the CAF says nothing of is left to OpenFisca.
    paid: dict[str, dict[str, float]] = field(default_factory=dict)

    def reasons(self, benefit: str) -> list[str]:
        return self.unknown.get(benefit, [])


def _months(month: str) -> list[str]:
    """The 18 months before ``month``, and ``month``."""
    return [shift(month, -k) for k in range(HISTORY, -1, -1)]


def _end(month: str) -> date:
    nxt = shift(month, 1)
    return date.fromordinal(date(int(nxt[:4]), int(nxt[5:7]), 1).toordinal() - 1)


def _start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def _age(born: str, on: date) -> int:
    b = date.fromisoformat(born)
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class _Builder:
    def __init__(self, raw: RawHousehold) -> None:
        self.raw = raw
        self.month = raw.month
        self.months = _months(raw.month)
        self.unknown: dict[str, list[str]] = defaultdict(list)

    def cannot(self, reason: str, benefits: tuple[str, ...] = BENEFITS) -> None:
        for benefit in benefits:
            if reason not in self.unknown[benefit]:
                self.unknown[benefit].append(reason)

    def adult(self, who: str, raw: RawAdult) -> dict[str, Any]:
        person: dict[str, Any] = {}
        if isinstance(raw.civil, Failure):
            self.cannot(f"{who}: civil registry {raw.civil.status}")
        else:
            person["date_naissance"] = {"ETERNITY": raw.civil["identite"]["date_naissance"]}
            if raw.civil.get("date_deces"):
                self.cannot(f"{who}: deceased")
        if "date_naissance" not in person:
            pivot = raw.pivot
            born = "{:04d}-{:02d}-{:02d}".format(
                int(pivot["anneeDateNaissance"]),
                int(pivot["moisDateNaissance"]),
                int(pivot["jourDateNaissance"]),
            )
            person["date_naissance"] = {"ETERNITY": born}
        amounts = self.resources(who, raw)
        for variable, by_month in amounts.items():
            person[variable] = by_month
        gross = self.gross_pensions(who, raw)
        if gross:
            person["retraite_brute"] = gross
        students = self.student_months(who, raw)
        person["etudiant"] = {m: m in students for m in self.months}
        grants = self.grant_months(who, raw)
        person["boursier"] = {m: m in grants for m in self.months}
        registered, since = self.registration(who, raw)
        if raw.job_status is None:
            registered, since = _paid_job_seeker(amounts["chomage_net"], self.months)
        if since is not None:
            person["date_debut_chomage"] = {"ETERNITY": since}
        activity = {}
        for m in self.months:
            if m in registered:
                activity[m] = "chomeur"
            elif m in students:
                activity[m] = "etudiant"
            elif amounts["salaire_net"][m] > 0:
                activity[m] = "actif"
            elif amounts["retraite_nette"][m] > 0 or gross.get(m, 0.0) > 0:
                activity[m] = "retraite"
            else:
                activity[m] = "inactif"
        person["activite"] = activity
        # The ASS is paid by France Travail, so it is in GIP-MDS's unemployment declarations
        # already; OpenFisca must not add a computed one.
        person["ass"] = {m: 0.0 for m in self.months}
        if not isinstance(raw.aah, Failure) and raw.aah.get("est_beneficiaire"):
            self.cannot(f"{who}: AAH paid (amount not served)")
        elif isinstance(raw.aah, Failure) and raw.aah.status != 404:
            self.cannot(f"{who}: AAH status {raw.aah.status}")
        return person

    def resources(self, who: str, raw: RawAdult) -> dict[str, dict[str, float]]:
        amounts: dict[str, dict[str, float]] = {
            v: {m: 0.0 for m in self.months} for pair in _NATURES.values() for v in pair
        }
        answer = raw.resources
        if isinstance(answer, Failure):
            self.cannot(f"{who}: resources {answer.status}")
            return amounts
        for missing in answer.get("mois_manquants", []):
            self.cannot(f"{who}: resources {missing}")
        declared = {p["mois"] for p in answer.get("periodes", [])}
        for m in self.months:
            if m not in declared:
                self.cannot(f"{who}: resources {m}")
        for period in answer.get("periodes", []):
            m = period["mois"]
            if m not in amounts["salaire_net"]:
                continue
            for payment in period["versements"]:
                nature = payment["nature"]
                if nature not in _NATURES:
                    self.cannot(f"{who}: {nature} (no net-amount input)")
                    continue
                net, taxable = _NATURES[nature]
                amounts[net][m] += float(payment["montant_net_social"])
                amounts[taxable][m] += float(payment["montant_net_fiscal"])
        return amounts

    def gross_pensions(self, who: str, raw: RawAdult) -> dict[str, float]:
        answer = raw.pensions
        if isinstance(answer, Failure):
            if answer.status != 404:  # 404: no career known, so no pension
                self.cannot(f"{who}: pensions {answer.status}", ("aspa",))
            return {}
        gross: dict[str, float] = {}
        for pension in answer.get("pensions", []):
            since = date.fromisoformat(pension["date_effet"])
            for m in self.months:
                if since <= _end(m):
                    gross[m] = gross.get(m, 0.0) + float(pension["montant_mensuel_brut"])
        return gross

    def student_months(self, who: str, raw: RawAdult) -> set[str]:
        answer = raw.student
        if isinstance(answer, Failure):
            if answer.status == 404 and answer.code == "25003":
                return set()
            self.cannot(f"{who}: student status {answer.status}")
            return set()
        months = set()
        for admission in answer.get("admissions", []):
            regime = (admission.get("regime_formation") or {}).get("code")
            if not admission.get("est_inscrit") or regime not in _INITIAL_TRAINING:
                continue
            begin = date.fromisoformat(admission["date_debut"])
            end = date.fromisoformat(admission["date_fin"]) if admission["date_fin"] else None
            for m in self.months:
                if begin <= _end(m) and (end is None or end >= _start(m)):
                    months.add(m)
        return months

    def grant_months(self, who: str, raw: RawAdult) -> set[str]:
        """The months the CNOUS's grant is paid: ``duree`` months from its rentrée's."""
        answer = raw.grant
        if answer is None:
            return set()
        if isinstance(answer, Failure):
            if answer.status == 404 and answer.code == "26003":
                return set()
            self.cannot(f"{who}: student grant {answer.status}")
            return set()
        if not answer.get("est_boursier"):
            return set()
        period = answer["periode_versement_bourse"]
        start = date.fromisoformat(period["date_rentree"])
        first = start.year * 12 + start.month - 1
        paid = {
            f"{(first + k) // 12:04d}-{(first + k) % 12 + 1:02d}"
            for k in range(int(period["duree"]))
        }
        return {m for m in self.months if m in paid}

    def registration(self, who: str, raw: RawAdult) -> tuple[set[str], str | None]:
        answer = raw.job_status
        if answer is None:
            return set(), None
        if isinstance(answer, Failure):
            self.cannot(f"{who}: France Travail {answer.status}")
            return set(), None
        inscription = answer["inscription"]
        if int(inscription["categorie"]["code"]) not in _JOBLESS:
            return set(), None
        begin = date.fromisoformat(inscription["date_debut"])
        end = date.fromisoformat(inscription["date_fin"]) if inscription["date_fin"] else None
        months = {m for m in self.months if begin <= _end(m) and (end is None or end >= _start(m))}
        return months, inscription["date_debut"]

    def household(self) -> Situation:
        raw = self.raw
        individus: dict[str, Any] = {}
        for i, adult in enumerate(raw.adults):
            individus[f"adult{i}"] = self.adult(f"adult{i}", adult)
        for reason in raw.unidentified:
            self.cannot(reason)
        adults = list(individus)
        children: list[str] = []
        if isinstance(raw.caf, Failure):
            self.cannot(f"CAF household {raw.caf.status}")
        else:
            for k, child in enumerate(raw.caf.get("enfants", [])):
                individus[f"child{k}"] = {"date_naissance": {"ETERNITY": child["date_naissance"]}}
                children.append(f"child{k}")
        menage: dict[str, Any] = {"personne_de_reference": adults[:1], "enfants": children}
        if len(adults) > 1:
            menage["conjoint"] = adults[1:2]
        caf_zone = self.housing(menage)
        aspa_age = any(
            _age(p["date_naissance"]["ETERNITY"], _end(self.month)) >= ASPA_MIN_AGE
            for p in (individus[a] for a in adults)
        )
        earned = any(
            individus[a]["salaire_net"].get(m, 0.0) > 0 for a in adults for m in self.months[-13:-1]
        )
        if aspa_age and earned:
            self.cannot("a salary (the ASPA counts gross earnings, not served)", ("aspa",))
        entities = {
            "individus": individus,
            "familles": {"famille": {"parents": adults, "enfants": children}},
            "foyers_fiscaux": self.tax_households(adults, children),
            "menages": {"menage": menage},
        }
        return Situation(self.month, entities, "adult0", dict(self.unknown), caf_zone, self.paid())

    def paid(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        housing = self.raw.housing
        if not isinstance(housing, Failure) and isinstance(housing.get("aide_logement"), dict):
            aid = housing["aide_logement"]
            if not aid.get("est_beneficiaire"):
                out["aide_logement"] = {m: 0.0 for m in self.months}
            elif aid.get("montant_mensuel") is not None:
                out["aide_logement"] = {m: float(aid["montant_mensuel"]) for m in self.months}
        base = self.family_base()
        if base is not None:
            year = self.month[:4]
            out["prestations_familiales_base_ressources"] = {
                m: base for m in self.months if m[:4] == year
            }
        asf = self.raw.adults[0].asf if self.raw.adults else None
        if asf is not None and not isinstance(asf, Failure) and not asf.get("est_beneficiaire"):
            out["asf"] = {m: 0.0 for m in self.months}
        return out

    def housing(self, menage: dict[str, Any]) -> int | None:
        answer = self.raw.housing
        if isinstance(answer, Failure):
            self.cannot(f"housing {answer.status}", ("rsa", "ppa", "css", "aide_logement"))
            return None
        occupancy = _OCCUPANCY.get(str(answer["statut_occupation"]))
        if occupancy is None:
            self.cannot(f"occupancy {answer['statut_occupation']}")
            occupancy = "non_renseigne"
        menage["statut_occupation_logement"] = {m: occupancy for m in self.months}
        menage["depcom"] = {m: str(answer["code_cog_insee_commune"]) for m in self.months}
        if occupancy in ("locataire_vide", "locataire_meuble"):
            rents = {h["mois"]: float(h["loyer"]) for h in answer.get("historique_loyers", [])}
            for m in self.months:
                if m not in rents:
                    self.cannot(f"rent {m}", ("aide_logement",))
            menage["loyer"] = {m: rents.get(m, 0.0) for m in self.months}
        zone = answer.get("zone")
        return int(zone) if zone is not None else None

    def family_base(self) -> float | None:
        """The family benefits' resources of year N-2 (CSS D521-4): the revenu fiscal de
        référence of the tax household of the person asked, when it holds the whole couple
        (or there is no partner); else None, and OpenFisca computes them."""
        tax = self.raw.tax_n2
        if tax is None or isinstance(tax, Failure):
            return None
        if len(self.raw.adults) > 1 and len(tax.get("declarants", [])) != 2:
            return None
        return float(tax["revenu_fiscal_reference"])

    def tax_households(self, adults: list[str], children: list[str]) -> dict[str, Any]:
        joint = False
        tax = self.raw.adults[0].tax if self.raw.adults else None
        if tax is not None and not isinstance(tax, Failure):
            joint = len(tax.get("declarants", [])) == 2 and len(adults) == 2
        if joint:
            return {"foyer0": {"declarants": adults, "personnes_a_charge": children}}
        foyers: dict[str, Any] = {}
        for i, adult in enumerate(adults):
            foyers[f"foyer{i}"] = {
                "declarants": [adult],
                "personnes_a_charge": children if i == 0 else [],
            }
        return foyers


def _paid_job_seeker(benefit: dict[str, float], months: list[str]) -> tuple[set[str], str | None]:
    """Without France Travail's answer: a job seeker in the months an unemployment benefit is
    declared (it is paid to registered job seekers only, Code du travail L5421-1 and
    following), since the first month of the latest run of such months."""
    paid = {m for m in months if benefit.get(m, 0.0) > 0}
    if not paid:
        return set(), None
    start = max(paid)
    while shift(start, -1) in paid:
        start = shift(start, -1)
    return paid, f"{start}-01"


def build(raw: RawHousehold) -> Situation:
    """The household's situation for ``raw.month``, with what it cannot decide."""
    return _Builder(raw).household()
