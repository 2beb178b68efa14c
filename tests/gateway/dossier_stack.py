"""The dossier journey's stack for the edge tests: the gateway's ASGI app over the sandbox's
agencies, FranceConnect and démarches-simplifiées (the fixtures of ``test_dossiers``, with
the app itself at hand), and the steps of a journey up to a dossier created or deposited.

A test module imports the fixtures it uses (``sandbox``, ``someone``, ``rules``, ``stack``)
so that pytest finds them there.
"""

from __future__ import annotations

import dataclasses
import html
import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

import sandbox as sandbox_package
from connectors.demarches import Demarches
from eligibility import EligibilityService
from exchange import CONSENT_SECTOR
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
from store.dossiers import DossierLink
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    ATTESTATION,
    LOGEMENT,
    LOYER,
    NATIONALITE,
    form_of,
    submit,
)
from tests.system._stack import previous_month
from tests.upstreams import agency_env

__all__ = [
    "Stack",
    "closed_demarches",
    "consents_of",
    "created_dossier",
    "csrf",
    "deposit",
    "dossier_params",
    "hook",
    "now",
    "offer_for",
    "rules",
    "sandbox",
    "sign_in",
    "signed_in",
    "someone",
    "stack",
]

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


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {
        "UNEFOIS_DATA_DIR": str(data_dir),
        "UNEFOIS_PUBLIC_URL": PUBLIC,
        "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
        "UNEFOIS_DS_URL": sandbox.demarches_url,
        "UNEFOIS_CAMPAIGN_RECIPIENT": RECIPIENT,
    }
    return load(env | agency_env(sandbox))


async def offer_for(
    stack: Stack, entry: dict[str, Any], campaign: str, *, notified: bool = True
) -> str:
    services = stack.services
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
    if notified:
        await services.offers.transition(offer.id, "notified", now())
    return offer.id


async def sign_in(stack: Stack, start: str, index: int) -> str:
    """Through the sandbox FranceConnect, as a browser: its page, one person's button; the
    path the gateway sends the browser back to."""
    assert start.startswith("/mon-espace/connexion?retour=")
    begun = await stack.http.get(start)
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
    done = await stack.http.get(chosen.headers["location"])
    assert done.status_code == 303, done.text
    location: str = done.headers["location"]
    return location


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found is not None, "the page's forms carry no CSRF token"
    return found.group(1)


WEBHOOK = "/demarches-simplifiees/notifications/"


@dataclass
class Stack:
    http: httpx.AsyncClient
    settings: Settings
    services: Services
    sandbox: RunningSandbox
    app: Starlette

    def swap(self, services: Services) -> None:
        """Serve the next requests with ``services`` (the lifespan's, with a part replaced)."""
        self.app.state.services = services
        self.services = services


@pytest.fixture
async def stack(
    sandbox: RunningSandbox, tmp_path: Path, rules: EligibilityService
) -> AsyncIterator[Stack]:
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
        await ensure_demo_clients(services.clients, now())
        for path in sorted(MAPPINGS.glob("*.yaml")):
            await register_procedure(services, path, now())
        yield Stack(http, settings, services, sandbox, app)


def hook(stack: Stack) -> str:
    return WEBHOOK + stack.services.ds_webhook_secret


def dossier_params(number: int | str) -> dict[str, str]:
    """What DS posts when a dossier changes state."""
    return {
        "procedure_id": "101",
        "dossier_id": str(number),
        "state": "en_construction",
        "updated_at": "2025-06-30 10:00:00 +0200",
    }


async def signed_in(stack: Stack, entry: dict[str, Any], campaign: str) -> tuple[str, str]:
    """An RSA offer made to ``entry``, the person signed in through FranceConnect: the
    offer's id and the start page's path."""
    offer = await offer_for(stack, entry, campaign)
    link = f"/mon-espace/demandes/rsa?offre={offer_token(offer)}"
    first = await stack.http.get(link)
    assert first.status_code == 303, first.text
    assert await sign_in(stack, first.headers["location"], entry["index"]) == link
    return offer, link


async def created_dossier(
    stack: Stack, entry: dict[str, Any], campaign: str
) -> tuple[str, DossierLink, str]:
    """The offer, the dossier's link row and its address on DS, as the person leaves the
    start page (procedure 101, consent given)."""
    offer, link = await signed_in(stack, entry, campaign)
    page = await stack.http.get(link)
    assert page.status_code == 200, page.text
    created = await stack.http.post(
        "/mon-espace/demandes/rsa",
        data={
            "offre": offer_token(offer),
            "procedure": "101",
            "accord": "oui",
            "csrf": csrf(page),
        },
    )
    url = dossier_location(created)
    person = (await stack.services.offers.get(offer)).person
    [row] = await stack.services.dossiers.for_person(person)
    return offer, row, url


_OPEN = re.compile(r'<a class="fr-btn" href="([^"]+)"[^>]*>Ouvrir mon dossier sur démarches')


def dossier_location(created: httpx.Response) -> str:
    """Where the answer to a dossier's creation sends the person: straight to DS (303), or
    first to the page naming what they will type themselves (200), by its link."""
    if created.status_code == 303:
        return str(created.headers["location"])
    assert created.status_code == 200, created.text
    found = _OPEN.search(created.text)
    assert found is not None, created.text
    return html.unescape(found.group(1))


def deposit(
    stack: Stack, number: int, url: str, *, rent: str = "480", button: str = "a bien été déposé"
) -> None:
    """The person completes the dossier on DS (what no agency gave) and deposits it (or, once
    deposited, saves it modified: ``button`` is then the form's, seen on the page first)."""
    form = form_of(stack.sandbox, number)
    form[NATIONALITE.key] = ["Française"]
    form[ADRESSE.key] = ["3 rue Pasteur 69003 Lyon"]
    form[LOGEMENT.key] = ["Locataire"]
    form[LOYER.key] = [rent]
    form[AIDE.key] = ["false"]
    form[ATTESTATION.key] = ["true"]
    with httpx.Client(timeout=10.0) as browser:
        if button != "a bien été déposé":
            assert button in browser.get(url).text
        done = submit(browser, url, form)
    assert done.status_code == 200 and "a bien été déposé" in done.text


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def closed_demarches(stack: Stack, http: httpx.AsyncClient) -> Services:
    """The stack's services with a DS client pointed at a closed port: DS down."""
    down = Demarches(f"http://127.0.0.1:{closed_port()}", "token", http, timeout=2.0)
    return dataclasses.replace(stack.services, demarches=down)


async def consents_of(stack: Stack, entry: dict[str, Any]) -> list[Any]:
    """The consents recorded for ``entry`` (their pivot identity's consent pseudonym)."""
    identity = identity_from_params(entry["personne"])
    person = stack.services.pseudonyms.pseudonym(identity, CONSENT_SECTOR)
    return list(await stack.services.consent_store.for_person(person))
