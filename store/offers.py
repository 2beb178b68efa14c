"""Proactive offers at rest: who we think is entitled to what, and how far we got telling them.

An offer is keyed on the proactive-sector pseudonym, never a name. Three rules keep anyone from
being pestered: nobody who opted out gets an offer, nobody gets a second offer for a benefit
within the cooldown, and nobody gets two for the same benefit and month. The last one is the
table's unique constraint, so two workers racing on the same person both call
:meth:`OfferStore.detect` and exactly one of them gets the offer back.

Lifecycle (``_NEXT``)::

    detected → notified → opened → applied | declined | expired
                  └──────────────→ applied | declined     (answered without opening the link)
    detected, notified ─────────→ expired                  (never reached, or never opened)
    detected, notified, opened ─→ obsolete                 (a known change of situation)

An offer becomes ``obsolete`` when the situation it was computed on changed (a job found, a
birth, a move, a death, the right granted automatically): :meth:`OfferStore.obsolete` records
why. An obsolete offer does not hold back a new one for the cooldown: the person is examined
again on their new situation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.database import Database
from store.errors import InvalidRecord, StoreError
from store.tables import offers, opt_outs, outbox

OfferStatus = Literal[
    "detected", "notified", "opened", "applied", "declined", "expired", "obsolete"
]
STATUSES: tuple[OfferStatus, ...] = get_args(OfferStatus)

# Without an expiry from the early states an offer nobody opens would stay open for ever.
_NEXT: dict[str, frozenset[str]] = {
    # Applied for from the citizen space, where a person nobody could write to finds it.
    "detected": frozenset({"notified", "applied", "expired", "obsolete"}),
    "notified": frozenset({"opened", "applied", "declined", "expired", "obsolete"}),
    "opened": frozenset({"applied", "declined", "expired", "obsolete"}),
    "applied": frozenset(),
    "declined": frozenset(),
    "expired": frozenset(),
    "obsolete": frozenset(),
}
OPEN: tuple[OfferStatus, ...] = ("detected", "notified", "opened")
# The column each status stamps with the time of the transition.
_STAMP = {
    "notified": "notified_at",
    "opened": "opened_at",
    "applied": "decided_at",
    "declined": "decided_at",
    "expired": "decided_at",
    "obsolete": "decided_at",
}


@dataclass(frozen=True)
class OfferFollowUp:
    """An offer with what happened around it, for a campaign's funnel: the messages queued
    for it (channel and outbox status of each) and when its person opted out, if they did."""

    offer: Offer
    messages: tuple[tuple[str, str], ...] = ()  # (channel, status), oldest first
    opted_out_at: datetime | None = None


class OfferNotFound(StoreError, LookupError):
    pass


class InvalidTransition(StoreError, ValueError):
    """A status change the lifecycle does not allow (or that another worker made first)."""


@dataclass(frozen=True)
class Offer:
    id: str  # empty: a random UUID4 is assigned on detection
    person: str  # the proactive-sector pseudonym
    benefit: str
    month: str  # "YYYY-MM", the month the eligibility was evaluated for
    campaign: str
    territory: str | None = None  # département code, for reporting
    monthly_amount: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    status: OfferStatus = "detected"
    detected_at: datetime | None = None  # set by detect
    notified_at: datetime | None = None
    opened_at: datetime | None = None
    decided_at: datetime | None = None
    obsolete_reason: str | None = None  # why it became obsolete (job_found, death…)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _offer(row: Any) -> Offer:
    return Offer(
        id=row.id,
        person=row.person,
        benefit=row.benefit,
        month=row.month,
        campaign=row.campaign,
        territory=row.territory,
        monthly_amount=row.monthly_amount,
        evidence=row.evidence,
        status=cast(OfferStatus, row.status),
        detected_at=row.detected_at,
        notified_at=row.notified_at,
        opened_at=row.opened_at,
        decided_at=row.decided_at,
        obsolete_reason=row.obsolete_reason,
    )


class OfferStore:
    """Offers and opt-outs in a migrated :class:`Database`; times are passed in."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._database.backend == "postgresql" else sqlite
        return dialect.insert(table)

    async def detect(self, offer: Offer, cooldown_days: int, now: datetime) -> Offer | None:
        """Record ``offer`` as detected at ``now`` and return it as stored, or None when the
        person opted out, had an offer for that benefit detected within ``cooldown_days``, or
        already has one for that month (possibly inserted concurrently by another worker)."""
        if not offer.person or not offer.benefit or not offer.campaign:
            raise InvalidRecord("an offer needs a person, a benefit and a campaign")
        if cooldown_days < 0:
            raise InvalidRecord("the cooldown is a number of days, zero or more")
        now = _aware(now, "now")
        stored = replace(
            offer,
            id=offer.id or str(uuid.uuid4()),
            evidence=dict(offer.evidence),
            status="detected",
            detected_at=now,
            notified_at=None,
            opened_at=None,
            decided_at=None,
            obsolete_reason=None,
        )
        since = now - timedelta(days=cooldown_days)
        async with self._database.transaction() as conn:
            opted = await conn.execute(
                select(opt_outs.c.person).where(opt_outs.c.person == offer.person)
            )
            if opted.first() is not None:
                return None
            recent = await conn.execute(
                select(offers.c.id)
                .where(
                    offers.c.person == offer.person,
                    offers.c.benefit == offer.benefit,
                    offers.c.detected_at > since,
                    offers.c.status != "obsolete",
                )
                .limit(1)
            )
            if recent.first() is not None:
                return None
            # ON CONFLICT rather than catching the integrity error: on PostgreSQL an error
            # aborts the transaction, and a lost race is the normal outcome for a worker.
            statement = (
                self._insert(offers)
                .values(
                    id=stored.id,
                    person=stored.person,
                    benefit=stored.benefit,
                    month=stored.month,
                    campaign=stored.campaign,
                    territory=stored.territory,
                    monthly_amount=stored.monthly_amount,
                    evidence=stored.evidence,
                    status=stored.status,
                    detected_at=now,
                )
                .on_conflict_do_nothing(index_elements=["person", "benefit", "month"])
            )
            result = await conn.execute(statement)
        return stored if result.rowcount == 1 else None

    async def undelivered(
        self, person: str, benefit: str, month: str, campaign: str
    ) -> Offer | None:
        """The offer ``campaign`` made ``person`` for ``benefit`` and ``month`` if nobody has
        been told of it yet (still ``detected``): a campaign rerun after a crash between the
        offer and its messages finds it here and queues the messages it lacks."""
        query = select(offers).where(
            offers.c.person == person,
            offers.c.benefit == benefit,
            offers.c.month == month,
            offers.c.campaign == campaign,
            offers.c.status == "detected",
        )
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _offer(row)

    async def get(self, offer_id: str) -> Offer:
        async with self._database.connection() as conn:
            row = (await conn.execute(select(offers).where(offers.c.id == offer_id))).one_or_none()
        if row is None:
            raise OfferNotFound("no such offer")
        return _offer(row)

    async def transition(self, offer_id: str, to: OfferStatus, at: datetime) -> Offer:
        """Move the offer to status ``to`` at ``at`` and return it; :class:`InvalidTransition`
        when the lifecycle does not lead there from its current status."""
        at = _aware(at, "at")
        if to not in _STAMP:
            raise InvalidTransition(f"no offer can move to {to!r}")
        async with self._database.transaction() as conn:
            row = (await conn.execute(select(offers).where(offers.c.id == offer_id))).one_or_none()
            if row is None:
                raise OfferNotFound("no such offer")
            if to not in _NEXT[row.status]:
                raise InvalidTransition(f"an offer cannot go from {row.status} to {to}")
            # The status in the condition: of two workers moving the same offer, one wins.
            result = await conn.execute(
                update(offers)
                .where(offers.c.id == offer_id, offers.c.status == row.status)
                .values({"status": to, _STAMP[to]: at})
            )
            if result.rowcount != 1:
                raise InvalidTransition(f"the offer left {row.status} meanwhile")
            row = (await conn.execute(select(offers).where(offers.c.id == offer_id))).one()
        return _offer(row)

    async def opened(self, offer_id: str, at: datetime) -> Offer:
        """The person followed the offer's link: ``notified`` → ``opened`` at ``at``. Any
        later status is kept (a link opened twice, or after applying, changes nothing)."""
        at = _aware(at, "at")
        async with self._database.transaction() as conn:
            await conn.execute(
                update(offers)
                .where(offers.c.id == offer_id, offers.c.status == "notified")
                .values(status="opened", opened_at=at)
            )
            row = (await conn.execute(select(offers).where(offers.c.id == offer_id))).one_or_none()
        if row is None:
            raise OfferNotFound("no such offer")
        return _offer(row)

    async def applied(self, person: str, benefit: str, at: datetime) -> int:
        """The person applied for ``benefit`` (a prefilled form was submitted): their open
        offers for it (detected, notified or opened) become ``applied``. Returns how many
        did."""
        async with self._database.transaction() as conn:
            result = await conn.execute(
                update(offers)
                .where(
                    offers.c.person == person,
                    offers.c.benefit == benefit,
                    offers.c.status.in_(OPEN),
                )
                .values(status="applied", decided_at=_aware(at, "at"))
            )
        return int(result.rowcount)

    async def declined(self, offer_id: str, at: datetime) -> Offer:
        """The person said the offer is not for them: ``notified`` or ``opened`` →
        ``declined``. Any other status is kept (declining twice, or after applying, changes
        nothing)."""
        at = _aware(at, "at")
        async with self._database.transaction() as conn:
            await conn.execute(
                update(offers)
                .where(offers.c.id == offer_id, offers.c.status.in_(("notified", "opened")))
                .values(status="declined", decided_at=at)
            )
            row = (await conn.execute(select(offers).where(offers.c.id == offer_id))).one_or_none()
        if row is None:
            raise OfferNotFound("no such offer")
        return _offer(row)

    async def expire(self, detected_before: datetime, at: datetime) -> int:
        """Offers detected before ``detected_before`` and still open (detected, notified or
        opened) become ``expired`` at ``at``: the situation they were computed on is stale.
        Returns how many did."""
        async with self._database.transaction() as conn:
            result = await conn.execute(
                update(offers)
                .where(
                    offers.c.detected_at < _aware(detected_before, "detected_before"),
                    offers.c.status.in_(("detected", "notified", "opened")),
                )
                .values(status="expired", decided_at=_aware(at, "at"))
            )
        return int(result.rowcount)

    async def obsolete(
        self,
        person: str,
        reason: str,
        at: datetime,
        benefits: tuple[str, ...] | None = None,
    ) -> list[Offer]:
        """The person's open offers (detected, notified or opened; only for ``benefits`` when
        given) become ``obsolete`` at ``at`` with ``reason``; returns them as they now are.
        Offers already decided are left alone, so a replayed event changes nothing more."""
        if not reason:
            raise InvalidRecord("an obsolete offer needs a reason")
        at = _aware(at, "at")
        condition = [offers.c.person == person, offers.c.status.in_(OPEN)]
        if benefits is not None:
            condition.append(offers.c.benefit.in_(benefits))
        async with self._database.transaction() as conn:
            ids = [row.id for row in await conn.execute(select(offers.c.id).where(*condition))]
            if not ids:
                return []
            await conn.execute(
                update(offers)
                .where(offers.c.id.in_(ids), offers.c.status.in_(OPEN))
                .values(status="obsolete", decided_at=at, obsolete_reason=reason)
            )
            rows = await conn.execute(
                select(offers).where(offers.c.id.in_(ids), offers.c.status == "obsolete")
            )
            return [_offer(row) for row in rows]

    async def opt_out(self, person: str, at: datetime) -> None:
        """Never make ``person`` an offer again; opting out twice keeps the first time."""
        if not person:
            raise InvalidRecord("an opt-out needs a person")
        statement = (
            self._insert(opt_outs)
            .values(person=person, opted_out_at=_aware(at, "at"))
            .on_conflict_do_nothing(index_elements=["person"])
        )
        async with self._database.transaction() as conn:
            await conn.execute(statement)

    async def opted_out(self, person: str) -> bool:
        async with self._database.connection() as conn:
            row = await conn.execute(select(opt_outs.c.person).where(opt_outs.c.person == person))
            return row.first() is not None

    async def for_person(self, person: str) -> list[Offer]:
        """The offers made to ``person`` (a proactive pseudonym), latest detection first."""
        query = (
            select(offers)
            .where(offers.c.person == person)
            .order_by(offers.c.detected_at.desc(), offers.c.id)
        )
        async with self._database.connection() as conn:
            return [_offer(row) for row in await conn.execute(query)]

    async def for_campaign(self, campaign: str) -> list[Offer]:
        """The campaign's offers, oldest detection first."""
        query = (
            select(offers)
            .where(offers.c.campaign == campaign)
            .order_by(offers.c.detected_at, offers.c.id)
        )
        async with self._database.connection() as conn:
            return [_offer(row) for row in await conn.execute(query)]

    async def counts(self, campaign: str) -> Mapping[OfferStatus, int]:
        """How many of the campaign's offers are in each status, every status present."""
        query = (
            select(offers.c.status, func.count())
            .where(offers.c.campaign == campaign)
            .group_by(offers.c.status)
        )
        out: dict[OfferStatus, int] = dict.fromkeys(STATUSES, 0)
        async with self._database.connection() as conn:
            for status, count in await conn.execute(query):
                out[cast(OfferStatus, status)] = int(count)
        return out

    async def follow_ups(self, campaign: str) -> list[OfferFollowUp]:
        """The campaign's offers, oldest detection first, each with its messages' channels
        and outbox statuses and its person's opt-out time (two reads, no personal data)."""
        query = (
            select(offers, opt_outs.c.opted_out_at)
            .select_from(offers.outerjoin(opt_outs, opt_outs.c.person == offers.c.person))
            .where(offers.c.campaign == campaign)
            .order_by(offers.c.detected_at, offers.c.id)
        )
        sent = (
            select(outbox.c.offer_id, outbox.c.channel, outbox.c.status)
            .join(offers, offers.c.id == outbox.c.offer_id)
            .where(offers.c.campaign == campaign)
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        messages: dict[str, list[tuple[str, str]]] = {}
        async with self._database.connection() as conn:
            rows = (await conn.execute(query)).all()
            for offer_id, channel, status in await conn.execute(sent):
                messages.setdefault(offer_id, []).append((channel, status))
        return [
            OfferFollowUp(_offer(row), tuple(messages.get(row.id, ())), row.opted_out_at)
            for row in rows
        ]
