"""The dossier journey's stack for the edge tests: the gateway's ASGI app over the sandbox's
agencies, FranceConnect and démarches-simplifiées (the fixtures of ``test_dossiers``, with
the app itself at hand), and the steps of a journey up to a dossier created or deposited.

A test module imports the fixtures it uses (``sandbox``, ``someone``, ``rules``, ``stack``)
so that pytest finds them there.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from connectors.demarches import Demarches
from eligibility import EligibilityService
from exchange import CONSENT_SECTOR
from gateway.app import build_app
from gateway.client_store import ensure_demo_clients
from gateway.clients import ensure_default_clients
from gateway.keys import load_or_create
from gateway.procedures import register_procedure
from proactive.links import offer_token
from proactive.population import identity_from_params
from runtime import Services
from sandbox import RunningSandbox
from store.dossiers import DossierLink
from tests.gateway.test_dossiers import (
    MAPPINGS,
    PUBLIC,
    Journey,
    csrf,
    now,
    offer_for,
    rules,
    sandbox,
    settings_for,
    sign_in,
    someone,
)
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

WEBHOOK = "/demarches-simplifiees/notifications/"


@dataclass
class Stack(Journey):
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
    assert created.status_code == 303, created.text
    person = (await stack.services.offers.get(offer)).person
    [row] = await stack.services.dossiers.for_person(person)
    return offer, row, created.headers["location"]


def deposit(stack: Stack, number: int, url: str) -> None:
    """The person completes the dossier on DS (what no agency gave) and deposits it."""
    form = form_of(stack.sandbox, number)
    form[NATIONALITE.key] = ["Française"]
    form[ADRESSE.key] = ["3 rue Pasteur 69003 Lyon"]
    form[LOGEMENT.key] = ["Locataire"]
    form[LOYER.key] = ["480"]
    form[AIDE.key] = ["false"]
    form[ATTESTATION.key] = ["true"]
    with httpx.Client(timeout=10.0) as browser:
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
