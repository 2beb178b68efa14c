"""The dispatcher over a real (SQLite) outbox, with fake channels and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from proactive.notifications import (
    DispatchCounts,
    Dispatcher,
    PermanentFailure,
    Rendered,
    Renderer,
    TemporaryFailure,
)
from store import Message, OutboxStore, connect, migrate
from tests.proactive.test_notifications import BASE, NOW, message


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class FakeChannel:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.sent: list[str] = []

    async def send(self, message: Message, content: Rendered) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message.id)
        return f"delivery-{len(self.sent)}"


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[OutboxStore]:
    database = await connect(f"sqlite+aiosqlite:///{(tmp_path / 'outbox.db').as_posix()}")
    await migrate(database)
    yield OutboxStore(database)
    await database.aclose()


def dispatcher(outbox: OutboxStore, channel: FakeChannel, clock: FakeClock) -> Dispatcher:
    return Dispatcher(
        outbox, {"sms": channel}, clock, renderer=Renderer(BASE), max_attempts=3, jitter=lambda: 1.0
    )


async def enqueue(outbox: OutboxStore, key: str = "offre-42:sms") -> Message:
    return await outbox.enqueue(replace(message("sms", "+33612345678", key), id=""))


async def test_sends_once_and_never_again(outbox: OutboxStore) -> None:
    clock, channel = FakeClock(), FakeChannel()
    stored = await enqueue(outbox)
    run = dispatcher(outbox, channel, clock)
    # The offer's text message with both links is 254 GSM-7 characters: two SMS billed.
    assert await run.run_once(10) == DispatchCounts(sent=1, sms_sent=1, sms_segments=2)
    clock.now += timedelta(days=1)
    assert await run.run_once(10) == DispatchCounts()
    assert channel.sent == [stored.id]
    after = await outbox.get(stored.id)
    assert after is not None and after.status == "sent" and after.sent_at == NOW


async def test_enqueueing_again_sends_nothing_more(outbox: OutboxStore) -> None:
    clock, channel = FakeClock(), FakeChannel()
    run = dispatcher(outbox, channel, clock)
    first = await enqueue(outbox)
    await run.run_once(10)
    again = await enqueue(outbox)  # a campaign rerun after a crash
    assert again.id == first.id and again.status == "sent"
    assert await run.run_once(10) == DispatchCounts()
    assert channel.sent == [first.id]


async def test_temporary_failures_back_off_then_succeed(outbox: OutboxStore) -> None:
    clock = FakeClock()
    channel = FakeChannel([TemporaryFailure("sms_503"), TemporaryFailure("sms_timeout")])
    run = dispatcher(outbox, channel, clock)
    stored = await enqueue(outbox)
    assert await run.run_once(10) == DispatchCounts(retried=1)
    failed = await outbox.get(stored.id)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "sms_503")
    assert failed.next_attempt_at == NOW + timedelta(seconds=30)
    assert await run.run_once(10) == DispatchCounts()  # not due yet
    clock.now = failed.next_attempt_at
    assert await run.run_once(10) == DispatchCounts(retried=1)
    second = await outbox.get(stored.id)
    assert second is not None and second.next_attempt_at == clock.now + timedelta(seconds=60)
    clock.now = second.next_attempt_at
    assert await run.run_once(10) == DispatchCounts(sent=1, sms_sent=1, sms_segments=2)
    assert channel.sent == [stored.id]


async def test_dead_after_max_attempts(outbox: OutboxStore) -> None:
    clock = FakeClock()
    channel = FakeChannel([TemporaryFailure("sms_503")] * 5)
    run = dispatcher(outbox, channel, clock)
    stored = await enqueue(outbox)
    outcomes = []
    for _ in range(3):
        outcomes.append(await run.run_once(10))
        clock.now += timedelta(hours=1)
    assert outcomes == [
        DispatchCounts(retried=1),
        DispatchCounts(retried=1),
        DispatchCounts(dead=1),
    ]
    dead = await outbox.get(stored.id)
    assert dead is not None and (dead.status, dead.attempts) == ("dead", 3)
    assert await run.run_once(10) == DispatchCounts() and channel.sent == []


async def test_permanent_failure_and_unknown_channel_are_dead(outbox: OutboxStore) -> None:
    clock = FakeClock()
    run = dispatcher(outbox, FakeChannel([PermanentFailure("sms_400")]), clock)
    await enqueue(outbox)
    mail = await outbox.enqueue(replace(message("email", "claire@example.org", "k:email"), id=""))
    assert await run.run_once(10) == DispatchCounts(dead=2)
    dead = await outbox.get(mail.id)
    assert dead is not None and dead.last_error == "no_channel"


async def test_full_jitter_stays_within_the_doubling_bound(outbox: OutboxStore) -> None:
    run = Dispatcher(outbox, {}, FakeClock(), renderer=Renderer(BASE), jitter=lambda: 0.5)
    assert run.backoff(1) == timedelta(seconds=15)
    assert run.backoff(4) == timedelta(seconds=120)
