"""Renewals as the engine's batches of kind ``renewal``, against the sandbox agencies through
the real exchange, store and audit log: run in-process, or by the worker's middleware on
Dramatiq's stub broker, they decide what one plain run over the same candidates decides;
a batch run again after a crash renews nobody twice; a done batch is not run again.

Each test reverts its renewals at the end: the sandbox's CNAM keeps them until then."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from cli.worker_process import _Workshop
from proactive.engine.broker import batch_actor, enqueue, queue_name
from proactive.engine.local import run_locally
from proactive.engine.planning import plan
from proactive.engine.subjects import candidate_from_json, candidate_to_json
from proactive.engine.tasks import Workshop, examine_batch
from proactive.engine.waiting import summed
from proactive.population import identity_from_params
from proactive.renewal import Candidate, RenewalRunner, Summary
from runtime import Services
from runtime.settings import Settings
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.proactive.test_campaign import settings_for

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025
MONTH = "2025-06"
RECIPIENT = "13002526500013"
CAMPAIGN = "css-renewal-engine"
BATCH = 7
PARAMETERS = {
    "benefit": "css",
    "month": MONTH,
    "recipient": RECIPIENT,
    "within_days": 60,
    "source": "population",
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its own sandbox: renewals change what its CNAM answers until they are reverted.
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def candidates(sandbox: RunningSandbox) -> list[Candidate]:
    """The living adult CSS holders, some with an announced end date and a birth since
    their right started, some with a France Travail id: what the sealed batch must carry."""
    with httpx.Client(timeout=5.0) as http:
        data = http.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "css", "limit": 1000},
        ).json()["data"]
    entries = [e for e in data if e["role"] == "adult" and not e["deceased"]]
    out = []
    for index, entry in enumerate(entries):
        ends_on = date.fromisoformat(entry["css"]["renouvellement"]) if index % 3 == 0 else None
        changes = (NOW.date() - timedelta(days=10),) if index % 5 == 1 else ()
        identity = identity_from_params(entry["personne"])
        out.append(Candidate(identity, ends_on, changes, entry["identifiant_france_travail"]))
    return out


def _runner(services: Services) -> RenewalRunner:
    return RenewalRunner(
        services.exchange,
        services.connectors.cnam,
        services.renewals,
        services.offers,
        services.outbox,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        lambda: NOW,
        recipient=RECIPIENT,
    )


async def _revert_all(services: Services, campaign: str) -> None:
    for row in await services.renewals.for_campaign(campaign):
        await _runner(services).revert(row.id)


async def _reference(settings: Settings, candidates: list[Candidate]) -> tuple[Summary, Counter]:
    """One plain run over every candidate (no engine), reverted: its counts and the reasons of
    its invitations."""
    async with Services.open(settings, lambda: NOW) as services:
        summary = await _runner(services).run(candidates, MONTH, "plain")
        offers = await services.offers.for_campaign("plain")
        reasons = Counter(o.evidence["renewal"] for o in offers)
        await _revert_all(services, "plain")
    return summary, reasons


async def _plan(services: Services, candidates: list[Candidate]) -> Workshop:
    workshop = Workshop.of(services, lambda: NOW)
    persons = [candidate_to_json(c) for c in candidates]
    made = await plan(workshop.batches, CAMPAIGN, "renewal", PARAMETERS, persons, BATCH, NOW)
    assert made.created and made.batches == -(-len(candidates) // BATCH)
    return workshop


async def test_renewal_batches_in_process_decide_as_one_run_and_resume_a_crashed_batch(
    sandbox: RunningSandbox, candidates: list[Candidate], tmp_path: Path
) -> None:
    reference, reasons = await _reference(settings_for(sandbox, tmp_path / "plain"), candidates)
    assert reference.renewed >= 1 and reference.invited >= 1 and reference.not_due >= 1

    async with Services.open(settings_for(sandbox, tmp_path / "engine"), lambda: NOW) as services:
        workshop = await _plan(services, candidates)
        # The sealed batch gives back the candidates as planned: end dates, births and moves,
        # France Travail ids.
        first = await workshop.batches.get(CAMPAIGN, 0)
        assert first.kind == "renewal"
        assert [candidate_from_json(p) for p in first.persons] == candidates[:BATCH]
        # A worker died after renewing batch 0's persons, before marking it done.
        crashed = await _runner(services).examine(candidates[:BATCH], MONTH, CAMPAIGN)

        decided: list[int] = []

        def progress(number: int) -> Any:
            return lambda summary: decided.append(number)

        pending = await workshop.batches.pending(CAMPAIGN)
        assert await run_locally(workshop, CAMPAIGN, pending, progress) == []
        assert len(decided) == len(candidates)  # one call per candidate decided
        state = await workshop.batches.progress(CAMPAIGN)
        assert state.complete and state.persons_done == len(candidates)
        total: Summary = summed(state, Summary)
        assert total.examined == reference.examined == len(candidates)
        # The crashed run's renewals are found made, its invitations found sent (within the
        # cooldown): neither is made again; everyone else is decided as in the plain run.
        assert crashed.renewed + crashed.invited >= 1
        assert asdict(total) == asdict(reference) | {
            "renewed": reference.renewed - crashed.renewed,
            "already_done": crashed.renewed,
            "notified": reference.notified - crashed.notified,
            "invited": reference.invited - crashed.invited,
            "invitation_skipped": reference.invitation_skipped + crashed.invited,
        }
        rows = await services.renewals.for_campaign(CAMPAIGN)
        assert len(rows) == reference.renewed
        offers = await services.offers.for_campaign(CAMPAIGN)
        assert Counter(o.evidence["renewal"] for o in offers) == reasons

        # A done batch is not run again: nothing renewed, nothing counted.
        assert await examine_batch(workshop, CAMPAIGN, 0) is None
        assert await run_locally(workshop, CAMPAIGN, list(range(state.batches))) == []
        assert (await workshop.batches.progress(CAMPAIGN)).summary == state.summary
        assert len(await services.renewals.for_campaign(CAMPAIGN)) == len(rows)
        await _revert_all(services, CAMPAIGN)


def test_renewal_batches_on_the_stub_broker_run_by_the_worker_middleware(
    sandbox: RunningSandbox, candidates: list[Candidate], tmp_path: Path
) -> None:
    reference, reasons = asyncio.run(
        _reference(settings_for(sandbox, tmp_path / "plain"), candidates)
    )
    settings = settings_for(sandbox, tmp_path / "workers")

    async def planned() -> int:
        async with Services.open(settings, lambda: NOW) as services:
            await _plan(services, candidates)
            return len(await Workshop.of(services, lambda: NOW).batches.pending(CAMPAIGN))

    batches = asyncio.run(planned())
    broker = StubBroker()
    broker.add_middleware(AsyncIO())
    workshop = _Workshop(settings, lambda: NOW)
    broker.add_middleware(workshop)
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()

    async def task(campaign: str, number: int) -> None:
        with lock:
            taken.append((campaign, number))
        await workshop.examine(campaign, number)

    actor = batch_actor(broker, "t", task)
    enqueue(actor, CAMPAIGN, list(range(batches)))
    enqueue(actor, CAMPAIGN, [0])  # delivered twice: the second time does nothing
    worker = Worker(broker, worker_threads=2)
    worker.start()
    try:
        broker.join(queue_name("t"), fail_fast=True)
        worker.join()
    finally:
        worker.stop()
    assert sorted(taken) == sorted([(CAMPAIGN, n) for n in range(batches)] + [(CAMPAIGN, 0)])

    async def check() -> None:
        async with Services.open(settings, lambda: NOW) as services:
            state = await Workshop.of(services, lambda: NOW).batches.progress(CAMPAIGN)
            assert state.complete
            assert summed(state, Summary) == reference
            rows = await services.renewals.for_campaign(CAMPAIGN)
            assert len(rows) == reference.renewed
            offers = await services.offers.for_campaign(CAMPAIGN)
            assert Counter(o.evidence["renewal"] for o in offers) == reasons
            await _revert_all(services, CAMPAIGN)

    asyncio.run(check())
