"""Housing, benefits and edge cases: the passes that follow incomes.

Rights are decided from the incomes drawn before, with deliberate non-take-up: about a
third of households entitled to the RSA and half of the persons that look ASPA-eligible
receive nothing, and ``truth`` keeps the answer for later precision/recall measures.

RSA entitlement is the law's, not a rule of thumb: ``rsa_by_law`` runs OpenFisca-France's
``rsa`` over every household's generated facts (see its docstring), so that a detector is
measured against what the law says of each person, not against a simplification of it.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.gazetteer import COMMUNE_BY_COG, COMMUNES, STREETS
from sandbox.months import add_years, age_on, first_day, month_of, month_text
from sandbox.person import Address, AidKind, Housing, Occupancy, Right

ASPA_CEILING = {1: 1034.28, 2: 1605.73}  # monthly, 2025
AAH_AMOUNT = 1033.32
ASF_AMOUNT = 199.19
_SINGLE_AIDS: list[AidKind] = ["APL", "ALS"]
_RENT_PER_M2 = {1: 26.0, 2: 13.5, 3: 9.5}


class Entitlement:
    def __init__(
        self,
        rng: random.Random,
        persons: list[PersonDraft],
        households: list[HouseholdDraft],
        reference_month: int,
        ref_date: date,
    ) -> None:
        self.rng = rng
        self.persons = persons
        self.households = households
        self.ref = reference_month
        self.ref_date = ref_date
        self.first = reference_month - 23

    def run(self) -> None:
        # Every fact the RSA counts (incomes, AAH, ASF, housing and housing aid) is drawn
        # first; the law then says who is entitled, and take-up is drawn from that.
        for household in self.households:
            self._allowances(household)
            self._housing(household)
        rsa = rsa_by_law(self.persons, self.households, self.ref)
        for household in self.households:
            self._rights(household, rsa[household.id])
        self._edge_cases()

    def _since(self, earliest: int, latest: int) -> date:
        return first_day(self.rng.randint(earliest, max(earliest, latest)))

    # --- rights ---------------------------------------------------------------------------

    def _allowances(self, h: HouseholdDraft) -> None:
        """AAH and ASF (the RSA counts them) and the prime d'activité, before the RSA."""
        rng = self.rng
        adults = [self.persons[i] for i in h.adults]
        for person in adults:
            age = age_on(person.identity.date_naissance, self.ref_date)
            if person.activity == "inactif" and 20 <= age <= 64 and rng.random() < 0.15:
                since = self._since(self.first - 60, self.ref - 1)
                person.rights["aah"] = Right(since, AAH_AMOUNT)
        recent = range(self.ref - 2, self.ref + 1)
        no_income = all(p.net_social(m) == 0 for p in adults for m in recent)
        earned = sum(p.earned(m) for p in adults for m in recent) / 3
        if 0 < earned / len(adults) <= 1900 and not no_income:
            takes_up = rng.random() < 0.7
            since = self._since(self.first, self.ref)
            for person in adults:
                person.truth["ppa_eligible"] = True
                if takes_up:
                    person.rights["ppa"] = Right(since, None, h.kind == "single_parent")
                else:
                    person.truth["ppa_non_claimant"] = True
        if h.kind == "single_parent" and rng.random() < 0.45:
            since = self._since(self.first - 24, self.ref)
            self.persons[h.adults[0]].rights["asf"] = Right(since, ASF_AMOUNT)

    def _rights(self, h: HouseholdDraft, rsa: float) -> None:
        rng = self.rng
        adults = [self.persons[i] for i in h.adults]
        ages = [age_on(p.identity.date_naissance, self.ref_date) for p in adults]
        if rsa > 0:
            takes_up = rng.random() < 2 / 3
            last_paid = max(
                (m for p in adults for m in range(self.first, self.ref + 1) if p.net_social(m) > 0),
                default=None,
            )
            if last_paid is None:
                since = self._since(self.first - 48, self.first)
            elif last_paid < self.ref:
                since = first_day(last_paid + 1)
            else:  # incomes still paid, below the RSA's guaranteed amount
                since = self._since(self.first, self.ref)
            for person in adults:
                person.truth["rsa_eligible"] = True
                if takes_up:
                    person.rights["rsa"] = Right(since, None, h.kind == "single_parent")
                else:
                    person.truth["rsa_non_claimant"] = True
        self._css(h, adults)
        self._aspa(adults, ages)

    def _css(self, h: HouseholdDraft, adults: list[PersonDraft]) -> None:
        rng = self.rng
        units = len(adults) + 0.5 * len(h.children)
        income = sum(p.net_social(self.ref) for p in adults) / units
        on_rsa = any("rsa" in p.rights for p in adults)
        if on_rsa and rng.random() < 0.85:
            participation: bool | None = False
        elif not on_rsa and income < 900 and rng.random() < 0.5:
            participation = income >= 700
        else:
            return
        since = self._since(self.ref - 11, self.ref)
        right = Right(since, None, participation, add_years(since, 1))
        for index in h.adults + h.children:
            self.persons[index].rights["css"] = right

    def _aspa(self, adults: list[PersonDraft], ages: list[int]) -> None:
        seniors = [p for p, a in zip(adults, ages, strict=True) if a >= 65]
        if not seniors:
            return
        ceiling = ASPA_CEILING[min(2, len(adults))]
        total = sum(p.pension_net() for p in adults)
        if total >= ceiling:
            return
        amount = round((ceiling - total) / len(seniors), 2)
        for person in seniors:
            person.truth["aspa_eligible"] = True
            if self.rng.random() < 0.5:
                since = max(p.since for p in person.pensions) if person.pensions else self.ref_date
                person.rights["aspa"] = Right(
                    max(since, add_years(person.identity.date_naissance, 65)), amount
                )
            else:
                person.truth["aspa_non_claimant"] = True

    # --- housing --------------------------------------------------------------------------

    def _housing(self, h: HouseholdDraft) -> None:
        rng = self.rng
        adults = [self.persons[i] for i in h.adults]
        if h.kind.startswith("pensioner"):
            weights: dict[Occupancy, int] = {
                "proprietaire": 70,
                "locataire": 25,
                "heberge_gratuit": 5,
            }
        elif h.kind == "student":
            weights = {"locataire_meuble": 50, "heberge_gratuit": 40, "locataire": 10}
        elif h.kind == "single":
            weights = {
                "locataire": 55,
                "proprietaire": 25,
                "heberge_gratuit": 16,
                "sans_domicile": 4,
            }
        else:
            weights = {"locataire": 50, "proprietaire": 45, "heberge_gratuit": 5}
        occupancy: Occupancy = rng.choices(list(weights), list(weights.values()))[0]
        if occupancy == "sans_domicile" and any(p.net_social(self.ref) > 0 for p in adults):
            occupancy = "heberge_gratuit"
        if rng.random() < 0.06:
            h.moved_in = rng.randint(self.first + 1, self.ref)
            old = rng.choice([c for c in COMMUNES if c.cog != h.address.commune])
            h.previous_address = Address(rng.randint(1, 120), rng.choice(STREETS), old.cog)
        h.regime = "MSA" if rng.random() < 0.05 else "CNAF"
        if occupancy not in ("locataire", "locataire_meuble"):
            h.housing = Housing(occupancy, None, None, self.ref, None, None)
            return
        zone = COMMUNE_BY_COG[h.address.commune].zone
        surface = rng.randint(18, 30) if len(h.adults + h.children) == 1 else rng.randint(40, 95)
        rent = round(surface * _RENT_PER_M2[zone] * rng.uniform(0.8, 1.2), 2)
        charges = round(rent * rng.uniform(0.08, 0.18), 2)
        income = sum(p.net_social(self.ref) for p in adults)
        kind: AidKind | None = None
        amount = None
        if income < 1300 + 350 * len(h.children) and rng.random() < 0.85:
            kind = "ALF" if h.children else rng.choice(_SINGLE_AIDS)
            amount = round(
                max(40.0, min(rent * 0.75, 420 + 90 * len(h.children) - income * 0.2)), 2
            )
        previous = round(rent * rng.uniform(0.75, 1.1), 2) if h.moved_in is not None else None
        revised = rng.randint(self.ref - 11, self.ref)
        h.housing = Housing(occupancy, rent, charges, revised, kind, amount, previous)

    # --- edge cases -----------------------------------------------------------------------

    def _edge_cases(self) -> None:
        rng = self.rng
        persons = self.persons
        adults = [p for p in persons if p.activity != "enfant"]
        count = max(1, len(persons) // 2000)
        old = [p for p in adults if age_on(p.identity.date_naissance, self.ref_date) >= 75]
        for person in self._pick(old or adults, count):
            person.date_deces = self.ref_date - timedelta(days=rng.randint(5, 300))
        caf_rights = ("rsa", "ppa", "aah", "asf")
        quiet = [
            p
            for p in adults
            if not any(r in p.rights for r in caf_rights) and not p.truth and p.date_deces is None
        ]
        for person in self._pick(quiet or adults, count):
            person.unknown_to_caf = True
        alone = [
            p
            for p in adults
            if len(self.households[p.household].adults) == 1
            and not self.households[p.household].children
            and p.date_deces is None
            and not p.unknown_to_caf
        ]
        for person in self._pick(alone[len(alone) // 2 :] or alone, count):
            self._make_homonym(person, adults)
        if not any(p.missing_months for p in persons):
            earners = [p for p in adults if p.streams] or adults
            earners[0].missing_months.add(self.ref - 4)

    def _pick(self, pool: list[PersonDraft], count: int) -> list[PersonDraft]:
        return self.rng.sample(pool, min(count, len(pool)))

    def _make_homonym(self, person: PersonDraft, adults: list[PersonDraft]) -> None:
        me = person.identity
        for other in adults:
            them = other.identity
            if (
                other.index != person.index
                and other.homonym_of is None
                and them.sexe == me.sexe
                and them.date_naissance != me.date_naissance
                and (them.code_commune_naissance, them.code_pays_naissance)
                != (me.code_commune_naissance, me.code_pays_naissance)
            ):
                person.identity = dataclasses.replace(
                    me, nom_naissance=them.nom_naissance, prenoms=them.prenoms, nom_usage=None
                )
                person.homonym_of = other.index
                other.homonym_of = person.index
                return


# --- the RSA by the law ---------------------------------------------------------------------

# OpenFisca-France is what the gateway's rules run too (pinned 176.1.8); built once a process.
_SYSTEM: Any = None
# Stream nature → (net social variable, net taxable variable). Self-employed income is
# counted as a monthly activity income (see ``rsa_by_law``).
_INCOME_VARIABLES = {
    "salaire": ("salaire_net", "salaire_imposable"),
    "revenu_independant": ("salaire_net", "salaire_imposable"),
    "allocation_chomage": ("chomage_net", "chomage_imposable"),
    "pension": ("retraite_nette", "retraite_imposable"),
}
_INDIVIDUAL_AMOUNTS = (
    "salaire_net",
    "salaire_imposable",
    "chomage_net",
    "chomage_imposable",
    "retraite_nette",
    "retraite_imposable",
    "retraite_brute",
    "aah",
    "ass",
)
_OCCUPANCY = {
    "locataire": "locataire_vide",
    "locataire_meuble": "locataire_meuble",
    "proprietaire": "proprietaire",
    "heberge_gratuit": "loge_gratuitement",
    "sans_domicile": "sans_domicile",
}
# Months before January of year N-2 that OpenFisca may still read (yearly tax bases): fed
# as zeros, which is cheap, rather than rebuilt from default gross amounts.
_ZERO_MONTHS = 72


def _system() -> Any:
    global _SYSTEM
    if _SYSTEM is None:
        from openfisca_france import FranceTaxBenefitSystem

        _SYSTEM = FranceTaxBenefitSystem()
    return _SYSTEM


def rsa_by_law(
    persons: Sequence[PersonDraft], households: Sequence[HouseholdDraft], reference: int
) -> list[float]:
    """The monthly RSA each household is entitled to for ``reference``, by household id.

    One vectorised OpenFisca-France simulation of ``rsa`` (Code de l'action sociale et des
    familles, articles L262-2 to L262-10 and R262-1 to R262-11) over the generated facts,
    fed month by month from January of year N-2 (the family benefits counted by the RSA
    read that year's incomes) to the reference month:

    - the foyer: the household, adults as demandeur and conjoint, children as enfants
      (married and PACS partners share a tax household). Under 25 without a child is not
      entitled (L262-4, 1°), nor is a student (L262-4, 3°);
    - resources (R262-6), averaged over the three months before the reference month
      (R262-7): net salaries, unemployment benefits and pensions as paid, the AAH and the
      ASF the CAF pays, and the family benefits and the ASPA OpenFisca derives from the
      facts (gross pensions for the ASPA: the RSA is subsidiary to it, L262-10). A
      professional income that stops in the reference month is neutralised (R262-13).
      Self-employed income is counted as a monthly activity income: the yearly assessment
      of it (R262-19 to R262-25) is not modelled;
    - the housing flat rate (R262-9 and R262-10): the housing aid actually paid, or being
      an owner or lodged free of charge;
    - an amount below the minimum paid (6 € a month) is not paid.
    """
    system = _system()
    from openfisca_core.simulation_builder import SimulationBuilder

    order: list[int] = []
    families: list[str] = []
    family_roles: list[str] = []
    dwelling_roles: list[str] = []
    foyers: list[str] = []
    foyer_roles: list[str] = []
    foyer_ids: list[str] = []
    for h in households:
        foyer_ids.append(f"f{h.id}")
        joint = h.situation in ("marie", "pacse")
        for rank, index in enumerate(h.adults):
            order.append(index)
            families.append(f"g{h.id}")
            family_roles.append("demandeur" if rank == 0 else "conjoint")
            dwelling_roles.append("personne_de_reference" if rank == 0 else "conjoint")
            if rank > 0 and not joint:
                foyers.append(f"f{h.id}b")
                foyer_ids.append(f"f{h.id}b")
                foyer_roles.append("declarant_principal")
            else:
                foyers.append(f"f{h.id}")
                foyer_roles.append("declarant_principal" if rank == 0 else "conjoint")
        for index in h.children:
            order.append(index)
            families.append(f"g{h.id}")
            family_roles.append("enfant")
            dwelling_roles.append("enfant")
            foyers.append(f"f{h.id}")
            foyer_roles.append("personne_a_charge")
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("individu", [str(i) for i in order])
    group_ids = [f"g{h.id}" for h in households]
    members = np.array(families)
    entity = builder.declare_entity("famille", group_ids)
    builder.join_with_persons(entity, members, family_roles)
    entity = builder.declare_entity("menage", group_ids)
    builder.join_with_persons(entity, members, dwelling_roles)
    entity = builder.declare_entity("foyer_fiscal", foyer_ids)
    builder.join_with_persons(entity, np.array(foyers), foyer_roles)
    simulation = builder.build(system)
    simulation.trace = False

    first = (reference // 12 - 2) * 12  # January of year N-2
    months = range(first, reference + 1)
    count = len(order)
    births = [persons[i].identity.date_naissance for i in order]
    simulation.set_input("date_naissance", "ETERNITY", np.array(births, dtype="datetime64[D]"))
    amounts = {
        name: np.zeros((count, len(months)), dtype=np.float32) for name in _INDIVIDUAL_AMOUNTS
    }
    student = np.zeros(count, dtype=bool)

    def paid(table: np.ndarray, row: int, start: int | None, end: int | None, value: float) -> None:
        lo = 0 if start is None else max(0, start - first)
        hi = len(months) if end is None else min(len(months), end - first + 1)
        if lo < hi:
            table[row, lo:hi] += value

    for row, index in enumerate(order):
        person = persons[index]
        student[row] = person.activity == "etudiant"
        for stream in person.streams:
            net, taxable = _INCOME_VARIABLES[stream.nature]
            paid(amounts[net], row, stream.start, stream.end, stream.net_social)
            paid(amounts[taxable], row, stream.start, stream.end, stream.net_fiscal)
        for pension in person.pensions:
            paid(
                amounts["retraite_brute"], row, month_of(pension.since), None, pension.monthly_gross
            )
        aah = person.rights.get("aah")
        if aah is not None and aah.amount is not None:
            paid(amounts["aah"], row, month_of(aah.since), None, aah.amount)
    zeros = np.zeros(count, dtype=np.float32)
    for month in range(first - _ZERO_MONTHS, first):
        for name in _INDIVIDUAL_AMOUNTS:
            simulation.set_input(name, month_text(month), zeros)
    for column, month in enumerate(months):
        for name, table in amounts.items():
            simulation.set_input(name, month_text(month), table[:, column])
        simulation.set_input("etudiant", month_text(month), student)

    size = len(households)
    asf = np.zeros((size, len(months)), dtype=np.float32)
    aid = np.zeros(size, dtype=np.float32)
    rents = np.zeros(size, dtype=np.float32)
    status = []
    depcom = []
    zones = []
    for row, h in enumerate(households):
        for index in h.adults:
            right = persons[index].rights.get("asf")
            if right is not None and right.amount is not None:
                lo = max(0, month_of(right.since) - first)
                asf[row, lo:] += right.amount
        housing = h.housing
        assert housing is not None
        status.append(_OCCUPANCY[housing.occupancy])
        rents[row] = housing.rent or 0.0
        aid[row] = housing.aid_amount or 0.0
        depcom.append(h.address.commune)
        zones.append(f"zone_{COMMUNE_BY_COG[h.address.commune].zone}")
    period = month_text(reference)
    for column, month in enumerate(months):
        simulation.set_input("asf", month_text(month), asf[:, column])
    # The flat rate reads the dwelling and the housing aid of the month evaluated only.
    simulation.set_input("statut_occupation_logement", period, np.array(status))
    simulation.set_input("loyer", period, rents)
    simulation.set_input("depcom", period, np.array(depcom))
    simulation.set_input("zone_apl", period, np.array(zones))
    simulation.set_input("aide_logement", period, aid)
    rsa = simulation.calculate("rsa", period)
    by_id = [0.0] * (max((h.id for h in households), default=-1) + 1)
    for row, h in enumerate(households):
        by_id[h.id] = round(float(rsa[row]), 2)
    return by_id
