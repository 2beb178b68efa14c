from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from store import Database, InvalidRecord, Message, Offer, OfferStore, OutboxStore

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def _message(key: str | None = None, channel: str = "email", due: datetime = NOW) -> Message:
    return Message(
        idempotency_key=key or f"offer-{uuid.uuid4().hex}:{channel}",
        channel=channel,
        address="claire@example.org",
        template="offer",
        payload={"amount": 312.5, "criteria": ["revenus faibles"]},
        created_at=NOW,
        next_attempt_at=due,
        offer_id="offer-1",
    )


@pytest.fixture
def outbox(database: Database) -> OutboxStore:
    return OutboxStore(database)


async def test_enqueue_stores_a_pending_message(outbox: OutboxStore) -> None:
    stored = await outbox.enqueue(_message())
    assert stored.id and stored.status == "pending" and stored.attempts == 0
    assert await outbox.get(stored.id) == stored


async def test_same_idempotency_key_returns_the_existing_row(outbox: OutboxStore) -> None:
    first = await outbox.enqueue(_message("offer-dup:email"))
    again = await outbox.enqueue(
        Message(**{**_message("offer-dup:email").__dict__, "address": "other@example.org"})
    )
    assert again == first
    assert again.address == "claire@example.org"


async def test_due_lists_pending_and_failed_up_to_now(outbox: OutboxStore) -> None:
    key = uuid.uuid4().hex
    now_ = await outbox.enqueue(_message(f"{key}:now"))
    later = await outbox.enqueue(_message(f"{key}:later", due=NOW + timedelta(hours=1)))
    sent = await outbox.enqueue(_message(f"{key}:sent"))
    await outbox.mark_sent(sent.id, NOW)
    retry = await outbox.enqueue(_message(f"{key}:retry"))
    await outbox.mark_failed(retry.id, "timeout", NOW - timedelta(seconds=1), dead=False)
    ids = {m.id for m in await outbox.due(NOW, 1000)}
    assert {now_.id, retry.id} <= ids
    assert later.id not in ids and sent.id not in ids
    assert len(await outbox.due(NOW, 1)) == 1


async def test_mark_sent_then_failed_keeps_it_sent(outbox: OutboxStore) -> None:
    stored = await outbox.enqueue(_message())
    await outbox.mark_sent(stored.id, NOW)
    await outbox.mark_failed(stored.id, "timeout", NOW, dead=True)
    await outbox.mark_sent(stored.id, NOW + timedelta(minutes=5))
    after = await outbox.get(stored.id)
    assert after is not None
    assert (after.status, after.attempts, after.sent_at) == ("sent", 1, NOW)


async def test_mark_failed_counts_attempts_and_goes_dead(outbox: OutboxStore) -> None:
    stored = await outbox.enqueue(_message(channel="sms"))
    await outbox.mark_failed(stored.id, "provider_5xx", NOW + timedelta(seconds=30), dead=False)
    await outbox.mark_failed(stored.id, "refused", NOW, dead=True)
    after = await outbox.get(stored.id)
    assert after is not None
    assert (after.status, after.attempts, after.last_error) == ("dead", 2, "refused")
    assert after.id not in {m.id for m in await outbox.due(NOW + timedelta(days=1), 1000)}


async def test_invalid_messages_are_refused(outbox: OutboxStore) -> None:
    with pytest.raises(InvalidRecord):
        await outbox.enqueue(_message(channel="pigeon"))
    with pytest.raises(InvalidRecord):
        await outbox.enqueue(Message(**{**_message().__dict__, "created_at": datetime(2025, 1, 1)}))


async def test_cancel_spares_what_was_sent_or_given_up(outbox: OutboxStore) -> None:
    key = uuid.uuid4().hex
    offer = f"offer-{key}"

    def of_offer(channel: str) -> Message:
        return Message(**{**_message(f"{key}:{channel}", channel).__dict__, "offer_id": offer})

    pending = await outbox.enqueue(of_offer("email"))
    sent = await outbox.enqueue(of_offer("sms"))
    failed = await outbox.enqueue(of_offer("letter"))
    await outbox.mark_sent(sent.id, NOW)
    await outbox.mark_failed(failed.id, "timeout", NOW + timedelta(minutes=5), dead=False)
    act = await outbox.enqueue(
        Message(**{**_message(f"grant:{key}_%:email").__dict__, "offer_id": None})
    )
    other = await outbox.enqueue(
        Message(**{**_message(f"grant:{key}_x:email").__dict__, "offer_id": None})
    )
    assert await outbox.cancel() == 0
    assert await outbox.cancel(offer_ids=(offer,)) == 2
    # A prefix is taken literally: its % and _ match nothing else.
    assert await outbox.cancel(key_prefixes=(f"grant:{key}_%:",)) == 1
    states = [await outbox.get(m.id) for m in (pending, sent, failed, act, other)]
    assert [s.status if s else None for s in states] == [
        "cancelled",
        "sent",
        "cancelled",
        "cancelled",
        "pending",
    ]
    due = {m.id for m in await outbox.due(NOW + timedelta(hours=1), 1000)}
    assert not due & {pending.id, failed.id, act.id}
    assert await outbox.cancel(offer_ids=(offer,)) == 0
    with pytest.raises(InvalidRecord):
        await outbox.cancel(key_prefixes=("",))


async def test_for_campaign_lists_the_messages_of_its_offers(database: Database) -> None:
    outbox, offers = OutboxStore(database), OfferStore(database)
    campaign = f"campaign-{uuid.uuid4().hex}"

    async def offer_of(person: str, campaign: str) -> str:
        made = await offers.detect(
            Offer("", person, "rsa", "2025-06", campaign, "75", 612.5, {}), 90, NOW
        )
        assert made is not None
        return made.id

    mine = await offer_of(f"p-{uuid.uuid4().hex}", campaign)
    other = await offer_of(f"p-{uuid.uuid4().hex}", f"{campaign}-other")
    sms, email, elsewhere = [
        await outbox.enqueue(Message(**{**_message(channel=c).__dict__, "offer_id": o}))
        for c, o in (("sms", mine), ("email", mine), ("sms", other))
    ]
    assert {m.id for m in await outbox.for_campaign(campaign)} == {sms.id, email.id}
    assert [m.id for m in await outbox.for_campaign(campaign, "sms")] == [sms.id]
    assert [m.id for m in await outbox.for_campaign(f"{campaign}-other")] == [elsewhere.id]
    assert await outbox.for_campaign("no-such-campaign") == []
