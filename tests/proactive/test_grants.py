"""Automatic grant of the free CSS to new RSA recipients, against the sandbox agencies over
HTTP through the real exchange, store and audit log: granted from the CAF's events unless the
CNAM covers them already, audited, told, undoable, idempotent, and refused again once undone."""

from __future__ import annotations

import argparse
import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from audit import AuditFilter
from cli.grants import add_grant_parsers, own_triggers, run_grants
from connectors import CallContext, FranceConnectToken, PivotIdentity
from exchange.caller import Citizen
from proactive.campaign import SECTOR
from proactive.grants import (
    Candidate,
    GrantRunner,
    candidates_from_triggers,
    first_of_next_month,
    grant_key,
    grant_rules,
)
from proactive.notifications.rendering import Renderer
from proactive.triggers import Trigger
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import GrantStore, Offer, connect, database_url_for
from tests.faults import clear_faults, set_faults
from tests.proactive.test_campaign import settings_for

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025
MONTH = "2025-06"
RECIPIENT = "13002526500013"
CAMPAIGN = "css-grant-test"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its own sandbox: grants change what its CNAM answers until they are undone.
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
        yield built


def runner(services: Services) -> GrantRunner:
    return GrantRunner(
        services.exchange,
        services.connectors.cnam,
        GrantStore(services.database),
        services.offers,
        services.outbox,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        lambda: NOW,
        recipient=RECIPIENT,
    )


def coverage(sandbox: RunningSandbox, identity: PivotIdentity) -> dict[str, object]:
    params: list[tuple[str, str]] = [("recipient", RECIPIENT), *identity.query_params()]
    with httpx.Client(timeout=5.0) as http:
        token = http.post(
            sandbox.urls["cnam"] + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sandbox.client_id, sandbox.client_secret),
        ).json()["access_token"]
        answer = http.get(
            sandbox.urls["cnam"] + "/v1/assurance-maladie/identite",
            params=params,
            headers={"Authorization": "Bearer " + token},
        )
    css: dict[str, object] = answer.json()["data"]["css"]
    return css


async def candidates(services: Services, reader: str) -> list[Candidate]:
    consumer, triggers = await own_triggers(services, lambda: NOW, reader, grant_rules())
    assert {t.type for t in triggers} == {"rsa_granted"}
    await consumer.ack(triggers)
    return candidates_from_triggers(triggers)


async def test_granted_unless_covered_audited_told_undoable_and_idempotent(
    sandbox: RunningSandbox, services: Services
) -> None:
    found = await candidates(services, "grants")
    assert found and all(c.rsa_since <= NOW.date() for c in found)
    # An open invitation to ask for the CSS, for everyone: granted, it has no object.
    pseudonyms = {services.pseudonyms.pseudonym(c.identity, SECTOR): c for c in found}
    for person in pseudonyms:
        await services.offers.detect(
            Offer(id="", person=person, benefit="css", month=MONTH, campaign="invite"), 0, NOW
        )

    summary = await runner(services).run(found, CAMPAIGN)
    assert summary.examined == len(found)
    # The seed's new RSA recipients: most already have the CSS, at least one has not.
    assert summary.granted >= 1 and summary.already_has >= 1 and summary.errors == 0
    assert summary.granted + summary.already_has + summary.refused == len(found)

    store = GrantStore(services.database)
    rows = await store.for_campaign(CAMPAIGN)
    assert len(rows) == summary.granted
    start = first_of_next_month(NOW.date())
    for row in rows:
        assert row.status == "granted" and row.cause == "rsa_granted"
        assert row.start == start and row.end == date(start.year + 1, start.month, 1)
        assert row.cause_on == pseudonyms[row.person].rsa_since
        css = coverage(sandbox, pseudonyms[row.person].identity)
        assert css["est_beneficiaire"] is True and css["avec_participation"] is False
        assert css["date_renouvellement"] == row.end.isoformat()
    granted = {r.person for r in rows}
    invitations = await services.offers.for_campaign("invite")
    assert {o.person for o in invitations if o.status == "obsolete"} == granted
    assert all(o.obsolete_reason == "granted" for o in invitations if o.status == "obsolete")

    acts = await services.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
    assert len(acts.items) == summary.granted
    for stored in acts.items:
        entry = stored.entry
        assert entry.purpose == "css_automatic_grant" and entry.agencies == ("cnam",)
        assert dict(entry.details)["action"] == "css_automatic_grant"
        assert dict(entry.details)["grant"] in {r.id for r in rows}
        assert entry.person is not None and entry.person not in granted
        assert entry.legal_basis is not None and "L861-2" in entry.legal_basis[0]
    reads = await services.audit_reader.entries(
        AuditFilter(purpose="css_automatic_grant"), first=500
    )
    assert len(reads.items) == summary.examined + summary.granted

    messages = [m for m in await services.outbox.due(NOW, 500) if m.template == "grant"]
    assert len({m.payload["reference"] for m in messages}) == summary.notified >= 1
    assert {m.payload["reference"] for m in messages} <= {r.id for r in rows}
    told = Renderer("https://unefois.example").render(
        "grant", messages[0].channel, messages[0].payload, NOW.date()
    )
    assert messages[0].payload["reference"] in told.text
    assert "https://unefois.example/mon-espace" in told.text
    assert "refuser" in told.text

    again = await runner(services).run(found, CAMPAIGN)
    assert again.granted == 0 and again.already_done == summary.granted
    assert len(await store.for_campaign(CAMPAIGN)) == len(rows)
    assert len([m for m in await services.outbox.due(NOW, 500) if m.template == "grant"]) == len(
        messages
    )

    for row in rows:
        reverted = await runner(services).revert(row.id)
        assert reverted.status == "reverted" and reverted.ended_at == NOW
        assert coverage(sandbox, pseudonyms[row.person].identity)["est_beneficiaire"] is False
        assert await runner(services).revert(row.id) == reverted  # nothing more happens
    # Its messages not sent yet are not sent any more.
    assert not [m for m in await services.outbox.due(NOW, 500) if m.template == "grant"]
    acts = await services.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
    undone = [
        s.entry for s in acts.items if dict(s.entry.details)["action"] != "css_automatic_grant"
    ]
    assert {dict(e.details)["action"] for e in undone} == {"css_automatic_grant_reverted"}
    assert {dict(e.details)["grant"] for e in undone} == {r.id for r in rows}
    by_grant = {
        dict(s.entry.details)["grant"]: s.entry.person
        for s in acts.items
        if dict(s.entry.details)["action"] == "css_automatic_grant"
    }
    # The undoing names the same person as the grant did: both are in their journal.
    assert all(e.person == by_grant[dict(e.details)["grant"]] for e in undone)
    citizen = Citizen(
        pseudonyms[rows[0].person].identity, FranceConnectToken("unused-token-0123456789")
    )
    journal = await services.oversight.journal(citizen, first=50, after=None)
    assert sorted(i.action for i in journal.items if i.action is not None) == [
        "Annulation de l'ouverture automatique de votre complémentaire santé solidaire",
        "Ouverture automatique de votre complémentaire santé solidaire",
    ]

    # Their refusal holds: a later RSA right does not grant it again.
    later = [Candidate(pseudonyms[r.person].identity, date(2025, 7, 1)) for r in rows]
    refused = await runner(services).run(later, "later")
    assert refused.objected == len(rows) and refused.granted == 0


async def test_a_grant_made_before_a_crash_is_recorded_by_the_rerun(
    sandbox: RunningSandbox, services: Services
) -> None:
    found = await candidates(services, "grants-crash")
    uncovered = [c for c in found if coverage(sandbox, c.identity)["est_beneficiaire"] is False]
    assert uncovered
    person = uncovered[0]
    pseudonym = services.pseudonyms.pseudonym(person.identity, SECTOR)
    # The run that crashed: the CNAM attributed it, nothing was recorded.
    ctx = CallContext(recipient=RECIPIENT, on=NOW.date())
    made = await services.connectors.cnam.attribute_css(
        person.identity,
        first_of_next_month(NOW.date()),
        grant_key(pseudonym, person.rsa_since),
        ctx,
    )
    try:
        summary = await runner(services).run([person], "rerun")
        assert summary.granted == 1 and summary.already_has == 0, summary
        [row] = await GrantStore(services.database).for_campaign("rerun")
        assert row.agency_grant_id == made.id  # the same attribution, not a second one
    finally:
        await services.connectors.cnam.withdraw_css_attribution(made.id, ctx)


def test_candidates_come_from_the_rsa_events() -> None:
    person = PivotIdentity("MARTIN", ("SAMUEL",), date(1980, 9, 20), "M", "99100", "08480")
    subject: dict[str, str | list[str]] = dict(person.query_params())
    subject["prenoms[]"] = list(person.given_names)

    def trigger(kind: str, on: date, who: dict[str, str | list[str]] = subject) -> Trigger:
        return Trigger("api_particulier", f"{kind}-{on}", kind, on, who, ("css",))

    found = candidates_from_triggers(
        [
            trigger("rsa_granted", date(2025, 3, 1)),
            trigger("rsa_granted", date(2025, 5, 1)),
            trigger("birth", date(2025, 5, 2)),
            trigger("rsa_granted", date(2025, 5, 1), {"nomNaissance": "X"}),
        ]
    )
    assert [c.rsa_since for c in found] == [date(2025, 5, 1)]
    assert found[0].identity.key() == person.key()
    assert first_of_next_month(date(2025, 12, 31)) == date(2026, 1, 1)
    assert first_of_next_month(date(2025, 1, 31)) == date(2025, 2, 1)


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    csub = parser.add_subparsers(dest="campaign_command", required=True)
    add_grant_parsers(csub)
    return parser.parse_args(argv)


async def _grant_ids(tmp_path: Path) -> list[str]:
    database = await connect(database_url_for(tmp_path, None))
    try:
        return [g.id for g in await GrantStore(database).listing()]
    finally:
        await database.aclose()


def test_the_commands_print_counts_and_references_only(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    out = io.StringIO()
    args = _cli("grant", "--from-events", "--campaign", "cli", "--recipient", RECIPIENT)
    assert run_grants(settings, args, lambda: NOW, out) == 0
    lines = dict(line.split() for line in out.getvalue().splitlines())
    assert set(lines) == {"granted", "already_has", "objected", "refused", "reverted", "errors"}
    assert int(lines["granted"]) >= 1

    # The events are acknowledged: a second run has nothing left to read.
    out = io.StringIO()
    assert run_grants(settings, args, lambda: NOW, out) == 0
    assert dict(line.split() for line in out.getvalue().splitlines())["granted"] == "0"

    ids = asyncio.run(_grant_ids(tmp_path))
    assert len(ids) == int(lines["granted"])
    out = io.StringIO()
    assert run_grants(settings, _cli("list-grants", "--campaign", "cli"), lambda: NOW, out) == 0
    listed = out.getvalue().splitlines()
    assert listed[0].split("\t")[:3] == ["id", "benefit", "status"]
    assert {line.split("\t")[0] for line in listed[1:]} == set(ids)
    for grant_id in ids:
        out = io.StringIO()
        args = _cli("revert-grant", "--id", grant_id, "--recipient", RECIPIENT)
        assert run_grants(settings, args, lambda: NOW, out) == 0
        assert "reverted" in out.getvalue()
    unknown = _cli("revert-grant", "--id", "nope", "--recipient", RECIPIENT)
    assert run_grants(settings, unknown, lambda: NOW, io.StringIO()) == 1
    assert run_grants(settings, _cli("revert-grant", "--id", "x"), lambda: NOW) == 2


@pytest.fixture
def faults_cleared(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    clear_faults(sandbox)


async def test_nobody_is_granted_while_the_caf_file_cannot_be_read(
    sandbox: RunningSandbox, services: Services, faults_cleared: None
) -> None:
    """The CAF's file gives the address a letter goes to: granted without it, the person
    might never be told how to refuse. They are left to the next run, counted as errors."""
    found = await candidates(services, "grants-caf-down")
    await set_faults(sandbox, "api_particulier", {"error_rate": 1.0})
    summary = await runner(services).run(found, "css-grant-caf-down")
    assert summary.examined == summary.errors == len(found) > 0
    assert summary.granted == summary.already_has == summary.refused == 0
    assert await GrantStore(services.database).for_campaign("css-grant-caf-down") == []
