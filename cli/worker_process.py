"""``unefois worker``'s process: Dramatiq's worker, in this process, taking batches from the
configured broker with a few threads; the services (database, connectors, audit log…) are
opened once for the process on the event loop Dramatiq's AsyncIO middleware runs, shared by
its threads, and closed when the worker stops (the audit log flushed).

The worker is started through Dramatiq's ``Worker`` API rather than its command line: the
actor is bound to the broker and namespace of the settings here, and the services open once
per process before the first message, not per task.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread

from proactive.engine.broker import batch_actor, open_broker, queue_name
from proactive.engine.tasks import BatchFailed, Workshop, error_kind, examine_batch
from runtime import Services
from runtime.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class _Workshop(dramatiq.Middleware):
    """Opens the services on the worker's event loop as it boots, before its threads take
    any message (Dramatiq runs the ``before`` hooks in order: AsyncIO's, which starts the
    loop, then this one); closes them before the loop stops (the ``after`` hooks run in
    reverse order: this one before AsyncIO's)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._stack = contextlib.AsyncExitStack()
        self.workshop: Workshop | None = None

    async def _open(self) -> None:
        services = await self._stack.enter_async_context(Services.open(self._settings, self._clock))
        self.workshop = Workshop.of(services, self._clock)

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop = get_event_loop_thread()
        assert loop is not None, "the AsyncIO middleware runs before this one"
        loop.run_coroutine(self._open())

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop = get_event_loop_thread()
        if loop is not None:
            loop.run_coroutine(self._stack.aclose())
        self.workshop = None

    async def examine(self, campaign: str, number: int) -> None:
        if self.workshop is None:
            raise BatchFailed("worker_not_ready")
        try:
            await examine_batch(self.workshop, campaign, number)
        except Exception as error:
            # Re-raised as its kind only: Dramatiq logs what it retries, and an error's
            # message may describe a person.
            raise BatchFailed(error_kind(error)) from None


def serve(settings: Settings, threads: int, stop: threading.Event, clock: Clock) -> None:
    """Run a worker until ``stop`` is set; messages it took and did not finish go back to
    the broker."""
    if not settings.broker_url:
        raise ValueError("no broker: set UNEFOIS_BROKER_URL (amqp://… or redis://…)")
    namespace = settings.broker_namespace
    broker = open_broker(settings.broker_url, namespace)
    workshop = _Workshop(settings, clock)
    broker.add_middleware(workshop)
    batch_actor(broker, namespace, workshop.examine)
    worker = dramatiq.Worker(broker, queues={queue_name(namespace)}, worker_threads=threads)
    worker.start()
    log.info("worker started: %d threads", threads)
    try:
        stop.wait()
    finally:
        worker.stop()
        broker.close()
