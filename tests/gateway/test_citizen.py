"""The citizen space over the gateway's ASGI app, signed in through the sandbox FranceConnect
on real HTTP: the journal, consents that bite at once, offers, opt-out, and sign-out."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import DEMO_CLIENT_ID, ensure_default_clients
from gateway.keys import SigningKeys, load_or_create
from gateway.server import graphql_identity
from proactive.campaign import CampaignRunner
from proactive.population import identity_from_params
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.catalogue import with_everything
from tests.upstreams import agency_env

MONTH = "2025-06"
RECIPIENT = "13002526500013"
PUBLIC = "http://127.0.0.1:8000"  # a return address the sandbox FranceConnect knows
EVERYTHING = {"purpose": "e2e_everything", "recipient": RECIPIENT, "object": "dossier-7"}
PREFILL = {"purpose": "citizen_prefill", "recipient": RECIPIENT, "object": "formulaire-rsa"}
PERSON = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  person(ref: $ref, context: $ctx) { identity { birthName } } }"""


def now() -> datetime:
    # Real time: the sandbox provider signs its id_tokens with it.
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


def person_entry(sandbox: RunningSandbox, kind: str) -> dict[str, Any]:
    with httpx.Client(timeout=5.0) as client:
        answer = client.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons", params={"kind": kind, "limit": 20}
        )
    found = [e for e in answer.json()["data"] if e["role"] == "adult"]
    entry: dict[str, Any] = found[0]
    return entry


@pytest.fixture(scope="module")
def someone(sandbox: RunningSandbox) -> dict[str, Any]:
    """An adult alone without income: the RSA campaign makes them an offer."""
    return person_entry(sandbox, "scenario:seul-35-sans-revenu")


@dataclass
class Space:
    http: httpx.AsyncClient
    settings: Settings
    keys: SigningKeys
    sandbox: RunningSandbox
    demo_token: str

    def token_for(self, client_id: str) -> str:
        at = int(now().timestamp())
        claims = {
            "iss": self.settings.token_issuer,
            "sub": client_id,
            "client_id": client_id,
            "aud": self.settings.token_audience,
            "iat": at,
            "exp": at + 300,
            "jti": f"t-{client_id}-{at}",
            "scope": "person:read",
        }
        return self.keys.sign(claims)

    async def person(self, entry: dict[str, Any], context: dict[str, str], token: str) -> Any:
        variables = {"ref": {"identity": graphql_identity(entry["personne"])}, "ctx": context}
        answer = await self.http.post(
            "/graphql",
            json={"query": PERSON, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def sign_in(self, index: int) -> None:
        """Through the sandbox FranceConnect, as a browser: its page, one person's button."""
        start = await self.http.get("/mon-espace/connexion")
        assert start.status_code == 303
        authorize = start.headers["location"]
        assert authorize.startswith(self.sandbox.france_connect_url)
        async with httpx.AsyncClient(timeout=10.0) as browser:
            page = await browser.get(authorize)
            assert page.status_code == 200, page.text
            form = dict(
                re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
            )
            form = {k: html.unescape(v) for k, v in form.items()}
            chosen = await browser.post(
                urlsplit(authorize)._replace(query="").geturl(), data={**form, "person": str(index)}
            )
        assert chosen.status_code == 302, chosen.text
        back = chosen.headers["location"]
        assert back.startswith(PUBLIC + "/mon-espace/connexion/retour?")
        done = await self.http.get(back)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/mon-espace/"


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found is not None, "the page's forms carry no CSRF token"
    return found.group(1)


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {
        "UNEFOIS_DATA_DIR": str(data_dir),
        "UNEFOIS_PUBLIC_URL": PUBLIC,
        "UNEFOIS_POLICIES_DIR": str(with_everything(data_dir, "e2e_everything")),
        "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
    }
    return load(env | agency_env(sandbox))


@pytest.fixture
async def space(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Space]:
    settings = settings_for(sandbox, tmp_path)
    secret = ensure_default_clients(settings.clients_path)
    assert secret is not None
    keys = load_or_create(settings.data_dir, settings.signing_alg)
    # Never started: these pages need no eligibility rules.
    app = build_app(settings, clock=now, keys=keys, eligibility=EligibilityService(workers=1))
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http,
    ):
        answer = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, secret)
        )
        assert answer.status_code == 200, answer.text
        yield Space(http, settings, keys, sandbox, answer.json()["access_token"])


def main_text(page: httpx.Response) -> str:
    found = re.search(r"<main.*?</main>", page.text, re.S)
    assert found is not None
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))))


async def test_signed_out_the_space_offers_franceconnect_and_nothing_else(space: Space) -> None:
    page = await space.http.get("/mon-espace/")
    assert page.status_code == 200
    assert 'class="fr-connect" href="/mon-espace/connexion"' in page.text
    assert "Se déconnecter" not in page.text
    for path in (
        "/mon-espace/consultations",
        "/mon-espace/consentements",
        "/mon-espace/propositions",
    ):
        answer = await space.http.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/mon-espace/"
    # The sign-in's state is server-side: the browser gets a random id only.
    start = await space.http.get("/mon-espace/connexion")
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("unefois-citoyen-login=") and "HttpOnly" in cookie
    assert "Path=/mon-espace" in cookie
    state = re.search(r"[?&]state=([^&]+)", start.headers["location"])
    assert state is not None and state.group(1) not in cookie


async def test_a_return_without_the_sign_in_it_belongs_to_is_refused(
    space: Space, someone: dict[str, Any]
) -> None:
    forged = await space.http.get("/mon-espace/connexion/retour?code=x&state=y")
    assert forged.status_code == 400
    await space.http.get("/mon-espace/connexion")  # a sign-in in progress, another state
    wrong = await space.http.get("/mon-espace/connexion/retour?code=x&state=y")
    assert wrong.status_code == 400
    assert "unefois-citoyen=" not in wrong.headers.get("set-cookie", "")
    home = await space.http.get("/mon-espace/")
    assert "Se déconnecter" not in home.text


async def test_the_journal_shows_who_read_my_data(space: Space, someone: dict[str, Any]) -> None:
    read = await space.person(someone, EVERYTHING, space.demo_token)
    assert "errors" not in read, read
    await space.sign_in(someone["index"])
    for path in ("/mon-espace/", "/mon-espace/consultations"):
        page = await space.http.get(path)
        assert page.status_code == 200
        text = main_text(page)
        assert "Qui a consulté mes données" in text
        assert "Conseil départemental (démonstration)" in text  # the demo client's name
        assert "Identité (état civil)" in text
        assert 'aria-current="page"' in page.text or path == "/mon-espace/"
        assert "Se déconnecter" in page.text
        assert page.headers["cache-control"] == "no-store"
        # Nothing of the person in the browser: no name in any cookie.
        assert someone["personne"]["nomNaissance"] not in page.headers.get("set-cookie", "")
    older = await space.http.get("/mon-espace/consultations?apres=1")
    assert "Il n'y a pas d'autre consultation" in main_text(older)


async def test_a_consent_granted_then_revoked_is_seen_by_the_next_request(
    space: Space, someone: dict[str, Any]
) -> None:
    form_builder = space.token_for("demo-form-builder")
    refused = await space.person(someone, PREFILL, form_builder)
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"CONSENT_REQUIRED"}
    await space.sign_in(someone["index"])
    page = await space.http.get("/mon-espace/consentements")
    assert page.status_code == 200
    assert "Vous n'avez donné aucun consentement" in main_text(page)
    # Only what a consent can open is offered: the consent purpose's client, not the others.
    assert 'value="client:demo-form-builder"' in page.text
    assert 'value="client:demo-agency-app"' not in page.text
    assert 'value="purpose:citizen_prefill"' in page.text
    assert 'value="purpose:rsa_instruction"' not in page.text
    grant = {
        "destinataire": "client:demo-form-builder",
        "categories": ["identite", "ressources"],
        "duree": "3m",
    }

    refused_post = await space.http.post("/mon-espace/consentements", data=grant)
    assert refused_post.status_code == 403  # no CSRF token
    assert "Vous n'avez donné aucun consentement" in main_text(
        await space.http.get("/mon-espace/consentements")
    )

    done = await space.http.post("/mon-espace/consentements", data={**grant, "csrf": csrf(page)})
    assert done.status_code == 303
    listed = await space.http.get(done.headers["location"])
    text = main_text(listed)
    assert "Votre consentement est enregistré" in text
    assert "Service de formulaires en ligne (démonstration)" in text
    assert "En cours" in text and "Ressources mensuelles déclarées" in text
    allowed = await space.person(someone, PREFILL, form_builder)
    assert "errors" not in allowed, allowed

    consent = re.search(r'name="consentement" value="([^"]+)"', listed.text)
    assert consent is not None
    no_token = await space.http.post(
        "/mon-espace/consentements/retrait", data={"consentement": consent.group(1)}
    )
    assert no_token.status_code == 403
    assert "errors" not in await space.person(someone, PREFILL, form_builder)

    revoked = await space.http.post(
        "/mon-espace/consentements/retrait",
        data={"consentement": consent.group(1), "csrf": csrf(listed)},
    )
    assert revoked.status_code == 303
    after = main_text(await space.http.get(revoked.headers["location"]))
    assert "Retiré le" in after
    again = await space.person(someone, PREFILL, form_builder)
    assert {e["extensions"]["code"] for e in again["errors"]} == {"CONSENT_REQUIRED"}


async def test_a_consent_for_a_purpose_resting_on_law_is_refused(
    space: Space, someone: dict[str, Any]
) -> None:
    await space.sign_in(someone["index"])
    page = await space.http.get("/mon-espace/consentements")
    bad = {
        "destinataire": "purpose:rsa_instruction",
        "categories": "identite",
        "duree": "2a",
        "csrf": csrf(page),
    }
    answer = await space.http.post("/mon-espace/consentements", data=bad)
    assert answer.status_code == 400
    assert "Vous n'avez donné aucun consentement" in main_text(answer)


async def test_offers_decline_and_opt_out(
    space: Space, sandbox: RunningSandbox, someone: dict[str, Any]
) -> None:
    identity = identity_from_params(someone["personne"])
    async with Services.open(space.settings, now) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            now,
            recipient=RECIPIENT,
        )
        summary = await runner.run([identity], "rsa", MONTH, "rsa-espace")
        assert summary.offers_created == 1
        [offer] = await services.offers.for_campaign("rsa-espace")
        await services.offers.transition(offer.id, "notified", now())
    await space.sign_in(someone["index"])
    page = await space.http.get("/mon-espace/propositions")
    text = main_text(page)
    assert "Revenu de solidarité active (RSA)" in text and "Envoyée" in text
    assert "juin 2025" in text
    assert re.search(r'href="/formulaires/rsa\?offre=[A-Za-z0-9_-]{22}"', page.text)

    forged = await space.http.post(
        "/mon-espace/propositions/refus",
        data={"proposition": "00000000-0000-4000-8000-000000000000", "csrf": csrf(page)},
    )
    assert forged.status_code == 404
    declined = await space.http.post(
        "/mon-espace/propositions/refus", data={"proposition": offer.id, "csrf": csrf(page)}
    )
    assert declined.status_code == 303
    text = main_text(await space.http.get(declined.headers["location"]))
    assert "Ne vous concerne pas, d'après vous" in text and "nous ne vous relancerons pas" in text

    assert "Vous êtes informé(e)" in text
    assert (await space.http.post("/mon-espace/propositions/desinscription")).status_code == 403
    opted = await space.http.post(
        "/mon-espace/propositions/desinscription", data={"csrf": csrf(page)}
    )
    assert opted.status_code == 303
    text = main_text(await space.http.get(opted.headers["location"]))
    assert "Vous avez choisi de ne plus être informé(e)" in text
    async with Services.open(space.settings, now) as services:
        assert await services.offers.opted_out(offer.person)


async def test_sign_out_ends_the_session_here_and_at_franceconnect(
    space: Space, someone: dict[str, Any]
) -> None:
    await space.sign_in(someone["index"])
    page = await space.http.get("/mon-espace/consentements")
    old = space.http.cookies.get("unefois-citoyen", path="/mon-espace")
    assert old

    assert (await space.http.post("/mon-espace/deconnexion")).status_code == 403
    assert (await space.http.get("/mon-espace/consentements")).status_code == 200

    out = await space.http.post("/mon-espace/deconnexion", data={"csrf": csrf(page)})
    assert out.status_code == 303
    end = out.headers["location"]
    assert end.startswith(space.sandbox.france_connect_url + "/api/v2/session/end?")
    assert "id_token_hint=" in end
    async with httpx.AsyncClient(timeout=10.0) as browser:
        back = await browser.get(end)
    assert back.status_code == 302
    assert back.headers["location"].startswith(PUBLIC + "/mon-espace/deconnexion/retour")
    confirmed = await space.http.get(back.headers["location"])
    assert "Vous êtes déconnecté(e)" in main_text(confirmed)
    assert "Se déconnecter" not in confirmed.text

    # The copied cookie opens nothing: the session is gone from the database.
    space.http.cookies.set("unefois-citoyen", old, domain="127.0.0.1", path="/mon-espace")
    again = await space.http.get("/mon-espace/consentements")
    assert again.status_code == 303 and again.headers["location"] == "/mon-espace/"
