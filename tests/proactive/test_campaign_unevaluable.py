"""A campaign over persons the rules answer without running: no resource history, deceased."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from proactive.campaign import CampaignRunner
from proactive.population import identity_from_params
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.proactive.test_campaign import MONTH, NOW, RECIPIENT, entries, settings_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
        yield built


async def test_no_history_is_incomplete_and_the_dead_are_never_told(
    sandbox: RunningSandbox, services: Services
) -> None:
    [without] = [
        e for e in entries(sandbox, "scenario:seul-35-sans-historique", 5) if e["role"] == "adult"
    ]
    dead = [
        e
        for e in entries(sandbox, "deceased", 50)
        if e["role"] == "adult" and e["date_deces"] <= "2025-06-30"
    ]
    assert dead
    runner = CampaignRunner(
        services.exchange,
        services.offers,
        services.outbox,
        services.pseudonyms,
        lambda: NOW,
        recipient=RECIPIENT,
    )
    people = [identity_from_params(e["personne"]) for e in (without, *dead)]
    summary = await runner.run(people, "rsa", MONTH, "rsa-unevaluable")
    assert summary.errors == 0 and summary.fetched == len(people)
    # The person without history is incomplete; a deceased person is neither incomplete
    # nor eligible (unless the agency says it still pays: then skipped as receiving).
    assert summary.skipped_incomplete == 1
    assert summary.eligible == 0 and summary.offers_created == 0
    assert await services.offers.for_campaign("rsa-unevaluable") == []
