"""A citizen refusing an automatic CSS renewal from their space, over the gateway's ASGI app:
signed in through the sandbox FranceConnect, the renewal made by the real runner against the
sandbox CNAM, refused on the page, and undone at the CNAM and in the audit log."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit import AuditFilter
from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import ensure_default_clients
from gateway.keys import load_or_create
from proactive.campaign import SECTOR
from proactive.population import identity_from_params
from proactive.renewal import RenewalRunner
from runtime import Services
from runtime.settings import RECIPIENT_ENV, Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import Renewal
from tests.gateway.test_citizen import PUBLIC, Space, csrf, main_text, now
from tests.proactive.test_renewal import MONTH, NOW, RECIPIENT, kinds, renewal_date
from tests.upstreams import agency_env

# Renewing runs the rules over the agencies' data: longer than a page test on a loaded machine.
pytestmark = pytest.mark.timeout(600)

REFUSAL = "/mon-espace/renouvellements/{}/refus"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # The seed the renewal tests use: it holds persons whose CSS is renewed without doubt.
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def holders(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    with httpx.Client(timeout=5.0) as http:
        data = http.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "css", "limit": 1000},
        ).json()["data"]
    return [e for e in data if e["role"] == "adult" and not e["deceased"]]


def settings_for(sandbox: RunningSandbox, data_dir: Path, recipient: str | None) -> Settings:
    env = {
        "UNEFOIS_DATA_DIR": str(data_dir),
        "UNEFOIS_PUBLIC_URL": PUBLIC,
        "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
    }
    if recipient is not None:
        env[RECIPIENT_ENV] = recipient
    return load(env | agency_env(sandbox))


def runner(services: Services, clock: Any) -> RenewalRunner:
    return RenewalRunner(
        services.exchange,
        services.connectors.cnam,
        services.renewals,
        services.offers,
        services.outbox,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        clock,
        recipient=RECIPIENT,
    )


@dataclass
class Renewed:
    renewal: Renewal
    entry: dict[str, Any]  # the sandbox's entry of the person renewed (their index, identity)
    other: dict[str, Any]  # another adult holding the CSS, not renewed


@asynccontextmanager
async def renewed_in(
    sandbox: RunningSandbox, settings: Settings, holders: list[dict[str, Any]]
) -> AsyncIterator[Renewed]:
    """One person's CSS renewed by the runner on the day the sandbox describes; whatever is
    left renewed is undone at the end, so that the CNAM answers the next test as before."""
    due = kinds(holders)["same"]
    assert due, "the seed's population has no one to renew"
    async with Services.open(settings, lambda: NOW) as services:
        identities = [identity_from_params(e["personne"]) for e in due]
        summary = await runner(services, lambda: NOW).run(identities, MONTH, "css-renewal-test")
        assert summary.renewed >= 1, summary
        rows = await services.renewals.for_campaign("css-renewal-test")
        pseudonyms = [services.pseudonyms.pseudonym(i, SECTOR) for i in identities]
    by_pseudonym = dict(zip(pseudonyms, due, strict=True))
    entry = by_pseudonym[rows[0].person]
    other = next(e for e in holders if e["index"] != entry["index"])
    try:
        yield Renewed(rows[0], entry, other)
    finally:
        # Real time from here on: the space's own acts were recorded at it.
        async with Services.open(settings, now) as services:
            for row in rows:
                await runner(services, now).revert(row.id)


@asynccontextmanager
async def space_for(sandbox: RunningSandbox, settings: Settings) -> AsyncIterator[Space]:
    secret = ensure_default_clients(settings.clients_path)
    assert secret is not None
    keys = load_or_create(settings.data_dir, settings.signing_alg)
    app = build_app(settings, clock=now, keys=keys, eligibility=EligibilityService(workers=1))
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http,
    ):
        yield Space(http, settings, keys, sandbox, "")


async def stored(settings: Settings, renewal_id: str) -> Renewal:
    async with Services.open(settings, now) as services:
        return await services.renewals.get(renewal_id)


async def refusals(settings: Settings) -> list[Any]:
    async with Services.open(settings, now) as services:
        page = await services.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
    return [
        s.entry for s in page.items if dict(s.entry.details)["action"] == "css_renewal_reverted"
    ]


async def test_a_person_refuses_their_renewal_once_and_it_is_undone_at_the_cnam(
    sandbox: RunningSandbox, holders: list[dict[str, Any]], tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path, RECIPIENT)
    async with (
        renewed_in(sandbox, settings, holders) as made,
        space_for(sandbox, settings) as space,
    ):
        renewal, identity = made.renewal, identity_from_params(made.entry["personne"])
        assert renewal_date(sandbox, identity) == renewal.new_end.isoformat()
        await space.sign_in(made.entry["index"])
        journal = await space.http.get("/mon-espace/consultations")
        path = REFUSAL.format(renewal.id)
        assert f'href="{path}"' in journal.text
        assert "Refuser ce renouvellement" in main_text(journal)
        assert 'href="#renouvellements">Comment le contester' in journal.text

        confirm = await space.http.get(path)
        assert confirm.status_code == 200
        text = main_text(confirm)
        assert "Complémentaire santé solidaire (CSS)" in text and renewal.id in text
        assert "s'arrête à sa date de fin d'avant" in text
        assert re.search(rf'<form method="post" action="{re.escape(path)}">', confirm.text)

        # No CSRF token: refused before anything is looked at, nothing changes.
        forged = await space.http.post(path, data={})
        assert forged.status_code == 403
        assert (await stored(settings, renewal.id)).status == "renewed"
        assert renewal_date(sandbox, identity) == renewal.new_end.isoformat()
        assert await refusals(settings) == []

        done = await space.http.post(path, data={"csrf": csrf(confirm)})
        assert done.status_code == 303
        assert done.headers["location"].startswith("/mon-espace/consultations?fait=")
        after = await space.http.get(done.headers["location"])
        text = main_text(after)
        assert "ce renouvellement est annulé auprès de l'Assurance maladie" in text
        assert "Ce renouvellement a été annulé le" in text
        assert f'href="{path}"' not in after.text
        assert "Annulation du renouvellement automatique" in text  # the journal's entry

        row = await stored(settings, renewal.id)
        assert row.status == "reverted" and row.reverted_at is not None
        assert renewal_date(sandbox, identity) == renewal.previous_end.isoformat()
        [entry] = await refusals(settings)
        assert entry.object == "citizen-refusal" and entry.agencies == ("cnam",)
        assert dict(entry.details)["renewal"] == renewal.id
        assert entry.person == renewal.audit_person

        # Twice: said so, nothing called, nothing written again.
        again = await space.http.post(path, data={"csrf": csrf(after)})
        assert again.status_code == 303
        text = main_text(await space.http.get(again.headers["location"]))
        assert "Ce renouvellement était déjà annulé" in text
        assert (await stored(settings, renewal.id)).reverted_at == row.reverted_at
        assert len(await refusals(settings)) == 1
        reopened = main_text(await space.http.get(path))
        assert "déjà été annulé" in reopened and "Confirmer le refus" not in reopened


async def test_another_persons_renewal_is_unknown_and_an_agency_failure_marks_nothing(
    sandbox: RunningSandbox, holders: list[dict[str, Any]], tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path, RECIPIENT)
    async with (
        renewed_in(sandbox, settings, holders) as made,
        space_for(sandbox, settings) as space,
    ):
        renewal, identity = made.renewal, identity_from_params(made.entry["personne"])
        path = REFUSAL.format(renewal.id)
        await space.sign_in(made.other["index"])
        journal = await space.http.get("/mon-espace/consultations")
        assert renewal.id not in journal.text
        assert (await space.http.get(path)).status_code == 404
        theirs = await space.http.post(path, data={"csrf": csrf(journal)})
        assert theirs.status_code == 404
        assert "n'est pas le vôtre" in main_text(theirs)
        assert (await space.http.get(REFUSAL.format("inconnu"))).status_code == 404
        assert (await stored(settings, renewal.id)).status == "renewed"
        assert renewal_date(sandbox, identity) == renewal.new_end.isoformat()

        await space.sign_in(made.entry["index"])
        confirm = await space.http.get(path)
        faults = sandbox.urls["cnam"] + "/_sandbox/faults"
        async with httpx.AsyncClient(timeout=5.0) as http:
            await http.put(faults, json={"error_rate": 1.0})
            try:
                failed = await space.http.post(path, data={"csrf": csrf(confirm)})
            finally:
                await http.put(faults, json={})
        assert failed.status_code == 502
        assert "n'a pas pu annuler ce renouvellement" in main_text(failed)
        assert (await stored(settings, renewal.id)).status == "renewed"
        assert renewal_date(sandbox, identity) == renewal.new_end.isoformat()
        assert await refusals(settings) == []


async def test_without_a_recipient_the_page_gives_the_reference_and_changes_nothing(
    sandbox: RunningSandbox, holders: list[dict[str, Any]], tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path, None)
    async with (
        renewed_in(sandbox, settings, holders) as made,
        space_for(sandbox, settings) as space,
    ):
        renewal = made.renewal
        path = REFUSAL.format(renewal.id)
        await space.sign_in(made.entry["index"])
        confirm = await space.http.get(path)
        text = main_text(confirm)
        assert "ne peut pas être enregistré en ligne" in text and renewal.id in text
        assert "Confirmer le refus" not in text
        refused = await space.http.post(path, data={"csrf": csrf(confirm)})
        assert refused.status_code == 503
        assert (await stored(settings, renewal.id)).status == "renewed"
        assert await refusals(settings) == []
