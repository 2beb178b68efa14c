"""TriggerConsumer against the sandbox's event feeds over real local HTTP, with its cursors in
SQLite: rules applied, nothing handled twice, and a crash before acknowledging replays."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors import UPSTREAMS, ConnectorConfig, Connectors, UpstreamConfig
from proactive.triggers import Trigger, TriggerConsumer, load_rules
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import CursorStore, Database, connect, migrate

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025


def clock() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=300, reference_month="2025-06")) as running:
        yield running


@pytest.fixture
async def connectors(sandbox: RunningSandbox) -> AsyncIterator[Connectors]:
    upstreams = {
        name: UpstreamConfig(
            name,
            sandbox.urls[name],
            timeout=5.0,
            pool_size=4,
            token=sandbox.api_particulier_token if name == "api_particulier" else None,
            client_id=None if name == "api_particulier" else sandbox.client_id,
            client_secret=None if name == "api_particulier" else sandbox.client_secret,
        )
        for name in UPSTREAMS
    }
    built = Connectors.from_config(ConnectorConfig(upstreams=upstreams), clock)
    yield built
    await built.aclose()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await connect(f"sqlite+aiosqlite:///{(tmp_path / 'store.db').as_posix()}")
    await migrate(database)
    yield database
    await database.aclose()


def consumer(connectors: Connectors, database: Database) -> TriggerConsumer:
    return TriggerConsumer(connectors.feeds, CursorStore(database), load_rules(), clock)


async def drain(consumer: TriggerConsumer, limit: int = 50) -> list[Trigger]:
    out: list[Trigger] = []
    while triggers := await consumer.poll(limit):
        out.extend(triggers)
        await consumer.ack(triggers)
    await consumer.ack([])  # pages without triggers are stored as read too
    return out


def keys(triggers: list[Trigger]) -> list[tuple[str, str, str]]:
    return sorted((t.feed, t.event_id, t.type) for t in triggers)


async def test_every_event_once_with_its_rule(connectors: Connectors, database: Database) -> None:
    triggers = await drain(consumer(connectors, database))
    assert triggers
    assert len(set(keys(triggers))) == len(triggers)
    rules = load_rules()
    for trigger in triggers:
        if trigger.type == "aspa_age":
            assert trigger.benefits == ("aspa", "css")
            assert abs((trigger.occurred_on - NOW.date()).days) <= 60
            born = int(str(trigger.subject["anneeDateNaissance"]))
            assert trigger.occurred_on.year - born == 65
        else:
            assert trigger.benefits == rules.events[trigger.type]
            assert trigger.occurred_on <= date(2025, 9, 1)
        assert trigger.subject["nomNaissance"]
    assert {t.type for t in triggers} >= {"job_loss", "resource_drop", "move", "right_expiry"}
    # Everything was acknowledged: a new consumer on the same store finds nothing new.
    assert await consumer(connectors, database).poll(50) == []


async def test_crash_before_ack_replays_the_same_events(
    connectors: Connectors, database: Database
) -> None:
    first = await consumer(connectors, database).poll(20)
    assert first
    # The process dies here: nothing acknowledged, nothing recorded.
    second = consumer(connectors, database)
    replayed = await second.poll(20)
    assert keys(replayed) == keys(first)
    await second.ack(replayed)
    rest = await drain(second)
    assert not set(keys(rest)) & set(keys(replayed))
    assert await consumer(connectors, database).poll(20) == []


async def test_partial_ack_keeps_the_cursor_and_skips_what_was_done(
    connectors: Connectors, database: Database
) -> None:
    reader = consumer(connectors, database)
    first = await reader.poll(20)
    done, undone = first[: len(first) // 2], first[len(first) // 2 :]
    await reader.ack(done)
    cursors = CursorStore(database)
    for feed in {t.feed for t in undone}:
        assert await cursors.get(feed) is None  # a page with work left is not passed
    # A crash now: the next consumer reads the pages again and skips the marked events.
    replayed = await consumer(connectors, database).poll(20)
    done_events = {(t.feed, t.event_id) for t in done} - {(t.feed, t.event_id) for t in undone}
    assert not {(t.feed, t.event_id) for t in replayed} & done_events
    assert set(keys(undone)) <= set(keys(replayed))
