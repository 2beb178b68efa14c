"""Automatic CSS renewal against the sandbox agencies through the real exchange, store and
audit log: renewed when unchanged, invited otherwise, audited, reversible, idempotent."""

from __future__ import annotations

import argparse
import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit import AuditFilter
from cli.renewal import add_renewal_parsers, run_renewal
from connectors import FranceConnectToken, PivotIdentity, Provenance, records
from eligibility import BenefitResult
from exchange import FIELDS
from exchange.auditing import Auditor
from exchange.caller import Citizen
from exchange.oversight import Oversight
from policies import load_catalogue
from proactive.campaign import SECTOR
from proactive.notifications.rendering import Renderer, french_date
from proactive.population import identity_from_params
from proactive.renewal import Candidate, RenewalRunner, _Fetched, candidates_from_triggers, doubt
from proactive.triggers.consumer import Trigger
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import RenewalStore, connect, database_url_for
from tests.faults import clear_faults, set_faults
from tests.proactive.test_campaign import settings_for

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025
MONTH = "2025-06"
RECIPIENT = "13002526500013"
CAMPAIGN = "css-renewal-2025-06"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its own sandbox: renewals change what its CNAM answers until they are reverted. The
    # seed gives the kinds of holders the renewal test needs (``kinds`` checks they exist).
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def holder_entries(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """The living adults holding the CSS, as the sandbox lists them (with their truth)."""
    with httpx.Client(timeout=5.0) as http:
        data = http.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "css", "limit": 1000},
        ).json()["data"]
    return [e for e in data if e["role"] == "adult" and not e["deceased"]]


@pytest.fixture(scope="module")
def holders(holder_entries: list[dict[str, Any]]) -> list[PivotIdentity]:
    return [identity_from_params(e["personne"]) for e in holder_entries]


def kinds(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The holders due within the renewal window whose household the rules read whole (one
    adult, every month declared, known to the CAF, no AAH), by what
    the law says of them now: the same tier as their right, or another tier."""
    today = NOW.date()
    due = [
        e
        for e in entries
        if today < date.fromisoformat(e["css"]["renouvellement"]) <= today + timedelta(days=60)
        and "couple" not in e["household_kind"]
        and not e["missing_months"]
        and not e["unknown_to_caf"]
        and "aah" not in e["rights"]
        and e["truth"]["css_eligible"]
    ]
    return {
        "same": [e for e in due if e["css"]["participation"] == e["truth"]["css_participation"]],
        "changed": [e for e in due if e["css"]["participation"] != e["truth"]["css_participation"]],
    }


@pytest.fixture
async def services(
    sandbox: RunningSandbox, tmp_path: Path
) -> AsyncIterator[tuple[Services, RenewalStore]]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
        yield built, built.renewals


def runner(services: Services, renewals: RenewalStore) -> RenewalRunner:
    return RenewalRunner(
        services.exchange,
        services.connectors.cnam,
        renewals,
        services.offers,
        services.outbox,
        services.pseudonyms,
        Auditor(services.audit_log, services.pseudonyms, lambda: NOW),
        load_catalogue(known_fields=frozenset(FIELDS)),
        lambda: NOW,
        recipient=RECIPIENT,
    )


def renewal_date(sandbox: RunningSandbox, identity: PivotIdentity) -> str | None:
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
    value: str | None = answer.json()["data"]["css"]["date_renouvellement"]
    return value


async def test_renewed_when_unchanged_invited_otherwise_audited_reversible_and_idempotent(
    sandbox: RunningSandbox,
    services: tuple[Services, RenewalStore],
    holders: list[PivotIdentity],
    holder_entries: list[dict[str, Any]],
) -> None:
    built, store = services
    due = kinds(holder_entries)
    assert all(due.values()), {k: len(v) for k, v in due.items()}  # the seed's population
    summary = await runner(built, store).run(holders, MONTH, CAMPAIGN)
    assert summary.examined == len(holders)
    assert summary.renewed >= 1 and summary.invited >= 1 and summary.not_due >= 1

    rows = await store.for_campaign(CAMPAIGN)
    assert len(rows) == summary.renewed
    assert all(r.status == "renewed" and r.new_end > r.previous_end for r in rows)
    by_pseudonym = {built.pseudonyms.pseudonym(i, SECTOR): i for i in holders}
    for row in rows:
        assert renewal_date(sandbox, by_pseudonym[row.person]) == row.new_end.isoformat()

    offers = await built.offers.for_campaign(CAMPAIGN)
    assert len(offers) == summary.invited
    reason = {o.person: o.evidence["renewal"] for o in offers}

    def pseudonym(entry: dict[str, Any]) -> str:
        return built.pseudonyms.pseudonym(identity_from_params(entry["personne"]), SECTOR)

    assert {"tier_changed", "cannot_evaluate"} <= set(reason.values())
    # Chosen by what the law says of them: a tier that changed is never renewed silently;
    # whoever is renewed keeps the tier the law gives.
    assert {reason.get(pseudonym(e)) for e in due["changed"]} == {"tier_changed"}
    renewed = {r.person for r in rows}
    # Among them those the rules read whole; others may be renewed too (missing months
    # that cannot change the tier), never against the law.
    assert renewed and {pseudonym(e) for e in due["same"]} & renewed
    entries = {pseudonym(e): e for e in holder_entries}
    for person in renewed:
        truth, right = entries[person]["truth"], entries[person]["css"]
        assert truth["css_eligible"] and truth["css_participation"] == right["participation"]
    assert not set(reason) & renewed

    acts = await built.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
    assert len(acts.items) == summary.renewed
    for stored in acts.items:
        entry = stored.entry
        assert entry.purpose == "css_renewal" and entry.agencies == ("cnam",)
        assert dict(entry.details)["action"] == "css_renewal"
        assert entry.person is not None and entry.person not in by_pseudonym
        assert entry.legal_basis is not None and "L861-5" in entry.legal_basis[0]
    reads = await built.audit_reader.entries(AuditFilter(purpose="css_renewal"), first=500)
    assert len(reads.items) == summary.examined + summary.renewed

    letters = [m for m in await built.outbox.due(NOW, 500) if m.template == "renewal"]
    assert len(letters) == summary.notified >= 1
    assert {m.payload["reference"] for m in letters} <= {r.id for r in rows}
    rendered = Renderer("https://unefois.example").render(
        "renewal", "letter", letters[0].payload, NOW.date()
    )
    assert "renouvelée" in rendered.text and letters[0].payload["reference"] in rendered.text
    assert letters[0].payload["new_end"] in rendered.subject

    again = await runner(built, store).run(holders, MONTH, CAMPAIGN)
    assert again.renewed == 0 and again.notified == 0
    assert len(await store.for_campaign(CAMPAIGN)) == len(rows)
    assert len([m for m in await built.outbox.due(NOW, 500) if m.template == "renewal"]) == len(
        letters
    )
    assert len(
        (await built.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)).items
    ) == (summary.renewed)

    for row in rows:
        reverted = await runner(built, store).revert(row.id)
        assert reverted.status == "reverted" and reverted.reverted_at == NOW
        assert renewal_date(sandbox, by_pseudonym[row.person]) == row.previous_end.isoformat()
        assert await runner(built, store).revert(row.id) == reverted  # nothing more happens
    acts = await built.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
    undone = [s.entry for s in acts.items if dict(s.entry.details)["action"] != "css_renewal"]
    assert len(undone) == len(rows)
    assert {dict(e.details)["action"] for e in undone} == {"css_renewal_reverted"}
    assert {dict(e.details)["renewal"] for e in undone} == {r.id for r in rows}
    # The undoing names the same person as the renewal did: both are in their journal.
    renewed_by_id = {
        dict(s.entry.details)["renewal"]: s.entry.person
        for s in acts.items
        if dict(s.entry.details)["action"] == "css_renewal"
    }
    assert all(e.person == renewed_by_id[dict(e.details)["renewal"]] for e in undone)
    auditor = Auditor(built.audit_log, built.pseudonyms, lambda: NOW)
    catalogue = load_catalogue(known_fields=frozenset(FIELDS))
    oversight = Oversight(built.audit_reader, auditor, catalogue, built.pseudonyms, lambda: NOW)
    citizen = Citizen(by_pseudonym[rows[0].person], FranceConnectToken("unused-token-0123456789"))
    journal = await oversight.journal(citizen, first=50, after=None)
    actions = [i.action for i in journal.items if i.action is not None]
    assert sorted(actions) == [
        "Annulation du renouvellement automatique de votre complémentaire santé solidaire",
        "Renouvellement automatique de votre complémentaire santé solidaire",
    ]
    reads = [i for i in journal.items if i.action is None]
    assert reads and all(i.categories for i in reads)


async def test_a_reverted_renewal_is_not_made_again(
    services: tuple[Services, RenewalStore], holders: list[PivotIdentity]
) -> None:
    built, store = services
    first = await runner(built, store).run(holders, MONTH, "a")
    for row in await store.for_campaign("a"):
        await runner(built, store).revert(row.id)
    second = await runner(built, store).run(holders, MONTH, "b")
    assert first.renewed >= 1 and second.renewed == 0
    assert second.already_done == first.renewed


def _coverage(participation: bool | None, end: date) -> records.HealthInsurance:
    provenance = Provenance("CNAM", "cnam.assurance_maladie", date(2025, 6, 30), NOW, False)
    return records.HealthInsurance(
        "751", "CPAM", True, participation, date(2024, 8, 1), end, provenance
    )


def _result(status: str, amount: float | None) -> BenefitResult:
    return BenefitResult(
        benefit="css",
        status=status,  # type: ignore[arg-type]
        monthly_amount=amount,
        receiving=True,
        non_take_up=False,
        missing=(),
        criteria=(),
        inputs=(),
    )


def test_every_doubt_leads_to_an_invitation(person: PivotIdentity) -> None:
    end = date(2025, 8, 1)
    data: Any = object()  # the rules' answer is given: the data is only known to be there
    ok = _Fetched(Candidate(person, end), "p", _coverage(False, end), data)
    assert doubt(ok, _result("ELIGIBLE", 0.0), end) is None
    paying = replace(ok, coverage=_coverage(True, end))
    assert doubt(paying, _result("ELIGIBLE", 25.0), end) is None
    assert doubt(paying, _result("ELIGIBLE", 0.0), end) == "tier_changed"
    assert doubt(ok, _result("ELIGIBLE", 25.0), end) == "tier_changed"
    assert doubt(ok, _result("CANNOT_EVALUATE", None), end) == "cannot_evaluate"
    assert doubt(replace(ok, data=None), None, end) == "cannot_evaluate"
    assert doubt(ok, _result("NOT_ELIGIBLE", None), end) == "not_eligible"
    assert doubt(replace(ok, coverage=None), None, end) == "not_receiving"
    assert doubt(ok, _result("ELIGIBLE", 0.0), date(2025, 9, 1)) == "other_end_date"
    assert doubt(replace(ok, coverage=_coverage(None, end)), _result("ELIGIBLE", 0.0), end) == (
        "tier_unknown"
    )
    moved = replace(ok, candidate=Candidate(person, end, (date(2025, 1, 5),)))
    assert doubt(moved, _result("ELIGIBLE", 0.0), end) == "household_changed"
    long_ago = replace(ok, candidate=Candidate(person, end, (date(2020, 1, 5),)))
    assert doubt(long_ago, _result("ELIGIBLE", 0.0), end) is None


@pytest.fixture
def person() -> PivotIdentity:
    return PivotIdentity("MARTIN", ("SAMUEL",), date(1980, 9, 20), "M", "99100", "08480")


def test_candidates_come_from_the_cnam_expiry_events(person: PivotIdentity) -> None:
    subject: dict[str, str | list[str]] = dict(person.query_params())
    subject["prenoms[]"] = list(person.given_names)

    def trigger(feed: str, kind: str, on: date) -> Trigger:
        return Trigger(feed, f"{kind}-{on}", kind, on, subject, ("css",))

    found = candidates_from_triggers(
        [
            trigger("cnam", "right_expiry", date(2025, 8, 1)),
            trigger("api_particulier", "right_expiry", date(2025, 8, 1)),  # France Travail's too
            trigger("civil_registry", "birth", date(2025, 3, 2)),
            trigger("gip_mds", "job_loss", date(2025, 3, 2)),
            Trigger("cnam", "x", "right_expiry", date(2025, 8, 1), {"nomNaissance": "X"}, ()),
        ]
    )
    assert len(found) == 1
    assert found[0].identity.key() == person.key()
    assert found[0].ends_on == date(2025, 8, 1)
    assert found[0].household_changes == (date(2025, 3, 2),)


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    csub = parser.add_subparsers(dest="campaign_command", required=True)
    add_renewal_parsers(csub)
    return parser.parse_args(argv)


async def _renewal_ids(tmp_path: Path) -> list[str]:
    database = await connect(database_url_for(tmp_path, None))
    try:
        return [r.id for r in await RenewalStore(database).for_campaign(CAMPAIGN)]
    finally:
        await database.aclose()


def test_the_commands_print_counts_only(sandbox: RunningSandbox, tmp_path: Path) -> None:
    settings = settings_for(sandbox, tmp_path)
    out = io.StringIO()
    args = _cli("renew", "--month", MONTH, "--population", "--recipient", RECIPIENT)
    assert run_renewal(settings, args, lambda: NOW, out) == 0
    lines = dict(line.split() for line in out.getvalue().splitlines())
    assert set(lines) == {"renewed", "invited", "reverted", "errors"}
    assert int(lines["renewed"]) >= 1 and int(lines["reverted"]) == 0

    ids = asyncio.run(_renewal_ids(tmp_path))
    assert len(ids) == int(lines["renewed"])
    for renewal_id in ids:
        out = io.StringIO()
        args = _cli("revert-renewal", "--id", renewal_id, "--recipient", RECIPIENT)
        assert run_renewal(settings, args, lambda: NOW, out) == 0
        assert "reverted        1" in out.getvalue()
    unknown = _cli("revert-renewal", "--id", "nope", "--recipient", RECIPIENT)
    assert run_renewal(settings, unknown, lambda: NOW, io.StringIO()) == 1
    assert run_renewal(settings, _cli("revert-renewal", "--id", "x"), lambda: NOW) == 2


async def test_job_seekers_are_told_by_email_and_sms_not_by_post(
    sandbox: RunningSandbox, services: tuple[Services, RenewalStore]
) -> None:
    built, store = services
    async with httpx.AsyncClient(timeout=5.0) as http:
        answer = await http.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "css", "limit": 1000},
        )
    data = answer.json()["data"]
    seekers = [
        Candidate(
            identity_from_params(e["personne"]), france_travail_id=e["identifiant_france_travail"]
        )
        for e in data
        if e["role"] == "adult" and not e["deceased"] and e["identifiant_france_travail"]
    ]
    assert seekers
    summary = await runner(built, store).run(seekers, MONTH, "css-renewal-contacts")
    assert summary.renewed + summary.invited >= 1
    messages = await built.outbox.due(NOW, 500)
    assert messages
    by_subject: dict[str, set[str]] = {}
    for message in messages:
        subject = message.idempotency_key.rsplit(":", 1)[0]  # renewal:<id> or offer:<id>
        by_subject.setdefault(subject, set()).add(message.channel)
    # Everyone here gave France Travail a way to be reached: no letter is posted to anyone.
    assert all(channels == {"email", "sms"} for channels in by_subject.values()), by_subject
    # Every text fits in two SMS, renewal or invitation (rendering refuses longer ones).
    renderer = Renderer("https://unefois.example.gouv.fr")
    for message in (m for m in messages if m.channel == "sms"):
        renderer.render(message.template, "sms", message.payload, NOW.date())
    reads = await built.audit_reader.entries(AuditFilter(purpose="css_renewal"), first=500)
    assert {"contact"} <= {f for s in reads.items for f in s.entry.released}


# The GSM 03.38 basic character set: a text message with anything else is sent in UCS-2,
# where two messages hold 134 characters instead of 306.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.mark.parametrize("month", range(1, 13))
def test_the_renewal_messages_name_the_space_where_it_can_be_refused(month: int) -> None:
    payload = {
        "benefit_to": "à la complémentaire santé solidaire (CSS)",
        "previous_end": french_date(date(2025, month, 28)),
        "new_end": french_date(date(2026, month, 28)),
        "with_participation": month % 2 == 0,
        "data_used": [{"category": "revenus déclarés", "agency": "DGFiP"}],
        "reference": "0f8fd2a3-9d0b-5b43-8f4c-4d2e7a9c1b35",
    }
    renderer = Renderer("https://unefois.example.gouv.fr/")
    space = "https://unefois.example.gouv.fr/mon-espace/"
    sms = renderer.render("renewal", "sms", payload, NOW.date()).text.strip()
    assert space in sms and payload["reference"] in sms
    assert set(sms) <= GSM7, sorted(set(sms) - GSM7)
    assert len(sms) <= 306  # two concatenated messages of 153 characters
    for channel in ("letter", "email"):
        rendered = renderer.render("renewal", channel, payload, NOW.date())
        assert space in rendered.text and payload["reference"] in rendered.text
        assert f"s'arrêtera alors le {payload['previous_end']}" in rendered.text
        assert rendered.html is None or f'<a href="{space}">' in rendered.html


@pytest.fixture
def faults_cleared(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    clear_faults(sandbox)


async def test_the_cnam_failing_leaves_the_rights_undecided_not_not_due(
    sandbox: RunningSandbox,
    services: tuple[Services, RenewalStore],
    holders: list[PivotIdentity],
    faults_cleared: None,
) -> None:
    """Without an end date of their own, the candidates' rights are the CNAM's to date: it
    failing, nobody is counted "not due", renewed or invited, and every one is an error."""
    built, store = services
    await set_faults(sandbox, "cnam", {"error_rate": 1.0})
    summary = await runner(built, store).run(holders[:10], MONTH, "css-renewal-cnam-down")
    assert summary.examined == summary.errors == 10
    assert summary.not_due == summary.renewed == summary.invited == 0


async def test_the_cnam_failing_about_a_right_ending_invites_with_the_reason(
    sandbox: RunningSandbox,
    services: tuple[Services, RenewalStore],
    holder_entries: list[dict[str, Any]],
    faults_cleared: None,
) -> None:
    """With the end date from its event, a right the CNAM cannot be asked about is not
    renewed: the person is invited, the reason being the agency's failure."""
    built, store = services
    entry = kinds(holder_entries)["same"][0]
    ends = date.fromisoformat(entry["css"]["renouvellement"])
    candidate = Candidate(identity_from_params(entry["personne"]), ends_on=ends)
    await set_faults(sandbox, "cnam", {"error_rate": 1.0})
    summary = await runner(built, store).run([candidate], MONTH, "css-renewal-cnam-down-2")
    assert (summary.errors, summary.renewed, summary.invited) == (1, 0, 1)
    [offer] = await built.offers.for_campaign("css-renewal-cnam-down-2")
    assert offer.evidence["renewal"] == "agency_error"
