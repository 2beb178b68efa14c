"""The derived aspa_age trigger: from the birth date in an event's identity, once per person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.records import AgencyEvent, EventPage
from proactive.triggers import TriggerConsumer, load_rules
from store import CursorStore, Database, connect, migrate

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)


class ListFeed:
    def __init__(self, events: list[AgencyEvent]) -> None:
        self.events = events

    async def page(self, since: str | None = None, limit: int = 100) -> EventPage:
        start = int(since or 0)
        chunk = self.events[start : start + limit]
        return EventPage(tuple(chunk), str(start + len(chunk)))


def event(ident: str, born: date, kind: str = "move") -> AgencyEvent:
    subject: dict[str, str | list[str]] = {
        "nomNaissance": "MARTIN",
        "prenoms": ["LOUISE"],
        "anneeDateNaissance": str(born.year),
        "moisDateNaissance": str(born.month),
        "jourDateNaissance": str(born.day),
    }
    return AgencyEvent(ident, kind, date(2025, 6, 2), subject)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await connect(f"sqlite+aiosqlite:///{(tmp_path / 'store.db').as_posix()}")
    await migrate(database)
    yield database
    await database.aclose()


async def test_reaching_65_adds_aspa_once(database: Database) -> None:
    feed = ListFeed(
        [
            event("e1", date(1960, 7, 1)),  # 65 nine days ago
            event("e2", date(1960, 7, 1), "birth"),  # the same person again: no second one
            event("e3", date(1970, 7, 1)),  # 55
            event("e4", date(1960, 2, 29)),  # 65 on 1 March 2025: outside the window
        ]
    )
    consumer = TriggerConsumer({"cnav": feed}, CursorStore(database), load_rules(), lambda: NOW)
    triggers = await consumer.poll(10)
    aged = [t for t in triggers if t.type == "aspa_age"]
    assert [(t.event_id, t.occurred_on, t.benefits) for t in aged] == [
        ("e1", date(2025, 7, 1), ("aspa", "css"))
    ]
    assert len(triggers) == 5  # four events with a rule, one age
    await consumer.ack(triggers)
    assert await CursorStore(database).get("cnav") == "4"
