"""Two ``campaign run --workers 2`` processes on one PostgreSQL schema and one sandbox, started
together: each examines its own share, and together they offer exactly the persons one worker
alone offers, each once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.system._campaign import (
    Place,
    audit_entries,
    audit_verifies,
    finished,
    new_secret,
    place,
    postgres_schemas,
    run_args,
    start,
    written,
)
from tests.system._stack import Sandbox

pytestmark = pytest.mark.system

WORKERS = 2


def test_two_workers_share_a_campaign_without_double_offers(
    sandbox: Sandbox, catalogue: Path, tmp_path: Path
) -> None:
    secret = new_secret()  # one for both places: the same person, the same pseudonym
    with postgres_schemas() as fresh:
        shared = place(sandbox, catalogue, tmp_path / "shared", fresh(), secret)
        alone = place(sandbox, catalogue, tmp_path / "alone", fresh(), secret)
        # Both workers and the single worker at once: the two workers race on one schema
        # (its creation and migrations included), the single one is the reference.
        runs: list[tuple[Place, list[str], Path]] = [
            (
                shared,
                run_args("--workers", str(WORKERS), "--worker-index", str(i)),
                tmp_path / f"w{i}.log",
            )
            for i in range(WORKERS)
        ]
        runs.append((alone, run_args(), tmp_path / "alone.log"))
        processes = [start(where, args, log) for where, args, log in runs]
        try:
            summaries = [
                finished(process, log) for process, (_, _, log) in zip(processes, runs, strict=True)
            ]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        *workers, single = summaries
        print(f"workers {workers}, single {single}")  # shown with -s or on failure

        # Disjoint shares that cover the population: the examined counts add up, and each
        # person was fetched once (one audit entry per fetch).
        assert all(w["examined"] > 0 for w in workers), workers
        assert sum(w["examined"] for w in workers) == single["examined"]
        assert sum(w["fetched"] for w in workers) == single["fetched"]
        # One entry per person read, two per partner (identified, then read), one or two per
        # partner who could not be: the shares did not overlap, or there would be more.
        entries = asyncio.run(audit_entries(shared))
        assert entries == asyncio.run(audit_entries(alone))
        low = single["fetched"] + 2 * single["partners_fetched"] + single["partners_unresolved"]
        high = single["fetched"] + 2 * (single["partners_fetched"] + single["partners_unresolved"])
        assert low <= entries <= high
        assert sum(w["offers_created"] for w in workers) == single["offers_created"]
        assert sum(w["skipped_cooldown_or_opt_out"] for w in workers) == 0, workers

        together = asyncio.run(written(shared))
        reference = asyncio.run(written(alone))
        assert together.offers, "the campaign recorded no offer"
        assert together.duplicate_offers() == []
        assert together.duplicate_messages() == []
        assert together.offered() == reference.offered()
        assert len(together.offers) == single["offers_created"]
        assert together.lettered() == reference.lettered()
        assert len(together.messages) == len(reference.messages)
        audit_verifies(shared)


def test_two_overlapping_runs_still_offer_each_person_once(
    sandbox: Sandbox, catalogue: Path, tmp_path: Path
) -> None:
    """Two full runs at once on one schema (a share misconfigured, or a run started twice):
    they race on every person, and the store's unique key still lets one offer through."""
    secret = new_secret()
    with postgres_schemas() as fresh:
        shared = place(sandbox, catalogue, tmp_path / "shared", fresh(), secret)
        alone = place(sandbox, catalogue, tmp_path / "alone", fresh(), secret)
        runs = [(shared, tmp_path / "a.log"), (shared, tmp_path / "b.log")]
        runs.append((alone, tmp_path / "alone.log"))
        processes = [start(where, run_args(), log) for where, log in runs]
        try:
            summaries = [
                finished(process, log) for process, (_, log) in zip(processes, runs, strict=True)
            ]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        *racers, single = summaries
        print(f"racers {racers}, single {single}")  # shown with -s or on failure

        assert all(r["examined"] == single["examined"] for r in racers), racers
        # Every offer went to exactly one of the two; the other found it made by the same
        # campaign and only made sure its messages were queued (once: the outbox's key).
        assert sum(r["offers_created"] for r in racers) == single["offers_created"]
        taken_up = sum(r["offers_resumed"] + r["skipped_cooldown_or_opt_out"] for r in racers)
        assert taken_up == single["offers_created"]
        together = asyncio.run(written(shared))
        reference = asyncio.run(written(alone))
        assert together.duplicate_offers() == []
        assert together.duplicate_messages() == []
        assert together.offered() == reference.offered()
        assert together.lettered() == reference.lettered()
        audit_verifies(shared)
