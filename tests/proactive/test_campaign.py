"""Campaigns against the sandbox agencies through the real exchange, store and audit log."""

from __future__ import annotations

import argparse
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit import AuditFilter
from cli.campaign import run_campaign, summary_table
from cli.listing import sandbox_adults
from connectors import PivotIdentity
from proactive.campaign import SECTOR, CampaignRunner
from proactive.population import Subject, identity_from_params
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.upstreams import agency_env

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025
MONTH = "2025-06"
RECIPIENT = "13002526500013"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


def entries(sandbox: RunningSandbox, kind: str, limit: int) -> list[dict[str, Any]]:
    with httpx.Client(timeout=5.0) as client:
        answer = client.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": kind, "limit": limit},
        )
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def adult(sandbox: RunningSandbox, kind: str) -> PivotIdentity:
    found = [e for e in entries(sandbox, kind, 20) if e["role"] == "adult"]
    return identity_from_params(found[0]["personne"])


@pytest.fixture(scope="module")
def people(sandbox: RunningSandbox) -> dict[str, PivotIdentity]:
    return {
        "non_claimant": adult(sandbox, "scenario:seul-35-sans-revenu"),
        "incomplete": adult(sandbox, "scenario:seul-35-mois-manquants"),
        "receiving": adult(sandbox, "rsa"),
    }


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {"UNEFOIS_DATA_DIR": str(data_dir), "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000"}
    return load(env | agency_env(sandbox))


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
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


def person(services: Services, identity: PivotIdentity) -> str:
    return services.pseudonyms.pseudonym(identity, SECTOR)


async def test_a_campaign_tells_only_the_non_claimant(
    services: Services, people: dict[str, PivotIdentity]
) -> None:
    summary = await runner(services).run(people.values(), "rsa", MONTH, "rsa-2025-06")
    offers = await services.offers.for_campaign("rsa-2025-06")
    assert [o.person for o in offers] == [person(services, people["non_claimant"])]
    offer = offers[0]
    assert offer.benefit == "rsa" and offer.month == MONTH and offer.status == "detected"
    assert offer.monthly_amount is not None and offer.monthly_amount > 0
    assert offer.evidence["criteria"] and offer.evidence["inputs"]
    assert summary.examined == summary.fetched == 3
    assert summary.offers_created == 1 and summary.errors == 0
    assert summary.skipped_receiving == 1 and summary.skipped_incomplete == 1
    letters = await services.outbox.due(NOW, 100)
    assert [(m.channel, m.idempotency_key) for m in letters] == [
        ("letter", f"offer:{offer.id}:letter")
    ]
    assert letters[0].payload["offer_id"] == offer.id and letters[0].payload["form"] == "rsa"
    audited = await services.audit_reader.entries(
        AuditFilter(purpose="proactive_detection"), first=50
    )
    assert len(audited.items) == summary.fetched

    again = await runner(services).run(people.values(), "rsa", MONTH, "rsa-2025-06-bis")
    assert again.offers_created == 0 and again.skipped_cooldown_or_opt_out == 1
    assert await services.offers.for_campaign("rsa-2025-06-bis") == []
    assert len(await services.outbox.due(NOW, 100)) == 1


async def test_nobody_who_opted_out_gets_an_offer(
    services: Services, people: dict[str, PivotIdentity]
) -> None:
    await services.offers.opt_out(person(services, people["non_claimant"]), NOW)
    summary = await runner(services).run([people["non_claimant"]], "rsa", MONTH, "c")
    assert summary.eligible == 1 and summary.skipped_cooldown_or_opt_out == 1
    assert await services.offers.for_campaign("c") == []
    assert await services.outbox.due(NOW, 100) == []


async def test_batches_examined_apart_make_the_campaign(
    sandbox: RunningSandbox, services: Services, people: dict[str, PivotIdentity]
) -> None:
    """``examine`` runs one batch and returns its counts; a batch examined again records
    nobody twice and counts its offers as resumed."""
    crowd = [identity_from_params(e["personne"]) for e in entries(sandbox, "adult", 12)]
    everyone = [Subject(i) for i in [*people.values(), *crowd]]
    one = runner(services)
    first = await one.examine(everyone[:7], "rsa", MONTH, "split")
    second = await one.examine(everyone[7:], "rsa", MONTH, "split")
    assert first.examined + second.examined == len(everyone)
    offers = await services.offers.for_campaign("split")
    assert len({o.person for o in offers}) == len(offers)
    assert len(offers) == first.offers_created + second.offers_created
    assert person(services, people["non_claimant"]) in {o.person for o in offers}
    again = await one.examine(everyone[:7], "rsa", MONTH, "split")
    assert again.offers_created == 0
    assert again.offers_resumed + again.skipped_cooldown_or_opt_out == first.offers_created
    assert len(await services.offers.for_campaign("split")) == len(offers)


async def test_the_command_runs_over_the_sandbox_population(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    # The command examines the first adults of the sandbox's listing: as many as it takes to
    # reach one whose data is incomplete, chosen by the listing's flags, not by position.
    everyone = [entry for _, entry in await sandbox_adults(sandbox.urls["civil_registry"], None)]
    first_incomplete = next(
        n for n, e in enumerate(everyone) if e["unknown_to_caf"] or e["missing_months"]
    )
    limit = first_incomplete + 1
    args = argparse.Namespace(
        benefit="rsa",
        month=MONTH,
        population=True,
        from_events=False,
        limit=limit,
        campaign=None,
        batch=None,
        cooldown_days=180,
        recipient=RECIPIENT,
    )
    err = io.StringIO()
    summary = await run_campaign(settings_for(sandbox, tmp_path), args, lambda: NOW, err)
    # The split the sandbox's own listing predicts for the same adults: every agency is up,
    # so every fetch succeeds, and each person lands where their facts put them.
    listed = everyone[:limit]
    assert summary.examined == summary.fetched == len(listed) == limit
    assert summary.errors == 0
    # A partner is read for whoever the CAF knows to live in a couple and not paid the RSA.
    assert summary.partners_fetched == sum(
        "couple" in e["household_kind"] and not e["unknown_to_caf"] and "rsa" not in e["rights"]
        for e in listed
    )
    assert summary.partners_unresolved == 0
    # The CAF holds the RSA record: without it (or with months missing), nothing is concluded.
    incomplete = [e for e in listed if e["unknown_to_caf"] or e["missing_months"]]
    assert summary.skipped_incomplete == len(incomplete) > 0
    assert summary.skipped_receiving == sum("rsa" in e["rights"] for e in listed)
    assert summary.offers_created == sum(e["truth"]["rsa_non_claimant"] for e in listed)
    assert "examined" in summary_table(summary)


async def test_a_campaign_reads_only_what_its_benefit_needs(
    sandbox: RunningSandbox, services: Services, people: dict[str, PivotIdentity]
) -> None:
    """Data minimisation: an RSA campaign does not read the CSS, the PPA or the CNAV's record
    of a 35-year-old; an ASPA campaign reads nobody under the ASPA's age, and of an older
    person neither housing nor studies."""
    senior = adult(sandbox, "scenario:seul-67-sans-revenu")
    rsa = await runner(services).run([people["non_claimant"]], "rsa", MONTH, "rsa-min")
    assert rsa.fetched == 1 and rsa.offers_created == 1
    aspa = await runner(services).run([people["non_claimant"], senior], "aspa", MONTH, "aspa-min")
    assert aspa.examined == 2 and aspa.skipped_age == 1 and aspa.fetched == 1
    assert aspa.offers_created == 1
    got = await services.audit_reader.entries(AuditFilter(purpose="proactive_detection"), first=50)
    by_campaign = {s.entry.object: s.entry for s in got.items}
    assert set(by_campaign) == {"rsa-min", "aspa-min"}  # nobody under 60 was read for the ASPA
    read = set(by_campaign["rsa-min"].released)
    assert "benefits.rsa" in read and "studentStatus" in read
    assert not read & {"benefits.css", "benefits.primeActivite", "pension", "benefits.aspa"}
    assert "cnav" not in by_campaign["rsa-min"].agencies
    read = set(by_campaign["aspa-min"].released)
    assert {"pension", "benefits.aspa", "resources"} <= read
    assert not read & {"housing", "studentStatus", "benefits.asf", "benefits.css"}
    assert "housing" not in by_campaign["aspa-min"].agencies
