"""OfferStore on both backends: detection rules, the lifecycle, opt-outs and two workers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from store import (
    Database,
    InvalidRecord,
    InvalidTransition,
    Message,
    Offer,
    OfferNotFound,
    OfferStore,
    OutboxStore,
    connect,
    migrate,
)
from tests.store.conftest import Target

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
COOLDOWN = 90


@pytest.fixture
def offers(database: Database) -> OfferStore:
    return OfferStore(database)


def offer(
    person: str, *, benefit: str = "rsa", month: str = "2025-06", campaign: str = ""
) -> Offer:
    return Offer(
        id="",
        person=person,
        benefit=benefit,
        month=month,
        campaign=campaign or f"campaign-{person}",
        territory="75",
        monthly_amount=612.5,
        evidence={"revenus": "aucun salaire depuis mars", "sources": ["gip_mds"]},
    )


async def test_detect_stores_a_detected_offer(offers: OfferStore, person: str) -> None:
    stored = await offers.detect(offer(person), COOLDOWN, NOW)
    assert stored is not None and stored.id and stored.status == "detected"
    assert stored.detected_at == NOW
    assert await offers.get(stored.id) == stored
    assert await offers.for_campaign(stored.campaign) == [stored]


async def test_same_month_twice_gives_one_offer(offers: OfferStore, person: str) -> None:
    assert await offers.detect(offer(person), 0, NOW) is not None
    # A zero cooldown leaves only the unique constraint to refuse it, without an error.
    assert await offers.detect(offer(person), 0, NOW + timedelta(days=1)) is None


async def test_cooldown(offers: OfferStore, person: str) -> None:
    first = await offers.detect(offer(person, month="2025-05"), COOLDOWN, NOW)
    assert first is not None
    within = NOW + timedelta(days=COOLDOWN - 1)
    assert await offers.detect(offer(person, month="2025-08"), COOLDOWN, within) is None
    # Another benefit is not held back by the cooldown of the first.
    assert await offers.detect(offer(person, benefit="css"), COOLDOWN, within) is not None
    after = NOW + timedelta(days=COOLDOWN)
    assert await offers.detect(offer(person, month="2025-09"), COOLDOWN, after) is not None


async def test_opted_out_persons_get_no_offer(offers: OfferStore, person: str) -> None:
    assert not await offers.opted_out(person)
    await offers.opt_out(person, NOW)
    await offers.opt_out(person, NOW + timedelta(days=1))  # again: harmless
    assert await offers.opted_out(person)
    assert await offers.detect(offer(person), COOLDOWN, NOW) is None


async def test_lifecycle(offers: OfferStore, person: str) -> None:
    stored = await offers.detect(offer(person), COOLDOWN, NOW)
    assert stored is not None
    notified = await offers.transition(stored.id, "notified", NOW + timedelta(hours=1))
    opened = await offers.transition(stored.id, "opened", NOW + timedelta(days=2))
    applied = await offers.transition(stored.id, "applied", NOW + timedelta(days=3))
    assert (notified.status, notified.notified_at) == ("notified", NOW + timedelta(hours=1))
    assert (opened.status, opened.opened_at) == ("opened", NOW + timedelta(days=2))
    assert (applied.status, applied.decided_at) == ("applied", NOW + timedelta(days=3))
    with pytest.raises(InvalidTransition):
        await offers.transition(stored.id, "declined", NOW + timedelta(days=4))


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), "opened"),
        ((), "declined"),
        ((), "detected"),
        (("notified",), "notified"),
        (("expired",), "notified"),
        (("notified", "declined"), "opened"),
    ],
)
async def test_invalid_transitions(
    offers: OfferStore, person: str, path: tuple[str, ...], bad: str
) -> None:
    stored = await offers.detect(offer(person), COOLDOWN, NOW)
    assert stored is not None
    for status in path:
        await offers.transition(stored.id, status, NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition):
        await offers.transition(stored.id, bad, NOW)  # type: ignore[arg-type]


async def test_unknown_offer(offers: OfferStore) -> None:
    with pytest.raises(OfferNotFound):
        await offers.transition("no-such-offer", "notified", NOW)


async def test_invalid_input(offers: OfferStore, person: str) -> None:
    with pytest.raises(InvalidRecord):
        await offers.detect(replace(offer(person), benefit=""), COOLDOWN, NOW)
    with pytest.raises(InvalidRecord):
        await offers.detect(offer(person), COOLDOWN, datetime(2025, 7, 10))
    with pytest.raises(InvalidRecord):
        await offers.detect(offer(person), -1, NOW)


async def test_counts(offers: OfferStore, person: str) -> None:
    campaign = f"campaign-{person}"
    ids = []
    for benefit in ("rsa", "ppa", "css"):
        stored = await offers.detect(offer(person, benefit=benefit), COOLDOWN, NOW)
        assert stored is not None
        ids.append(stored.id)
    await offers.transition(ids[0], "notified", NOW)
    await offers.transition(ids[1], "expired", NOW)
    counts = await offers.counts(campaign)
    assert counts == {
        "detected": 1,
        "notified": 1,
        "opened": 0,
        "applied": 0,
        "declined": 0,
        "expired": 1,
        "obsolete": 0,
    }
    assert set((await offers.counts("no-such-campaign")).values()) == {0}


async def test_two_workers_detect_one_offer(
    offers: OfferStore, target: Target, person: str
) -> None:
    # A second Database is a second worker: its own pool, the same tables.
    other = await connect(target.url, schema=target.schema)
    try:
        await migrate(other)
        second = OfferStore(other)
        for round_ in range(5):
            month = f"2025-0{round_ + 1}"
            results = await asyncio.gather(
                offers.detect(offer(person, month=month), 0, NOW),
                second.detect(offer(person, month=month), 0, NOW),
            )
            assert sum(r is not None for r in results) == 1
    finally:
        await other.aclose()
    stored = await offers.for_campaign(f"campaign-{person}")
    assert sorted(o.month for o in stored) == [f"2025-0{i}" for i in range(1, 6)]


async def test_a_delivered_message_notifies_its_offer_once(
    offers: OfferStore, database: Database, person: str
) -> None:
    stored = await offers.detect(offer(person), COOLDOWN, NOW)
    assert stored is not None
    outbox = OutboxStore(database)
    first, second = [
        await outbox.enqueue(
            Message(
                idempotency_key=f"offer:{stored.id}:{channel}",
                channel=channel,
                address="x",
                template="offer",
                payload={},
                created_at=NOW,
                next_attempt_at=NOW,
                offer_id=stored.id,
            )
        )
        for channel in ("email", "sms")
    ]
    await outbox.mark_sent(first.id, NOW + timedelta(minutes=1))
    await outbox.mark_sent(second.id, NOW + timedelta(minutes=2))
    notified = await offers.get(stored.id)
    assert notified.status == "notified"
    assert notified.notified_at == NOW + timedelta(minutes=1)


async def test_opened_then_applied(offers: OfferStore, person: str) -> None:
    early = await offers.detect(offer(person, benefit="css"), COOLDOWN, NOW)
    assert early is not None
    # Applied for before any delivery (from the citizen space): applied all the same.
    assert await offers.applied(person, "css", NOW) == 1
    assert (await offers.get(early.id)).status == "applied"
    stored = await offers.detect(offer(person), COOLDOWN, NOW)
    assert stored is not None
    # Opened before any delivery: nothing to record.
    assert (await offers.opened(stored.id, NOW)).status == "detected"
    await offers.transition(stored.id, "notified", NOW)
    assert (await offers.applied(person, "ppa", NOW)) == 0  # another benefit
    opened = await offers.opened(stored.id, NOW + timedelta(hours=1))
    assert opened.status == "opened" and opened.opened_at == NOW + timedelta(hours=1)
    assert (await offers.opened(stored.id, NOW + timedelta(hours=2))).opened_at == opened.opened_at
    assert (await offers.applied(person, "rsa", NOW + timedelta(days=1))) == 1
    applied = await offers.get(stored.id)
    assert applied.status == "applied" and applied.decided_at == NOW + timedelta(days=1)
    assert (await offers.applied(person, "rsa", NOW + timedelta(days=2))) == 0
    assert (await offers.opened(stored.id, NOW + timedelta(days=3))).status == "applied"
    with pytest.raises(OfferNotFound):
        await offers.opened("no-such-offer", NOW)


async def test_undelivered_finds_the_campaigns_offer_until_someone_is_told(
    offers: OfferStore, person: str
) -> None:
    stored = await offers.detect(offer(person, campaign="c1"), COOLDOWN, NOW)
    assert stored is not None
    found = await offers.undelivered(person, "rsa", "2025-06", "c1")
    assert found is not None and found.id == stored.id
    # Another campaign, benefit or month is another offer.
    assert await offers.undelivered(person, "rsa", "2025-06", "c2") is None
    assert await offers.undelivered(person, "ppa", "2025-06", "c1") is None
    assert await offers.undelivered(person, "rsa", "2025-05", "c1") is None
    await offers.transition(stored.id, "notified", NOW)
    assert await offers.undelivered(person, "rsa", "2025-06", "c1") is None


async def test_declined_from_notified_or_opened_only(offers: OfferStore, person: str) -> None:
    stored = await offers.detect(offer(person), COOLDOWN, NOW)
    assert stored is not None
    assert (await offers.declined(stored.id, NOW)).status == "detected"  # nobody told yet
    await offers.transition(stored.id, "notified", NOW)
    declined = await offers.declined(stored.id, NOW + timedelta(hours=1))
    assert declined.status == "declined" and declined.decided_at == NOW + timedelta(hours=1)
    assert (await offers.applied(person, "rsa", NOW + timedelta(days=1))) == 0
    assert (await offers.declined(stored.id, NOW + timedelta(days=2))).decided_at == (
        declined.decided_at
    )
    with pytest.raises(OfferNotFound):
        await offers.declined("no-such-offer", NOW)


async def test_stale_open_offers_expire(offers: OfferStore, person: str) -> None:
    old = await offers.detect(offer(person, month="2025-01"), 0, NOW - timedelta(days=100))
    done = await offers.detect(
        offer(person, benefit="ppa", month="2025-02"), 0, NOW - timedelta(days=99)
    )
    fresh = await offers.detect(offer(person, month="2025-03"), 0, NOW)
    assert old is not None and done is not None and fresh is not None
    await offers.transition(done.id, "notified", NOW - timedelta(days=99))
    await offers.applied(person, "ppa", NOW - timedelta(days=98))
    assert await offers.expire(NOW - timedelta(days=90), NOW) == 1
    assert (await offers.get(old.id)).status == "expired"
    assert (await offers.get(done.id)).status == "applied"
    assert (await offers.get(fresh.id)).status == "detected"
    assert await offers.expire(NOW - timedelta(days=90), NOW) == 0


async def test_open_offers_become_obsolete_with_their_reason(
    offers: OfferStore, person: str
) -> None:
    made = {}
    for benefit in ("rsa", "ppa", "css", "aide_logement"):
        stored = await offers.detect(offer(person, benefit=benefit), COOLDOWN, NOW)
        assert stored is not None
        made[benefit] = stored
    await offers.transition(made["ppa"].id, "notified", NOW)
    await offers.transition(made["css"].id, "expired", NOW)
    later = NOW + timedelta(days=1)
    stale = await offers.obsolete(person, "move", later, benefits=("ppa", "css", "aide_logement"))
    # The expired one is left alone, and the RSA's is not among the benefits named.
    assert {o.benefit for o in stale} == {"ppa", "aide_logement"}
    assert all(o.status == "obsolete" and o.obsolete_reason == "move" for o in stale)
    assert all(o.decided_at == later for o in stale)
    assert (await offers.get(made["rsa"].id)).status == "detected"
    # A replayed event finds nothing open any more.
    assert await offers.obsolete(person, "move", later, benefits=("ppa",)) == []
    everything = await offers.obsolete(person, "death", later)
    assert [o.benefit for o in everything] == ["rsa"]
    assert everything[0].obsolete_reason == "death"
    with pytest.raises(InvalidRecord):
        await offers.obsolete(person, "", later)


async def test_an_obsolete_offer_does_not_hold_back_a_new_one(
    offers: OfferStore, person: str
) -> None:
    first = await offers.detect(offer(person, month="2025-06"), COOLDOWN, NOW)
    assert first is not None
    await offers.obsolete(person, "job_found", NOW)
    within = NOW + timedelta(days=10)
    again = await offers.detect(offer(person, month="2025-07"), COOLDOWN, within)
    assert again is not None and again.status == "detected"
    assert (await offers.counts(f"campaign-{person}"))["obsolete"] == 1
