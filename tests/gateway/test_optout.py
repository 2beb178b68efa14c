"""One-click opting out over the gateway's ASGI app: the link of a notification, a page with
one button, the opt-out recorded on the click only, and no offer for that person afterwards."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from connectors import PivotIdentity
from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import ensure_default_clients
from proactive.campaign import SECTOR, CampaignRunner
from proactive.links import offer_token
from proactive.notifications import Renderer
from runtime import Services
from runtime.settings import Settings
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.proactive.test_campaign import MONTH, NOW, RECIPIENT, adult, settings_for

EARLIER = f"{int(MONTH[:4]) - (MONTH[5:] == '01'):04d}-{(int(MONTH[5:]) - 2) % 12 + 1:02d}"


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


async def detect(settings: Settings, identity: PivotIdentity, campaign: str) -> str:
    """Run a campaign over one person; the id of the offer it makes."""
    async with Services.open(settings, lambda: NOW) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
        )
        summary = await runner.run([identity], "rsa", MONTH, campaign)
        assert summary.offers_created == 1
        [offer] = await services.offers.for_campaign(campaign)
        return offer.id


def csrf(page: httpx.Response) -> str:
    """The CSRF token a page's form carries (its cookie is in the client)."""
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found is not None, "the form carries no CSRF token"
    return found.group(1)


async def opted_out(settings: Settings, identity: PivotIdentity) -> bool:
    async with Services.open(settings, lambda: NOW) as services:
        return await services.offers.opted_out(services.pseudonyms.pseudonym(identity, SECTOR))


async def test_the_link_then_one_click_opts_out_and_no_campaign_makes_an_offer(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    offer = await detect(settings, non_claimant, "before-opt-out")
    token = offer_token(offer)
    # The very link a notification carries.
    link = Renderer(settings.public_url).context({"form": "rsa", "offer_id": offer})["opt_out_url"]
    async with gateway(settings) as http:
        page = await http.get(link)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert '<html lang="fr"' in page.text
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert len(re.findall(r"<button", page.text)) == 1
        assert 'method="post" action="/desinscription"' in page.text
        hidden = re.search(r'name="offre" value="([^"]+)"', page.text)
        assert hidden is not None and hidden.group(1) == token
        # Following the link, as a mail scanner does, changes nothing.
        assert not await opted_out(settings, non_claimant)

        # Without the page's CSRF token (another site posting the form), nothing happens.
        forged = await http.post("/desinscription", data={"offre": token})
        assert forged.status_code == 403
        assert not await opted_out(settings, non_claimant)
        form = {"offre": hidden.group(1), "csrf": csrf(page)}
        done = await http.post("/desinscription", data=form)
        assert done.status_code == 200 and "Désinscription enregistrée" in done.text
        again = await http.post("/desinscription", data=form)
        assert again.status_code == 200
    assert await opted_out(settings, non_claimant)

    async with Services.open(settings, lambda: NOW) as services:
        # No cooldown and another month: only the opt-out can keep an offer from being made.
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
            cooldown_days=0,
        )
        summary = await runner.run([non_claimant], "rsa", EARLIER, "after-opt-out")
        assert summary.eligible == 1 and summary.skipped_cooldown_or_opt_out == 1
        assert await services.offers.for_campaign("after-opt-out") == []


@pytest.mark.parametrize(
    "token",
    ["", "h1.not-a-token", "n'importe quoi", offer_token(str(uuid.uuid4()))],
)
async def test_a_bad_or_unknown_token_gets_a_clear_400_page(
    settings: Settings, non_claimant: PivotIdentity, token: str
) -> None:
    offer = await detect(settings, non_claimant, "bad-tokens")
    async with gateway(settings) as http:
        form_page = await http.get("/desinscription", params={"offre": offer_token(offer)})
        valid = csrf(form_page)
        shown = await http.get("/desinscription", params={"offre": token})
        posted = await http.post("/desinscription", data={"offre": token, "csrf": valid})
        missing = await http.post("/desinscription", data={"csrf": valid})
        big = await http.post("/desinscription", content=b"offre=" + b"A" * 20000)
    for answer in (shown, posted, missing):
        assert answer.status_code == 400
        assert "Ce lien de désinscription n'est pas valide" in html.unescape(answer.text)
    assert big.status_code == 403  # a form larger than any page's: refused before reading
    assert not await opted_out(settings, non_claimant)
