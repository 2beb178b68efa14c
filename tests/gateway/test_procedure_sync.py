"""The sync's cursor and marks, DS and the processing replaced (the whole journey over HTTP is
tests/cli/test_procedures.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from gateway import procedure_sync
from gateway.clients import ClientRegistry
from gateway.dossiers.process import Processed, Result
from gateway.procedure_sync import sync_procedure
from gateway.sealing import Sealer
from runtime import Services

NOW = datetime(2025, 7, 1, 12, tzinfo=UTC)
FEED = "demarches-simplifiees:101"


class Cursors:
    def __init__(self, cursor: str | None = None) -> None:
        self.cursors: dict[str, str] = {FEED: cursor} if cursor else {}
        self.marked: set[tuple[str, str]] = set()

    async def get(self, feed: str) -> str | None:
        return self.cursors.get(feed)

    async def advance(self, feed: str, cursor: str, at: datetime) -> None:
        self.cursors[feed] = cursor

    async def seen(self, feed: str, event_id: str) -> bool:
        return (feed, event_id) in self.marked

    async def mark(self, feed: str, event_ids: Iterable[str], at: datetime) -> None:
        self.marked |= {(feed, e) for e in event_ids}


class Demarches:
    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.nodes = nodes
        self.asked: list[datetime | None] = []

    async def dossiers(
        self, procedure: int, *, updated_since: datetime | None
    ) -> list[dict[str, Any]]:
        self.asked.append(updated_since)
        return [
            n
            for n in self.nodes
            if updated_since is None
            or datetime.fromisoformat(n["dateDerniereModification"]) >= updated_since
        ]


def node(number: int, modified: str) -> dict[str, Any]:
    return {"number": number, "state": "en_construction", "dateDerniereModification": modified}


def services(cursors: Cursors, demarches: Demarches) -> Services:
    return cast(Services, SimpleNamespace(cursors=cursors, demarches=demarches))


def outcomes(monkeypatch: pytest.MonkeyPatch, results: dict[int, Result]) -> list[int]:
    calls: list[int] = []

    async def fake(
        services: Services, registry: ClientRegistry, sealer: Sealer, number: int, now: datetime
    ) -> Processed:
        calls.append(number)
        return Processed(results[number])

    monkeypatch.setattr(procedure_sync, "process_dossier", fake)
    return calls


async def run(s: Services, since: datetime | None = None) -> procedure_sync.SyncCounts:
    registry = cast(ClientRegistry, None)
    return await sync_procedure(s, registry, Sealer(bytes(32)), 101, lambda: NOW, since)


async def test_the_cursor_is_ds_newest_date_and_a_dossier_comes_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = outcomes(monkeypatch, {1: "processed", 2: "not_ours"})
    cursors = Cursors()
    ds = Demarches([node(2, "2025-06-30T10:00:00+02:00"), node(1, "2025-06-29T09:00:00+02:00")])
    counts = await run(services(cursors, ds))
    assert (counts.processed, counts.not_ours, counts.failed) == (1, 1, 0)
    assert calls == [1, 2]  # oldest first
    assert cursors.cursors[FEED] == "2025-06-30T10:00:00+02:00"
    again = await run(services(cursors, ds))
    assert ds.asked[-1] == datetime.fromisoformat("2025-06-30T10:00:00+02:00")
    assert (again.processed, again.not_ours, again.already) == (0, 0, 0)
    assert calls == [1, 2]  # DS answered dossier 2 again (>=): marked, skipped


async def test_a_failure_keeps_the_cursor_and_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results: dict[int, Result] = {1: "failed", 2: "processed"}
    calls = outcomes(monkeypatch, results)
    cursors = Cursors()
    ds = Demarches([node(1, "2025-06-29T09:00:00+02:00"), node(2, "2025-06-30T10:00:00+02:00")])
    counts = await run(services(cursors, ds))
    assert (counts.processed, counts.failed, counts.ok) == (1, 1, False)
    assert FEED not in cursors.cursors
    results[1] = "processed"
    counts = await run(services(cursors, ds))
    assert (counts.processed, counts.failed) == (1, 0)
    assert calls == [1, 2, 1]
    assert cursors.cursors[FEED] == "2025-06-30T10:00:00+02:00"


async def test_a_since_after_the_cursor_does_not_move_it(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes(monkeypatch, {2: "processed"})
    cursors = Cursors("2025-06-01T00:00:00+00:00")
    ds = Demarches([node(2, "2025-06-30T10:00:00+02:00")])
    since = datetime(2025, 6, 20, tzinfo=UTC)
    counts = await run(services(cursors, ds), since)
    assert counts.processed == 1 and ds.asked == [since]
    # The days between the cursor and --since were not read: the cursor stays.
    assert cursors.cursors[FEED] == "2025-06-01T00:00:00+00:00"
