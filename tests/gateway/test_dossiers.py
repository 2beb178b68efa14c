"""From an offer's link to a dossier submitted on démarches-simplifiées, and back.

The gateway's ASGI app, the sandbox's agencies, FranceConnect and démarches-simplifiées on real
HTTP: the person follows the link, signs in, consents, lands on a prefilled dossier on DS,
corrects it and submits it; DS's webhook call (made here as DS makes it, the app having no
address of its own in this test — the browser test has DS call a running gateway) brings it
back: the submission is recorded and audited, the offer applied, the benefit evaluated again,
and the person's space shows the dossier.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import sandbox as sandbox_package
from audit import AuditFilter
from eligibility import EligibilityService
from gateway.app import build_app
from gateway.client_store import ensure_demo_clients
from gateway.clients import ensure_default_clients
from gateway.keys import load_or_create
from gateway.procedures import register_procedure
from proactive.campaign import CampaignRunner
from proactive.links import offer_token
from proactive.population import identity_from_params
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    ATTESTATION,
    LOGEMENT,
    LOYER,
    NATIONALITE,
    SITUATION,
    form_of,
    submit,
)
from tests.system._stack import previous_month

# The sandbox's agencies know the months up to the last one: the journey runs in real time
# (the sandbox FranceConnect signs with it), and the benefit is evaluated on recent months.
MONTH = previous_month()
RECIPIENT = "13002526500013"
PUBLIC = "http://127.0.0.1:8000"  # a return address the sandbox FranceConnect knows
MAPPINGS = Path(sandbox_package.__file__).parent / "demarches" / "mappings"


def now() -> datetime:
    # Real time: the sandbox provider signs its id_tokens with it.
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def someone(sandbox: RunningSandbox) -> dict[str, Any]:
    """An adult alone without income: the RSA campaign makes them an offer."""
    with httpx.Client(timeout=5.0) as client:
        answer = client.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "scenario:seul-35-sans-revenu", "limit": 20},
        )
    entry: dict[str, Any] = next(e for e in answer.json()["data"] if e["role"] == "adult")
    return entry


@pytest.fixture(scope="module")
def rules() -> Iterator[EligibilityService]:
    import asyncio

    service = EligibilityService(workers=1)
    asyncio.run(service.start())
    yield service
    asyncio.run(service.aclose())


@dataclass
class Journey:
    http: httpx.AsyncClient
    settings: Settings
    services: Services
    sandbox: RunningSandbox


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {
        "UNEFOIS_DATA_DIR": str(data_dir),
        "UNEFOIS_PUBLIC_URL": PUBLIC,
        "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
        "UNEFOIS_DS_URL": sandbox.demarches_url,
        "UNEFOIS_CAMPAIGN_RECIPIENT": RECIPIENT,
    }
    for name, url in sandbox.urls.items():
        env[f"UNEFOIS_{name.upper()}_URL"] = url
        env[f"UNEFOIS_{name.upper()}_TIMEOUT"] = "10.0"
    return load(env)


@pytest.fixture
async def journey(
    sandbox: RunningSandbox, tmp_path: Path, rules: EligibilityService
) -> AsyncIterator[Journey]:
    settings = settings_for(sandbox, tmp_path)
    assert ensure_default_clients(settings.clients_path) is not None
    keys = load_or_create(settings.data_dir, settings.signing_alg)
    app = build_app(settings, clock=now, keys=keys, eligibility=rules)
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http,
    ):
        services: Services = app.state.services
        await ensure_demo_clients(services.clients, now())  # as `unefois run` does
        for path in sorted(MAPPINGS.glob("*.yaml")):
            await register_procedure(services, path, now())
        yield Journey(http, settings, services, sandbox)


async def offer_for(journey: Journey, entry: dict[str, Any], campaign: str) -> str:
    services = journey.services
    runner = CampaignRunner(
        services.exchange,
        services.offers,
        services.outbox,
        services.pseudonyms,
        now,
        recipient=RECIPIENT,
    )
    summary = await runner.run([identity_from_params(entry["personne"])], "rsa", MONTH, campaign)
    assert summary.offers_created == 1
    [offer] = await services.offers.for_campaign(campaign)
    await services.offers.transition(offer.id, "notified", now())
    return offer.id


async def sign_in(journey: Journey, start: str, index: int) -> str:
    """Through the sandbox FranceConnect, as a browser: its page, one person's button; the
    path the gateway sends the browser back to."""
    assert start.startswith("/mon-espace/connexion?retour=")
    begun = await journey.http.get(start)
    assert begun.status_code == 303
    authorize = begun.headers["location"]
    async with httpx.AsyncClient(timeout=10.0) as browser:
        page = await browser.get(authorize)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        form = {k: html.unescape(v) for k, v in form.items()}
        chosen = await browser.post(
            urlsplit(authorize)._replace(query="").geturl(), data={**form, "person": str(index)}
        )
    assert chosen.status_code == 302, chosen.text
    done = await journey.http.get(chosen.headers["location"])
    assert done.status_code == 303, done.text
    location: str = done.headers["location"]
    return location


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found is not None, "the page's forms carry no CSRF token"
    return found.group(1)


async def test_an_offer_becomes_a_prefilled_dossier_then_an_applied_offer(
    journey: Journey, someone: dict[str, Any]
) -> None:
    offer = await offer_for(journey, someone, "rsa-dossier")
    token = offer_token(offer)
    link = f"/mon-espace/demandes/rsa?offre={token}"

    # Signed out: off to FranceConnect, and back to this page.
    first = await journey.http.get(link)
    assert first.status_code == 303
    assert await sign_in(journey, first.headers["location"], someone["index"]) == link
    page = await journey.http.get(link)
    assert page.status_code == 200, page.text
    assert "J'accepte que ces informations soient lues" in page.text
    assert "Ressources mensuelles déclarées" in page.text  # a category read, in words
    # The département is asked: two RSA procedures are registered (101 and 105).
    assert 'name="procedure" value="101"' in page.text
    assert 'name="procedure" value="105"' in page.text

    # No consent ticked: nothing is read, the page says why.
    refused = await journey.http.post(
        "/mon-espace/demandes/rsa", data={"offre": token, "procedure": "101", "csrf": csrf(page)}
    )
    assert refused.status_code == 400 and "cochez la case" in refused.text
    entries = await journey.services.audit_reader.entries(AuditFilter(purpose="citizen_prefill"))
    assert not entries.items

    created = await journey.http.post(
        "/mon-espace/demandes/rsa",
        data={"offre": token, "procedure": "101", "accord": "oui", "csrf": csrf(page)},
    )
    assert created.status_code == 303, created.text
    dossier_url = created.headers["location"]
    assert dossier_url.startswith(journey.sandbox.demarches_url + "/commencer/demande-rsa?")
    assert "prefill_token" in parse_qs(urlsplit(dossier_url).query)

    # Back on the page: it says a dossier was already prepared.
    again = await journey.http.get(link)
    assert "Un dossier a déjà été préparé pour cette demande" in html.unescape(again.text)

    # On DS: the dossier is prefilled with the person's data.
    async with httpx.AsyncClient(timeout=10.0) as browser:
        shown = await browser.get(dossier_url)
    assert shown.status_code == 200
    assert someone["personne"]["nomNaissance"] in html.unescape(shown.text)
    [link_row] = await journey.services.dossiers.for_person(
        (await journey.services.offers.get(offer)).person
    )
    assert link_row.status == "created" and link_row.offer_id == offer
    assert someone["personne"]["nomNaissance"] not in link_row.sealed  # sealed, not readable

    # What DS's champs could not take stays for the person to type: the address (the agencies
    # give lines, not a Base Adresse Nationale label), the nationality (no agency gives it).
    # The rest arrives converted: the marital status as the procedure's own label.
    form = form_of(journey.sandbox, link_row.number)
    assert not form.get(ADRESSE.key) and not form.get(NATIONALITE.key)
    assert form.get(SITUATION.key) == ["Célibataire"]
    form[NATIONALITE.key] = ["Française"]
    form[ADRESSE.key] = ["3 rue Pasteur 69003 Lyon"]
    form[LOGEMENT.key] = ["Locataire"]
    form[LOYER.key] = ["480"]
    form[AIDE.key] = ["false"]
    form[ATTESTATION.key] = ["true"]
    with httpx.Client(timeout=10.0) as browser:
        done = submit(browser, dossier_url, form)
    errors = re.findall(r'<li><a href="#[^"]*">([^<]*)<', done.text)
    assert done.status_code == 200 and "a bien été déposé" in done.text, errors

    # DS's webhook call: a wrong secret is refused, the right one processes the dossier once.
    params = {
        "procedure_id": "101",
        "dossier_id": str(link_row.number),
        "state": "en_construction",
        "updated_at": "2025-06-30 10:00:00 +0200",
    }
    wrong = await journey.http.post("/demarches-simplifiees/notifications/" + "x" * 43, data=params)
    assert wrong.status_code == 404
    hook = "/demarches-simplifiees/notifications/" + journey.services.ds_webhook_secret
    answer = await journey.http.post(hook, data=params)
    assert answer.status_code == 200 and answer.json() == {"result": "processed"}, answer.text
    assert (await journey.http.post(hook, data=params)).json() == {"result": "already"}

    assert (await journey.services.offers.get(offer)).status == "applied"
    processed = await journey.services.dossiers.get(link_row.number)
    assert processed.status == "processed" and processed.outcome is not None
    changed = set(processed.outcome["changed"])
    assert {"loyer_mensuel", "adresse", "nationalite"} <= changed
    assert "situation_familiale" not in changed  # kept as prefilled: confirmed
    assert "nom_usage" not in changed  # the birth name came back in DS's identity block
    [result] = processed.outcome["eligibility"]
    assert result["benefit"] == "rsa" and result["status"] != "CANNOT_EVALUATE", result
    submissions = await journey.services.audit_reader.entries(
        AuditFilter(kind="prefill_submission")
    )
    assert [e.entry.purpose for e in submissions.items] == ["citizen_prefill"]

    space = await journey.http.get("/mon-espace/propositions")
    text = html.unescape(space.text)
    assert f"Dossier nº {link_row.number} déposé sur" in text
    assert "Revenu de solidarité active (RSA) : " in text


async def test_another_person_cannot_use_the_link(
    journey: Journey, someone: dict[str, Any], sandbox: RunningSandbox
) -> None:
    offer = await offer_for(journey, someone, "rsa-autre")
    link = f"/mon-espace/demandes/rsa?offre={offer_token(offer)}"
    first = await journey.http.get(link)
    other = someone["index"] + 1
    assert await sign_in(journey, first.headers["location"], other) == link
    page = await journey.http.get(link)
    assert page.status_code == 403
    assert "préparée pour une autre personne" in html.unescape(page.text)
