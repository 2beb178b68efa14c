"""Scenario households turned into the population's own drafts, after the generated ones.

The drafts are frozen by the same code as generated persons, so every agency serves scenario
persons through its ordinary code path. A file written for one reference month is moved as a
whole to the population's month (births, payments, rights: everything shifts by the same
number of months), so that ``unefois sandbox`` at the current month still has a 35-year-old
with 24 months of stable history.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date

from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.person import (
    TURNOVER_CATEGORIES,
    Address,
    Housing,
    JobSeeker,
    Pension,
    Right,
    Stream,
)
from sandbox.scenario_spec import MemberSpec, ResourceSpec, Scenario, ScenarioSet, Segment
from sandbox.taxable import reference_income

_LETTERS = "ABCDEFGHJK"  # as the generator's France Travail identifiers
_JOINT = ("marie", "pacse")


@dataclass(frozen=True, slots=True)
class DeclaredStream(Stream):
    """A payment whose net taxable amount was written down rather than derived."""

    declared_fiscal: float = 0.0

    @property
    def net_fiscal(self) -> float:
        return self.declared_fiscal


@dataclass(frozen=True)
class Shift:
    months: int

    def month(self, month: int | None) -> int | None:
        return None if month is None else month + self.months

    def day(self, day: date | None) -> date | None:
        return None if day is None else self.date(day)

    def date(self, day: date) -> date:
        number = day.year * 12 + day.month - 1 + self.months
        year, month = number // 12, number % 12 + 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ScenarioDrafts:
    persons: list[PersonDraft]
    households: list[HouseholdDraft]
    scenario_of: dict[int, str]  # person index → scenario id


def build_drafts(
    scenarios: ScenarioSet, reference: int, first_person: int, first_household: int
) -> ScenarioDrafts:
    shift = Shift(reference - scenarios.reference)
    out = ScenarioDrafts([], [], {})
    for scenario in scenarios.scenarios:
        household = _household(scenario, first_household + len(out.households), shift)
        out.households.append(household)
        for member in scenario.members:
            index = first_person + len(out.persons)
            out.persons.append(_person(member, index, household.id, reference, shift))
            (household.children if member.child else household.adults).append(index)
            out.scenario_of[index] = scenario.id
    return out


def _household(scenario: Scenario, hid: int, shift: Shift) -> HouseholdDraft:
    spec = scenario.housing
    address = Address(spec.numero, spec.voie, spec.commune)
    draft = HouseholdDraft(hid, scenario.kind, [], [], scenario.situation, address)
    draft.regime = scenario.regime
    draft.occupancy = spec.occupancy
    revised = shift.month(spec.revised)
    assert revised is not None
    draft.housing = Housing(
        spec.occupancy, spec.rent, spec.charges, revised, spec.aid_kind, spec.aid_amount
    )
    return draft


def _person(
    member: MemberSpec, index: int, household: int, reference: int, shift: Shift
) -> PersonDraft:
    identity = member.identity
    born = shift.date(identity.date_naissance)
    person = PersonDraft(index, replace(identity, date_naissance=born), household, member.activity)
    for resource in member.resources:
        person.streams.extend(_streams(resource, shift))
        if resource.nature == "pension":
            person.pensions.append(_pension(resource, shift))
    if member.history:
        person.missing_months = {m + shift.months for m in member.missing}
    else:
        # Nothing was ever declared: every month GIP-MDS can be asked about is absent.
        person.missing_months = set(range(reference - 23, reference + 1))
    for name, right in member.rights:
        person.rights[name] = Right(
            shift.date(right.since), right.amount, right.with_increase, shift.day(right.renewal)
        )
    person.truth = dict(member.truth)
    if member.seeker is not None:
        letter = _LETTERS[index % len(_LETTERS)]
        person.job_seeker = JobSeeker(
            f"{1000000 + index:07d}{letter}",
            shift.date(member.seeker.since),
            shift.day(member.seeker.until),
            member.seeker.category,
        )
    person.unknown_to_caf = not member.known_to_caf
    return person


def _streams(resource: ResourceSpec, shift: Shift) -> list[Stream]:
    return [
        DeclaredStream(
            resource.payer_siret,
            resource.payer_type,
            resource.nature,
            segment.net_social,
            shift.month(segment.start),
            shift.month(segment.end),
            category=resource.category,
            declared_fiscal=segment.net_fiscal,
        )
        for segment in resource.segments
    ]


def _pension(resource: ResourceSpec, shift: Shift) -> Pension:
    net = resource.segments[-1].net_social
    # The sandbox's pensions are paid 91 % of gross (social contributions of retirees).
    gross = resource.gross if resource.gross is not None else round(net / 0.91, 2)
    assert resource.effective is not None
    return Pension(
        resource.regime,
        resource.payer_siret,
        resource.pension_kind,
        gross,
        net,
        shift.date(resource.effective),
    )


# --- the DGFiP's view, to check what a file says of it ----------------------------------------


def _pays(segment: Segment, month: int) -> bool:
    return (segment.start is None or segment.start <= month) and (
        segment.end is None or month <= segment.end
    )


def derived_tax(scenario: Scenario, year: int) -> tuple[int, float]:
    """The RFR and parts the DGFiP serves for the first adult (as ``agencies/dgfip.py``)."""
    adults = scenario.adults
    joint = scenario.situation in _JOINT
    declarants = adults if joint else adults[:1]
    months = range(year * 12, year * 12 + 12)
    taxable = sum(
        segment.net_fiscal
        for member in declarants
        for resource in member.resources
        if resource.category is None
        for segment in resource.segments
        for month in months
        if _pays(segment, month)
    )
    turnovers = [
        (
            category,
            sum(s.net_social for r in own for s in r.segments for m in months if _pays(s, m)),
        )
        for member in declarants
        for category in TURNOVER_CATEGORIES
        if (own := [r for r in member.resources if r.category == category])
    ]
    dependants = len(scenario.children)
    parts = float(len(declarants)) + 0.5 * min(dependants, 2) + 1.0 * max(0, dependants - 2)
    if not joint and dependants:
        parts += 0.5
    return reference_income(taxable, turnovers), parts
