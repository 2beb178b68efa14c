"""The actor on Dramatiq's stub broker: a message carries the campaign and batch number only;
a failing task is retried."""

from __future__ import annotations

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from proactive.engine.broker import BrokerSetupError, batch_actor, enqueue, open_broker, queue_name


def test_queue_names_and_urls() -> None:
    assert queue_name(None) == "unefois.campaign_batches"
    assert queue_name("t_1") == "t_1.campaign_batches"
    with pytest.raises(BrokerSetupError):
        queue_name("a b")
    with pytest.raises(BrokerSetupError):
        open_broker("http://x", None)


def test_the_actor_runs_batches_and_retries_a_failure() -> None:
    broker = StubBroker()
    broker.add_middleware(AsyncIO())
    seen: list[tuple[str, int]] = []

    async def task(campaign: str, number: int) -> None:
        seen.append((campaign, number))
        if number == 1 and seen.count((campaign, 1)) == 1:
            raise RuntimeError("agency down")

    actor = batch_actor(broker, "t", task)
    actor.options["min_backoff"] = actor.options["max_backoff"] = 10
    enqueue(actor, "c", [0, 1])
    queued = broker.queues["t.campaign_batches"]
    assert queued.qsize() == 2
    worker = Worker(broker, worker_threads=1)
    worker.start()
    try:
        broker.join("t.campaign_batches")
        worker.join()
    finally:
        worker.stop()
    assert sorted(seen) == [("c", 0), ("c", 1), ("c", 1)]
