"""Couples in a campaign: the partner is identified by the civil registry, their resources
read, both accesses audited under the campaign's purpose; a partner who cannot be told from
a homonym leaves the person unevaluated; the partner is never offered anything."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit import AuditFilter
from connectors import PivotIdentity
from exchange import AUDIT_SECTOR
from proactive.campaign import PURPOSE, SECTOR, CampaignRunner
from proactive.partners import Completion
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from sandbox.person import Identity, Person
from sandbox.population import Population
from tests.proactive.test_campaign import settings_for
from tests.sandbox.twins import with_twin

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
MONTH = "2025-06"
RECIPIENT = "13002526500013"
COUPLE = "couple-deux-enfants-salaire-1400"  # PPA non-claimant, the partner with no income
CONFIG = SandboxConfig(size=40, reference_month=MONTH)


def couple(population: Population) -> tuple[Person, Person]:
    """(the earner, who does not claim the PPA; their partner) of the scenario couple."""
    adults = [
        population.persons[i]
        for i, scenario in population.scenario_of.items()
        if scenario == COUPLE and i in population.household_of(population.persons[i]).adults
    ]
    earner = next(p for p in adults if p.truth.ppa_non_claimant)
    partner = next(p for p in adults if p is not earner)
    return earner, partner


def pivot(identity: Identity) -> PivotIdentity:
    return PivotIdentity(
        identity.nom_naissance,
        identity.prenoms,
        identity.date_naissance,
        identity.sexe,
        identity.code_pays_naissance,
        identity.code_commune_naissance,
        identity.nom_usage,
    )


@pytest.fixture(scope="module")
def population() -> Population:
    return CONFIG.population()


@pytest.fixture(scope="module")
def sandbox(population: Population) -> Iterator[RunningSandbox]:
    with start_in_thread(CONFIG, population) as running:
        yield running


@pytest.fixture(scope="module")
def twinned(population: Population) -> Iterator[RunningSandbox]:
    """The same sandbox, where a generated adult is the partner's homonym born elsewhere."""
    _, partner = couple(population)
    stranger = next(
        p for p in population.persons if p.index not in population.scenario_of and not p.date_deces
    )
    with start_in_thread(CONFIG, with_twin(population, partner, stranger)) as running:
        yield running


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
        yield built


@pytest.fixture
async def twinned_services(twinned: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(twinned, tmp_path), lambda: NOW) as built:
        yield built


def runner(services: Services) -> CampaignRunner:
    return CampaignRunner(
        services.exchange,
        services.offers,
        services.outbox,
        services.pseudonyms,
        lambda: NOW,
        recipient=RECIPIENT,
    )


async def test_a_couple_non_claimant_is_evaluated_with_the_partner_and_offered(
    services: Services, population: Population
) -> None:
    earner, partner = couple(population)
    summary = await runner(services).run([pivot(earner.identity)], "ppa", MONTH, "ppa-couples")
    assert summary.fetched == 1 and summary.errors == 0
    assert summary.partners_fetched == 1 and summary.partners_unresolved == 0
    assert summary.skipped_incomplete == 0 and summary.eligible == 1
    assert summary.offers_created == 1
    offers = await services.offers.for_campaign("ppa-couples")
    assert [o.person for o in offers] == [
        services.pseudonyms.pseudonym(pivot(earner.identity), SECTOR)
    ]
    assert offers[0].monthly_amount is not None and offers[0].monthly_amount > 0
    # The partner is never offered anything through their partner's examination.
    partner_pseudonym = services.pseudonyms.pseudonym(pivot(partner.identity), SECTOR)
    assert all(o.person != partner_pseudonym for o in offers)


async def test_the_partner_accesses_are_audited_under_the_campaign_purpose(
    services: Services, population: Population
) -> None:
    earner, partner = couple(population)
    await runner(services).run([pivot(earner.identity)], "ppa", MONTH, "ppa-audit")
    about = services.pseudonyms.pseudonym(pivot(partner.identity), AUDIT_SECTOR)
    page = await services.audit_reader.entries(AuditFilter(purpose=PURPOSE, person=about), first=10)
    entries = [s.entry for s in page.items]
    got = sorted((e.released, e.agencies, e.outcome, e.object) for e in entries)
    # The partner's resources and AAH status, as an interactive query reads them.
    assert got == [
        (("benefits.aah", "resources"), ("cnaf", "gip_mds"), "released", "ppa-audit"),
        (("identity",), ("civil_registry",), "released", "ppa-audit"),
    ]
    assert all(e.kind == "person_access" and e.client == "demo-proactive" for e in entries)
    # The examined person's own access is there too, under the same purpose.
    mine = services.pseudonyms.pseudonym(pivot(earner.identity), AUDIT_SECTOR)
    own = await services.audit_reader.entries(AuditFilter(purpose=PURPOSE, person=mine), first=10)
    assert len(own.items) == 1


async def test_a_homonym_partner_leaves_the_person_incomplete(
    twinned_services: Services, population: Population
) -> None:
    earner, partner = couple(population)
    summary = await runner(twinned_services).run(
        [pivot(earner.identity)], "ppa", MONTH, "ppa-twins"
    )
    assert summary.fetched == 1 and summary.partners_fetched == 0
    assert summary.partners_unresolved == 1 and summary.skipped_incomplete == 1
    assert summary.offers_created == 0
    assert await twinned_services.offers.for_campaign("ppa-twins") == []
    # The identification failed and says so, naming nobody; no resources were read.
    page = await twinned_services.audit_reader.entries(
        AuditFilter(purpose=PURPOSE, outcome="failed"), first=10
    )
    assert [(s.entry.person, s.entry.denied, s.entry.agencies) for s in page.items] == [
        (None, (("identity", "AMBIGUOUS"),), ("civil_registry",))
    ]
    about = twinned_services.pseudonyms.pseudonym(pivot(partner.identity), AUDIT_SECTOR)
    partner_entries = await twinned_services.audit_reader.entries(
        AuditFilter(person=about), first=10
    )
    assert partner_entries.items == ()


PENSIONERS = "couple-retraites-petites-pensions"  # ASPA non-claimants, 600 € and 300 € net


async def test_an_aspa_campaign_reads_the_partners_pension_record(
    services: Services, population: Population
) -> None:
    adults = [
        population.persons[i]
        for i, scenario in population.scenario_of.items()
        if scenario == PENSIONERS and i in population.household_of(population.persons[i]).adults
    ]
    claimant, partner = sorted(adults, key=lambda p: p.identity.date_naissance)
    summary = await runner(services).run([pivot(claimant.identity)], "aspa", MONTH, "aspa-couple")
    # Without the partner's gross pensions the ASPA would be left undecided (incomplete).
    assert summary.partners_fetched == 1 and summary.skipped_incomplete == 0
    assert summary.eligible == 1 and summary.offers_created == 1
    about = services.pseudonyms.pseudonym(pivot(partner.identity), AUDIT_SECTOR)
    page = await services.audit_reader.entries(AuditFilter(purpose=PURPOSE, person=about), first=10)
    got = sorted((s.entry.released, s.entry.agencies, s.entry.outcome) for s in page.items)
    assert got == [
        (("benefits.aah", "pension", "resources"), ("cnaf", "cnav", "gip_mds"), "released"),
        (("identity",), ("civil_registry",), "released"),
    ]


class _AgencyDown:
    """The partner's reader, as when an agency fails to answer about the partner."""

    async def complete(self, *args: object) -> Completion:
        return Completion(None, agency_failed=True)


async def test_an_agency_failing_on_the_partner_leaves_the_person_unread(
    services: Services, population: Population
) -> None:
    earner, _ = couple(population)
    examined = runner(services)
    examined._partners = _AgencyDown()  # type: ignore[assignment]
    summary = await examined.run([pivot(earner.identity)], "ppa", MONTH, "ppa-partner-down")
    # Not "unresolved" nor "incomplete": asked again later, the partner may be read.
    assert summary.errors == 1 and summary.partners_unresolved == 0
    assert summary.fetched == 0  # each person counted once: examined = fetched + errors
    assert summary.skipped_incomplete == summary.eligible == summary.offers_created == 0
    assert await services.offers.for_campaign("ppa-partner-down") == []
