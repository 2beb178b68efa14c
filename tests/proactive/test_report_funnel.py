"""The report's funnel: steps reached, read from the offers' times, messages and opt-outs of a
real store, never from their current status alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proactive.report import Funnel, Parameters, funnel, render_report
from store import Database, Message, OfferStore, OutboxStore, connect, migrate
from store.offers import Offer, OfferFollowUp

T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await connect(f"sqlite+aiosqlite:///{(tmp_path / 'store.db').as_posix()}")
    await migrate(database)
    try:
        yield database
    finally:
        await database.aclose()


def offer(person: str, campaign: str = "rsa-2025-06") -> Offer:
    return Offer(id=f"o-{person}", person=person, benefit="rsa", month="2025-06", campaign=campaign)


def message(offer_id: str, channel: str) -> Message:
    return Message(
        idempotency_key=f"{offer_id}:{channel}",
        channel=channel,
        address="somewhere",
        template="offer",
        payload={},
        created_at=T0,
        next_attempt_at=T0,
        offer_id=offer_id,
    )


async def test_an_offer_counts_at_every_step_it_reached(database: Database) -> None:
    offers, outbox = OfferStore(database), OutboxStore(database)
    for person in ("opened-declined", "applied", "dead", "none", "opted", "expired", "pending"):
        assert await offers.detect(offer(person), 180, T0) is not None
    await offers.detect(offer("elsewhere", campaign="other"), 180, T0)

    queued = {}
    for person, channels in {
        "opened-declined": ("email", "sms"),
        "applied": ("letter",),
        "dead": ("email", "sms"),
        "opted": ("email",),
        "expired": ("email",),
        "pending": ("sms",),
    }.items():
        for channel in channels:
            queued[person, channel] = await outbox.enqueue(message(f"o-{person}", channel))
    # opened-declined: told by e-mail and SMS, opened the link, then declined.
    await outbox.mark_sent(queued["opened-declined", "email"].id, at(1))
    await outbox.mark_sent(queued["opened-declined", "sms"].id, at(1))
    await offers.opened("o-opened-declined", at(2))
    await offers.declined("o-opened-declined", at(3))
    # applied: told by letter, applied without opening the link.
    await outbox.mark_sent(queued["applied", "letter"].id, at(1))
    assert await offers.applied("applied", "rsa", at(4)) == 1
    # dead: every message given up; never notified.
    for channel in ("email", "sms"):
        await outbox.mark_failed(queued["dead", channel].id, "rejected", at(1), dead=True)
    # opted: told, then asked never to be written to again.
    await outbox.mark_sent(queued["opted", "email"].id, at(1))
    await offers.opt_out("opted", at(5))
    # expired: told, never answered; pending: its SMS still to be retried.
    await outbox.mark_sent(queued["expired", "email"].id, at(1))
    await offers.expire(at(6), at(7))
    await outbox.mark_failed(queued["pending", "sms"].id, "timeout", at(8), dead=False)

    follow_ups = await offers.follow_ups("rsa-2025-06")
    by_person = {f.offer.person: f for f in follow_ups}
    assert set(by_person) == {
        "opened-declined",
        "applied",
        "dead",
        "none",
        "opted",
        "expired",
        "pending",
    }
    assert sorted(by_person["dead"].messages) == [("email", "dead"), ("sms", "dead")]
    assert by_person["opted"].opted_out_at == at(5)
    assert by_person["none"].messages == () and by_person["none"].opted_out_at is None

    found = funnel(follow_ups)
    # "expire" closed every open offer detected before at(6): pending, dead, none too.
    assert found == Funnel(
        detected=7,
        notified=4,  # opened-declined, applied, opted, expired
        by_channel=(("email", 3), ("sms", 1), ("letter", 1)),
        opened=1,  # opened then declined: still opened
        applied=1,
        declined=1,  # … and declined
        opted_out=1,
        expired=5,
        undeliverable=1,  # dead
        without_message=1,  # none
    )


def follow(status: str, **times: datetime) -> OfferFollowUp:
    made = replace(offer(status), status=status, **times)  # type: ignore[arg-type]
    return OfferFollowUp(made)


def test_the_funnel_is_not_the_current_status() -> None:
    """The exclusive count said 0 opened for an offer opened then declined."""
    declined = follow("declined", notified_at=at(1), opened_at=at(2), decided_at=at(3))
    applied = follow("applied", notified_at=at(1), opened_at=at(2), decided_at=at(3))
    expired = follow("expired", notified_at=at(1), opened_at=at(2), decided_at=at(9))
    found = funnel([declined, applied, expired, follow("detected")])
    assert (found.detected, found.notified, found.opened) == (4, 3, 3)
    assert (found.applied, found.declined, found.expired) == (1, 1, 1)
    page = render_report(
        [declined, applied, expired], None, Parameters(campaigns=("rsa-2025-06",)), at(10)
    )
    assert "ouvertes : 3" in page and "refusées" in page and "désinscrites" in page


def test_obsolete_offers_are_counted_beside_the_funnel() -> None:
    """An offer a change of situation made pointless: reached notified, then obsolete."""
    stale = follow("obsolete", notified_at=at(1), decided_at=at(4))
    untold = follow("obsolete", decided_at=at(4))
    found = funnel([stale, untold, follow("detected")])
    assert (found.detected, found.notified, found.obsolete) == (3, 1, 2)
    assert found.expired == 0 and found.declined == 0
    page = render_report([stale, untold], None, Parameters(campaigns=("rsa-2025-06",)), at(10))
    assert "devenues sans objet : 2" in page
