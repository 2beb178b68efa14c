"""``campaign renew`` on the engine, against the sandbox agencies: the CNAM's expiry events
planned as renewal batches and run in this process with the progress bar over every
candidate; ``campaign status`` reads the run; the events are acknowledged once every batch is
done, so a second run finds none."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cli.campaign import campaign_status, status_lines
from cli.progress import Bar
from cli.renewal import (
    add_renewal_parsers,
    events_run_id,
    plan_progress,
    renew,
    renewal_progress,
    run_renewal,
)
from connectors import PivotIdentity
from exchange import Pseudonyms
from proactive.engine.waiting import summed
from proactive.renewal import Candidate, RenewalRunner, Summary
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store.batches import Progress
from tests.proactive.test_campaign import settings_for

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025
MONTH = "2025-06"
RECIPIENT = "13002526500013"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def text(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", self.getvalue())


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a terminal wide enough for every column


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its own sandbox: renewals change what its CNAM answers until they are reverted.
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="campaign_command")
    add_renewal_parsers(sub)
    return parser.parse_args(argv)


def test_the_renewal_bar_counts_every_candidate_decided() -> None:
    stream = Terminal()
    with Bar("renewal r", 10, stream) as bar:
        show = renewal_progress(bar, 6)
        for _ in range(3):
            show(Summary(renewed=2, invited=1, errors=0))
    text = stream.text()
    assert "9/10" in text and "2 renewed, 1 invited, 0 errors (batch)" in text

    stream = Terminal()
    with Bar("renewal r (workers)", 10, stream) as bar:
        summary = {"renewed": 3, "invited": 2, "errors": 1}
        plan_progress(bar)(Progress("r", "renewal", {}, 3, 2, 10, 7, summary))
    assert "7/10" in stream.text() and "2/3 batches, 3 renewed, 2 invited, 1 errors" in (
        stream.text()
    )


def test_an_events_run_is_named_after_its_candidates(tmp_path: Path) -> None:
    """The same events replayed name the same run (its plan resumed); more events, another."""
    pseudonyms = Pseudonyms(bytes(range(32)))
    born = [
        PivotIdentity("DURAND", ("ALICE",), date(1980, 1, n), "F", "99100", "75056")
        for n in (1, 2, 3)
    ]
    people = [Candidate(p, date(2025, 8, n)) for n, p in enumerate(born, 1)]
    first = events_run_id(MONTH, people, pseudonyms)
    assert re.fullmatch(rf"css-renewal-{MONTH}-[0-9a-f]{{12}}", first)
    assert events_run_id(MONTH, people[::-1], pseudonyms) == first
    assert events_run_id(MONTH, people[:2], pseudonyms) != first
    other_end = [*people[:2], Candidate(people[2].identity, date(2025, 9, 3))]
    assert events_run_id(MONTH, other_end, pseudonyms) != first
    assert "DURAND" not in first


def test_renew_from_events_runs_batches_and_acknowledges_the_events_once_done(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    args = _cli("renew", "--month", MONTH, "--from-events", "--batch", "4")
    args.recipient = RECIPIENT
    err = Terminal()
    first = asyncio.run(renew(settings, args, lambda: NOW, err))
    assert first.examined > 4 and first.renewed + first.invited >= 1
    batches = -(-first.examined // 4)
    assert f"{first.examined}/{first.examined}" in err.text()
    # The run's id, printed: the month and a digest of the events' candidates.
    named = rf"renewal (css-renewal-{MONTH}-[0-9a-f]{{12}}): {batches} batches"
    found = re.search(named, err.text())
    assert found, err.text()
    campaign = found.group(1)
    progress = asyncio.run(campaign_status(settings, campaign, lambda: NOW))
    assert progress.kind == "renewal" and progress.complete
    assert progress.parameters["source"] == "events"
    assert summed(progress, Summary) == first
    lines = status_lines(progress)
    assert f"batches  {batches}/{batches}" in lines
    assert f"persons  {first.examined}/{first.examined}" in lines

    # The events were acknowledged: a second run finds none, examines nobody.
    second = asyncio.run(renew(settings, args, lambda: NOW, io.StringIO()))
    assert second == Summary()

    # The command prints the counts of a run resumed from its plan (here, done).
    out = io.StringIO()
    again = _cli("renew", "--month", MONTH, "--population", "--limit", "5")
    again.campaign = campaign
    again.recipient = RECIPIENT
    assert run_renewal(settings, again, lambda: NOW, out) == 0
    assert out.getvalue().split() == [
        "renewed",
        str(first.renewed),
        "invited",
        str(first.invited),
        "reverted",
        "0",
        "errors",
        str(first.errors),
    ]
    for wrong in (("--batch", "0"), ("--within-days", "-1")):
        bad = _cli("renew", "--month", MONTH, "--population", "--recipient", RECIPIENT, *wrong)
        told = io.StringIO()
        with contextlib.redirect_stderr(told):
            assert run_renewal(settings, bad, lambda: NOW, io.StringIO()) == 2
        assert wrong[0] in told.getvalue()

    async def revert_all() -> None:
        async with Services.open(settings, lambda: NOW) as services:
            runner = RenewalRunner(
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
            for row in await services.renewals.for_campaign(campaign):
                await runner.revert(row.id)

    asyncio.run(revert_all())
