"""The notification outbox at rest: messages written once, then delivered and retried.

The idempotency key is unique: enqueueing the same notification twice (a campaign rerun after
a crash) returns the row already there and inserts nothing. Times are passed in, never read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, or_, select, update

from store.database import Database
from store.errors import InvalidRecord
from store.tables import offers, outbox

# cancelled: never to be sent, its offer or act being obsolete (a change of situation).
Status = Literal["pending", "sent", "failed", "dead", "cancelled"]
CHANNELS = frozenset({"email", "sms", "letter"})
_DUE = ("pending", "failed")


@dataclass(frozen=True)
class Message:
    """One notification to deliver: a row of the ``outbox`` table.

    ``address`` and ``payload`` are personal data: they are stored, never logged.
    """

    idempotency_key: str
    channel: str  # email, sms, letter
    address: str  # an e-mail address, an E.164 phone number, or postal lines
    template: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    offer_id: str | None = None
    id: str = ""  # empty: a UUID4 is given on enqueue
    status: Status = "pending"
    attempts: int = 0
    last_error: str | None = None  # an error kind, never a provider's message
    sent_at: datetime | None = field(default=None)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _checked(message: Message) -> Message:
    if not message.idempotency_key:
        raise InvalidRecord("a message needs an idempotency key")
    if message.channel not in CHANNELS:
        raise InvalidRecord("a message's channel is email, sms or letter")
    if not message.address or not message.template:
        raise InvalidRecord("a message needs an address and a template")
    if message.status != "pending" or message.attempts or message.sent_at is not None:
        raise InvalidRecord("a message is enqueued pending, never attempted")
    return replace(
        message,
        id=message.id or str(uuid.uuid4()),
        created_at=_aware(message.created_at, "created_at"),
        next_attempt_at=_aware(message.next_attempt_at, "next_attempt_at"),
    )


def _message(row: Any) -> Message:
    return Message(
        id=row.id,
        idempotency_key=row.idempotency_key,
        offer_id=row.offer_id,
        channel=row.channel,
        address=row.address,
        template=row.template,
        payload=row.payload,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


class OutboxStore:
    """The ``outbox`` table of a migrated :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def enqueue(self, message: Message) -> Message:
        """Store ``message`` and return it as stored; a known idempotency key returns the
        message already stored under it, whatever else differs, and inserts nothing."""
        stored = _checked(message)
        existing = await self._by_key(stored.idempotency_key)
        if existing is not None:
            return existing
        try:
            async with self._database.transaction() as conn:
                await conn.execute(
                    outbox.insert().values(
                        id=stored.id,
                        idempotency_key=stored.idempotency_key,
                        offer_id=stored.offer_id,
                        channel=stored.channel,
                        address=stored.address,
                        template=stored.template,
                        payload=stored.payload,
                        status=stored.status,
                        attempts=0,
                        next_attempt_at=stored.next_attempt_at,
                        created_at=stored.created_at,
                    )
                )
        except InvalidRecord:
            # Another writer inserted the same key between our read and our insert.
            existing = await self._by_key(stored.idempotency_key)
            if existing is None:
                raise
            return existing
        return stored

    async def get(self, message_id: str) -> Message | None:
        async with self._database.connection() as conn:
            row = (await conn.execute(select(outbox).where(outbox.c.id == message_id))).first()
        return None if row is None else _message(row)

    async def due(self, now: datetime, limit: int) -> list[Message]:
        """Pending and failed messages whose next attempt is at or before ``now``, oldest
        due first."""
        query = (
            select(outbox)
            .where(outbox.c.status.in_(_DUE), outbox.c.next_attempt_at <= _aware(now, "now"))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        async with self._database.connection() as conn:
            return [_message(row) for row in await conn.execute(query)]

    async def mark_sent(self, message_id: str, at: datetime) -> None:
        """Record a delivery; a message already sent keeps its first delivery time. The
        message's offer, if still ``detected``, becomes ``notified`` in the same transaction:
        its first delivered message is when the person was told."""
        at = _aware(at, "at")
        async with self._database.transaction() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.status != "sent")
                .values(
                    status="sent",
                    sent_at=at,
                    attempts=outbox.c.attempts + 1,
                    last_error=None,
                )
            )
            offer = select(outbox.c.offer_id).where(outbox.c.id == message_id).scalar_subquery()
            await conn.execute(
                update(offers)
                .where(offers.c.id == offer, offers.c.status == "detected")
                .values(status="notified", notified_at=at)
            )

    async def mark_failed(
        self, message_id: str, error_kind: str, next_attempt_at: datetime, dead: bool
    ) -> None:
        """Record a failed attempt: retried at ``next_attempt_at``, or never again if
        ``dead``. A message already sent is left alone."""
        async with self._database.transaction() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.status != "sent")
                .values(
                    status="dead" if dead else "failed",
                    attempts=outbox.c.attempts + 1,
                    last_error=error_kind,
                    next_attempt_at=_aware(next_attempt_at, "next_attempt_at"),
                )
            )

    async def cancel(
        self, *, offer_ids: tuple[str, ...] = (), key_prefixes: tuple[str, ...] = ()
    ) -> int:
        """Cancel the undelivered messages (pending or failed) of those offers and those whose
        idempotency key starts with one of ``key_prefixes`` (an automatic act's messages are
        keyed ``<act>:<id>:<channel>``); sent and dead ones are kept. Returns how many."""
        conditions: list[ColumnElement[bool]] = []
        if offer_ids:
            conditions.append(outbox.c.offer_id.in_(offer_ids))
        for prefix in key_prefixes:
            if not prefix:
                raise InvalidRecord("a key prefix is not empty")
            conditions.append(outbox.c.idempotency_key.startswith(prefix, autoescape=True))
        if not conditions:
            return 0
        async with self._database.transaction() as conn:
            result = await conn.execute(
                update(outbox)
                .where(or_(*conditions), outbox.c.status.in_(_DUE))
                .values(status="cancelled")
            )
        return int(result.rowcount)

    async def for_campaign(self, campaign: str, channel: str | None = None) -> list[Message]:
        """The messages about a campaign's offers (of one ``channel`` if given), whatever
        their status, oldest first."""
        query = (
            select(outbox)
            .join(offers, outbox.c.offer_id == offers.c.id)
            .where(offers.c.campaign == campaign)
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        if channel is not None:
            query = query.where(outbox.c.channel == channel)
        async with self._database.connection() as conn:
            return [_message(row) for row in await conn.execute(query)]

    async def _by_key(self, key: str) -> Message | None:
        async with self._database.connection() as conn:
            query = select(outbox).where(outbox.c.idempotency_key == key)
            row = (await conn.execute(query)).first()
        return None if row is None else _message(row)
