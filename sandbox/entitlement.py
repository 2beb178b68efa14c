"""Housing, benefits and edge cases: the passes that follow incomes.

Rights are decided from the incomes drawn before, with deliberate non-take-up: about a
third of households entitled to the RSA, 30 % of those entitled to the prime d'activité,
half of those entitled to the ASPA and to the CSS (15 % of RSA recipients for the CSS)
receive nothing, and ``truth`` keeps the answer for later precision/recall measures.

Entitlement is the law's, not a rule of thumb: ``sandbox.law`` runs OpenFisca-France over
every household's generated facts (the housing aid first, which 85 % of the tenants entitled
to it receive, then the RSA, PPA, ASPA and CSS that count it), so that a detector is
measured against what the law says of each person, not against a simplification of it.
Whether an entitled person receives the benefit is the deliberate non-take-up draw.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.gazetteer import COMMUNE_BY_COG, COMMUNES, STREETS
from sandbox.law import CSS_MONTHS, HouseholdLaw, by_law, housing_aid_by_law
from sandbox.months import add_years, age_on, first_day, month_of
from sandbox.person import Address, AidKind, Housing, Occupancy, Right

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
        # Every fact the law counts (incomes, AAH, ASF, housing and housing aid) is drawn
        # first; the law then says who is entitled, and take-up is drawn from that.
        for household in self.households:
            self._allowances(household)
            self._housing(household)
        aid = housing_aid_by_law(self.persons, self.households, self.ref)
        for household in self.households:
            self._housing_aid(household, aid[household.id])
        law = by_law(self.persons, self.households, self.ref)
        for household in self.households:
            self._rights(household, law[household.id])
        self._edge_cases()

    def _since(self, earliest: int, latest: int) -> date:
        return first_day(self.rng.randint(earliest, max(earliest, latest)))

    # --- rights ---------------------------------------------------------------------------

    def _allowances(self, h: HouseholdDraft) -> None:
        """AAH and ASF: paid whatever the law says of the rest, and counted by it."""
        rng = self.rng
        adults = [self.persons[i] for i in h.adults]
        for person in adults:
            age = age_on(person.identity.date_naissance, self.ref_date)
            if person.activity == "inactif" and 20 <= age <= 64 and rng.random() < 0.15:
                since = self._since(self.first - 60, self.ref - 1)
                person.rights["aah"] = Right(since, AAH_AMOUNT)
        if h.kind == "single_parent" and rng.random() < 0.45:
            since = self._since(self.first - 24, self.ref)
            # Paid for a child: never before the eldest was born (the month of its birth).
            births = [self.persons[i].identity.date_naissance for i in h.children]
            if births:
                since = max(since, first_day(month_of(min(births))))
            self.persons[h.adults[0]].rights["asf"] = Right(since, ASF_AMOUNT)

    def _rights(self, h: HouseholdDraft, law: HouseholdLaw) -> None:
        rng = self.rng
        adults = [self.persons[i] for i in h.adults]
        if law.rsa > 0:
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
        if law.ppa > 0:
            takes_up = rng.random() < 0.7
            since = self._since(self.first, self.ref)
            for person in adults:
                person.truth["ppa_eligible"] = True
                if takes_up:
                    person.rights["ppa"] = Right(since, None, h.kind == "single_parent")
                else:
                    person.truth["ppa_non_claimant"] = True
        self._css(h, law)
        self._aspa(law)

    def _css(self, h: HouseholdDraft, law: HouseholdLaw) -> None:
        """The CSS covers the whole household. A right runs a year from the month it was
        granted, with the tier the law gave that month: resources may have changed since."""
        rng = self.rng
        members = [self.persons[i] for i in h.adults + h.children]
        months = range(self.ref - CSS_MONTHS + 1, self.ref + 1)
        granted = [(m, t) for m, t in zip(months, law.css, strict=True) if t != "none"]
        if law.css_now != "none":
            on_rsa = any("rsa" in self.persons[i].rights for i in h.adults)
            takes_up = rng.random() < (0.85 if on_rsa else 0.5)
            for person in members:
                person.truth["css_eligible"] = True
                person.truth["css_participation"] = law.css_now == "participation"
                if not takes_up:
                    person.truth["css_non_claimant"] = True
            if not takes_up:
                return
        elif not granted or rng.random() < 0.5:
            return  # never entitled in the year, or entitled once and did not ask
        month, tier = rng.choice(granted)
        since = first_day(month)
        right = Right(since, None, tier == "participation", add_years(since, 1))
        for person in members:
            person.rights["css"] = right

    def _aspa(self, law: HouseholdLaw) -> None:
        """The ASPA is paid to each member of ASPA age; the couple asks, or not, together."""
        if law.aspa <= 0 or not law.aspa_age:
            return
        seniors = [self.persons[i] for i in law.aspa_age]
        amount = round(law.aspa / len(seniors), 2)
        takes_up = self.rng.random() < 0.5
        for person in seniors:
            person.truth["aspa_eligible"] = True
            if takes_up:
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
        # Whether the household would ask for the housing aid; the amount is the law's, known
        # once every household's facts are (``_housing_aid``).
        kind: AidKind | None = "ALF" if h.children else rng.choice(_SINGLE_AIDS)
        if rng.random() >= 0.85:
            kind = None
        previous = round(rent * rng.uniform(0.75, 1.1), 2) if h.moved_in is not None else None
        revised = rng.randint(self.ref - 11, self.ref)
        h.housing = Housing(occupancy, rent, charges, revised, kind, None, previous)

    def _housing_aid(self, h: HouseholdDraft, amount: float) -> None:
        """The housing aid the law gives, paid when the household asked for it."""
        housing = h.housing
        assert housing is not None
        if housing.aid_kind is not None and amount > 0:
            h.housing = dataclasses.replace(housing, aid_amount=amount)
        elif housing.aid_kind is not None:
            h.housing = dataclasses.replace(housing, aid_kind=None)

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
