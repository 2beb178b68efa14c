"""``unefois campaign run --from-events``: the sandbox's feeds → trigger consumer → a campaign
for the triggered persons → offers; the events are acknowledged once the offers are recorded,
so a second run finds nothing new and makes no second offer."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.campaign import run_campaign
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.proactive.test_campaign import MONTH, NOW, RECIPIENT, settings_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=300, reference_month=MONTH)) as running:
        yield running


def from_events(benefit: str) -> argparse.Namespace:
    return argparse.Namespace(
        benefit=benefit,
        month=MONTH,
        population=False,
        from_events=True,
        limit=None,
        workers=1,
        worker_index=0,
        campaign=f"{benefit}-events",
        cooldown_days=180,
        recipient=RECIPIENT,
    )


async def test_events_make_offers_once(sandbox: RunningSandbox, tmp_path: Path) -> None:
    settings = settings_for(sandbox, tmp_path)
    first = await run_campaign(settings, from_events("rsa"), lambda: NOW, io.StringIO())
    assert first.examined > 0 and first.errors == 0 and first.offers_created > 0
    assert first.fetched + first.errors == first.examined
    # Job losses name France Travail's identifier: their contact details give text messages,
    # each one or two GSM-7 segments.
    assert first.sms_enqueued > 0
    assert first.sms_enqueued <= first.sms_segments <= 2 * first.sms_enqueued
    async with Services.open(settings, lambda: NOW) as services:
        offers = await services.offers.for_campaign("rsa-events")
        assert len(offers) == first.offers_created
        assert len({o.person for o in offers}) == len(offers)

    second = await run_campaign(settings, from_events("rsa"), lambda: NOW, io.StringIO())
    # Acknowledged by the first run: no event comes back, nobody is examined again.
    assert second.examined == 0 and second.offers_created == 0
    async with Services.open(settings, lambda: NOW) as services:
        assert len(await services.offers.for_campaign("rsa-events")) == len(offers)
