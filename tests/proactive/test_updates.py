"""Status updates from the sandbox agencies' events over HTTP: a job found, a birth or a move
makes the person's open offers for the benefits it changes obsolete and cancels their
messages, and the campaigns' own reading of the feeds examines them again; a death closes
every open offer and automatic act and sends nothing. Audited with the reason, replay-safe."""

from __future__ import annotations

import argparse
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from audit import AuditFilter
from cli.events import pending_triggers
from cli.grants import add_grant_parsers, own_triggers, run_grants
from connectors import PivotIdentity
from proactive.campaign import SECTOR
from proactive.triggers import Trigger, load_rules
from proactive.updates import Change, UpdateRunner, changes_from_triggers, update_rules
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import Grant, GrantStore, Message, Offer
from tests.proactive.test_campaign import settings_for

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
MONTH = "2025-06"
RECIPIENT = "13002526500013"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
        yield built


def runner(services: Services) -> UpdateRunner:
    return UpdateRunner(
        services.offers,
        services.outbox,
        GrantStore(services.database),
        services.renewals,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        load_rules(),
        lambda: NOW,
        recipient=RECIPIENT,
    )


async def offer(services: Services, person: str, benefit: str, told: bool) -> Offer:
    made = await services.offers.detect(
        Offer(id="", person=person, benefit=benefit, month=MONTH, campaign="c", monthly_amount=1),
        0,
        NOW,
    )
    assert made is not None
    for channel in ("email", "sms"):
        queued = await services.outbox.enqueue(
            Message(
                idempotency_key=f"offer:{made.id}:{channel}",
                channel=channel,
                address="x@example.org" if channel == "email" else "+33600000000",
                template="offer",
                payload={},
                created_at=NOW,
                next_attempt_at=NOW,
                offer_id=made.id,
            )
        )
        if told and channel == "email":
            await services.outbox.mark_sent(queued.id, NOW)
    return await services.offers.get(made.id)


def first_of(changes: list[Change], kind: str) -> Change:
    return next(c for c in changes if c.kind == kind)


async def test_changes_make_offers_obsolete_and_a_death_closes_everything(
    services: Services,
) -> None:
    consumer, triggers = await own_triggers(services, lambda: NOW, "updates", update_rules())
    changes = changes_from_triggers(triggers)
    assert {c.kind for c in changes} == {"job_found", "birth", "move", "death"}
    found, moved, died = (first_of(changes, k) for k in ("job_found", "move", "death"))
    pseudonym = {c: services.pseudonyms.pseudonym(c.identity, SECTOR) for c in (found, moved, died)}
    # A job found: every benefit of the family re-examined, told or not.
    job_rsa = await offer(services, pseudonym[found], "rsa", told=True)
    job_aspa = await offer(services, pseudonym[found], "aspa", told=False)
    # A move: housing aid and the CSS only; the RSA offer stands.
    move_css = await offer(services, pseudonym[moved], "css", told=False)
    move_rsa = await offer(services, pseudonym[moved], "rsa", told=False)
    # A death: every offer, a grant in force and its letter, a renewal's letter.
    dead_ppa = await offer(services, pseudonym[died], "ppa", told=False)
    grants = GrantStore(services.database)
    grant = await grants.record(
        Grant(
            id="g-dead",
            person=pseudonym[died],
            benefit="css",
            cause="rsa_granted",
            cause_on=date(2025, 5, 1),
            agency_grant_id="abc",
            start=date(2025, 8, 1),
            end=date(2026, 8, 1),
            granted_at=NOW,
            campaign="g",
        )
    )
    letter = await services.outbox.enqueue(
        Message(
            idempotency_key=f"grant:{grant.id}:letter",
            channel="letter",
            address="1 RUE X\n75001 PARIS",
            template="grant",
            payload={},
            created_at=NOW,
            next_attempt_at=NOW,
        )
    )

    summary = await runner(services).run(changes, "update-test")
    await consumer.ack(triggers)
    assert summary.examined == len(changes)
    assert summary.deaths == len([c for c in changes if c.kind == "death"])
    assert summary.to_examine_again == len([c for c in changes if c.kind != "death"])

    states = {
        o.id: (await services.offers.get(o.id))
        for o in (job_rsa, job_aspa, move_css, move_rsa, dead_ppa)
    }
    assert states[job_rsa.id].status == "obsolete"
    assert states[job_rsa.id].obsolete_reason == "job_found"
    assert states[job_aspa.id].status == "detected"  # a job does not change the ASPA
    assert states[move_css.id].status == "obsolete"
    assert states[move_css.id].obsolete_reason == "move"
    assert states[move_rsa.id].status == "detected"
    assert states[dead_ppa.id].status == "obsolete"
    assert states[dead_ppa.id].obsolete_reason == "death"
    assert summary.obsolete == 3 and summary.grants_closed == 1
    assert (await grants.get(grant.id)).status == "closed"
    # Nothing more is sent about them; what was sent stays sent.
    due = {m.id for m in await services.outbox.due(NOW, 1000)}
    assert letter.id not in due
    left = {m.offer_id for m in await services.outbox.due(NOW, 1000)}
    assert left == {job_aspa.id, move_rsa.id}
    assert summary.cancelled == 1 + 2 + 2 + 1  # the job's SMS, the move's two, the death's

    acts = await services.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
    reasons = {dict(s.entry.details)["reason"]: dict(s.entry.details) for s in acts.items}
    assert set(reasons) == {"job_found", "move", "death"}
    assert reasons["death"]["grants"] == grant.id
    assert reasons["job_found"]["offers"] == job_rsa.id
    assert all(s.entry.person not in pseudonym.values() for s in acts.items)
    assert all(s.entry.purpose == "proactive_detection" for s in acts.items)

    # A replay finds nothing open and writes nothing.
    again = await runner(services).run(changes, "update-test")
    assert again.obsolete == 0 and again.cancelled == 0 and again.grants_closed == 0
    assert len(
        (await services.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)).items
    ) == len(acts.items)

    # The campaigns read the same events with their own cursor: the job found is there for
    # them to examine the person again (rules.yaml), and nothing is examined for a death.
    _, theirs = await pending_triggers(services, lambda: NOW)
    again_for = {t.type: set(t.benefits) for t in theirs if t.type in ("job_found", "death")}
    assert again_for == {"job_found": {"rsa", "ppa", "css", "aide_logement"}}
    # An obsolete offer does not hold a new one back for the cooldown.
    fresh = Offer(id="", person=pseudonym[found], benefit="rsa", month="2025-07", campaign="d")
    assert await services.offers.detect(fresh, 180, NOW) is not None


def test_changes_come_from_the_update_events() -> None:
    person = PivotIdentity("MARTIN", ("SAMUEL",), date(1980, 9, 20), "M", "99100", "08480")
    subject: dict[str, str | list[str]] = dict(person.query_params())
    subject["prenoms[]"] = list(person.given_names)

    def trigger(kind: str, on: date) -> Trigger:
        return Trigger("civil_registry", f"{kind}-{on}", kind, on, subject, ("css",))

    found = changes_from_triggers(
        [
            trigger("death", date(2025, 6, 3)),
            trigger("move", date(2025, 5, 1)),
            trigger("move", date(2025, 6, 1)),
            trigger("job_loss", date(2025, 6, 1)),
        ]
    )
    # One per person and kind, the latest; the death last.
    assert [(c.kind, c.occurred_on) for c in found] == [
        ("move", date(2025, 6, 1)),
        ("death", date(2025, 6, 3)),
    ]


def test_the_update_command_prints_counts_only(sandbox: RunningSandbox, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_grant_parsers(parser.add_subparsers(dest="campaign_command", required=True))
    args = parser.parse_args(["update", "--from-events", "--recipient", RECIPIENT])
    out = io.StringIO()
    assert run_grants(settings_for(sandbox, tmp_path), args, lambda: NOW, out) == 0
    lines = dict(line.split() for line in out.getvalue().splitlines())
    assert set(lines) == {
        "examined",
        "obsolete",
        "cancelled",
        "grants_closed",
        "to_examine_again",
        "deaths",
    }
    assert int(lines["examined"]) >= 4 and int(lines["deaths"]) >= 1
