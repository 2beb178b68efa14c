"""One-click opting out over the gateway's ASGI app: the link of a notification, a page with
one button, the opt-out recorded on the click only, and no offer for that person afterwards."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from connectors import PivotIdentity
from eligibility import EligibilityService
from exchange import Pseudonyms
from gateway.app import build_app
from gateway.campaign_cli import open_services
from gateway.clients import ensure_default_clients
from gateway.secret import pseudonym_secret
from gateway.settings import Settings
from proactive.campaign import SECTOR, CampaignRunner
from proactive.notifications import Renderer
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.proactive.test_campaign import MONTH, NOW, RECIPIENT, adult, settings_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


@pytest.fixture
def settings(sandbox: RunningSandbox, tmp_path: Path) -> Settings:
    return settings_for(sandbox, tmp_path)


@pytest.fixture(scope="module")
def non_claimant(sandbox: RunningSandbox) -> PivotIdentity:
    return adult(sandbox, "scenario:seul-35-sans-revenu")


@asynccontextmanager
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    ensure_default_clients(settings.clients_path)
    # Never started: these pages need no eligibility rules.
    app = build_app(settings, clock=lambda: NOW, eligibility=EligibilityService(workers=1))
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as http,
    ):
        yield http


def pseudonyms(settings: Settings) -> Pseudonyms:
    return Pseudonyms(pseudonym_secret(settings.data_dir, settings.pseudonym_secret))


async def opted_out(settings: Settings, identity: PivotIdentity) -> bool:
    async with open_services(settings, lambda: NOW) as services:
        return await services.offers.opted_out(services.pseudonyms.pseudonym(identity, SECTOR))


async def test_the_link_then_one_click_opts_out_and_no_campaign_makes_an_offer(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    token = pseudonyms(settings).handle(non_claimant, SECTOR)
    # The very link a notification carries.
    payload = {"form": "rsa", "offer_id": "o-1", "opt_out_token": token}
    link = Renderer(settings.public_url).context(payload)["opt_out_url"]
    async with gateway(settings) as http:
        page = await http.get(link)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert '<html lang="fr">' in page.text
        assert len(re.findall(r"<button", page.text)) == 1
        assert 'method="post" action="/desinscription"' in page.text
        hidden = re.search(r'name="jeton" value="([^"]+)"', page.text)
        assert hidden is not None and hidden.group(1) == token
        # Following the link, as a mail scanner does, changes nothing.
        assert not await opted_out(settings, non_claimant)

        done = await http.post("/desinscription", data={"jeton": hidden.group(1)})
        assert done.status_code == 200 and "Désinscription enregistrée" in done.text
        again = await http.post("/desinscription", data={"jeton": token})
        assert again.status_code == 200
    assert await opted_out(settings, non_claimant)

    async with open_services(settings, lambda: NOW) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
        )
        summary = await runner.run([non_claimant], "rsa", MONTH, "after-opt-out")
        assert summary.eligible == 1 and summary.skipped_cooldown_or_opt_out == 1
        assert await services.offers.for_campaign("after-opt-out") == []
        assert await services.outbox.due(NOW, 10) == []


@pytest.mark.parametrize(
    "token",
    ["", "h1.not-a-handle", "n'importe quoi"],
)
async def test_a_bad_token_gets_a_clear_400_page(settings: Settings, token: str) -> None:
    async with gateway(settings) as http:
        shown = await http.get("/desinscription", params={"jeton": token})
        posted = await http.post("/desinscription", data={"jeton": token})
        missing = await http.post("/desinscription", content=b"")
    for answer in (shown, posted, missing):
        assert answer.status_code == 400
        assert "Ce lien de désinscription n'est pas valide" in answer.text


async def test_a_handle_of_another_sector_is_refused(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    # A handle a client of the exchange holds must not opt its person out.
    other = pseudonyms(settings).handle(non_claimant, "demo")
    async with gateway(settings) as http:
        answer = await http.post("/desinscription", data={"jeton": other})
    assert answer.status_code == 400
    assert not await opted_out(settings, non_claimant)
