"""The broker the workers share: RabbitMQ (``amqp://…``) or Redis (``redis://…``), from
``UNEFOIS_BROKER_URL``; and the one actor, ``examine_batch``, on the queue of
``UNEFOIS_BROKER_NAMESPACE`` (so that two installations, or two test runs, on one broker do
not take each other's batches).

A message carries the campaign id and the batch number, nothing else: the persons stay sealed
in the database. Dramatiq acknowledges a message only once its actor returned, so a batch
whose worker died goes back to the queue; a failure is retried with exponential backoff
(``proactive.engine.retry``), then dead-lettered while the batch stays pending in the plan.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from proactive.engine.retry import MAX_BACKOFF_MS, MAX_RETRIES, MIN_BACKOFF_MS

ACTOR = "examine_batch"
QUEUE = "campaign_batches"
DEFAULT_NAMESPACE = "unefois"
# A batch of a thousand persons takes minutes; an hour bounds a hung one, not a slow one.
TIME_LIMIT_MS = 3_600_000
_NAMESPACE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")

Task = Callable[[str, int], Awaitable[None]]
BatchActor = dramatiq.Actor[[str, int], None]


class BrokerSetupError(ValueError):
    """The broker's URL or namespace cannot be used."""


def queue_name(namespace: str | None) -> str:
    namespace = namespace or DEFAULT_NAMESPACE
    if not _NAMESPACE.fullmatch(namespace):
        raise BrokerSetupError(
            "the broker namespace is a letter or '_' then letters, digits, '_' or '-'"
        )
    return f"{namespace}.{QUEUE}"


def open_broker(url: str, namespace: str | None) -> dramatiq.Broker:
    """A broker for ``url``, with the AsyncIO middleware the actor needs."""
    broker: dramatiq.Broker
    if url.startswith(("amqp://", "amqps://")):
        broker = RabbitmqBroker(url=url)
    elif url.startswith(("redis://", "rediss://")):
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url, namespace=f"{namespace or DEFAULT_NAMESPACE}-dramatiq"
        )
    else:
        raise BrokerSetupError(
            "the broker URL starts with amqp://, amqps://, redis:// or rediss://"
        )
    broker.add_middleware(AsyncIO())
    return broker


async def _not_here(campaign: str, number: int) -> None:
    raise RuntimeError("batches run in `unefois worker`, not where they are enqueued")


def batch_actor(
    broker: dramatiq.Broker, namespace: str | None, task: Task = _not_here
) -> BatchActor:
    """The actor on ``broker``; ``task`` runs a batch (in a worker) — where batches are only
    enqueued it is never called."""
    decorate = dramatiq.actor(
        actor_name=ACTOR,
        queue_name=queue_name(namespace),
        broker=broker,
        max_retries=MAX_RETRIES,
        min_backoff=MIN_BACKOFF_MS,
        max_backoff=MAX_BACKOFF_MS,
        time_limit=TIME_LIMIT_MS,
    )
    return decorate(task)


def enqueue(actor: BatchActor, campaign: str, numbers: list[int]) -> None:
    for number in numbers:
        actor.send(campaign, number)
