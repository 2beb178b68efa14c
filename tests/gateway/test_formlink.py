"""The landing page of a notification's link: the offer recorded as opened, the person sent
on to the form builder, nothing about them shown, and bad links refused plainly."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import PivotIdentity
from proactive.links import offer_token
from proactive.notifications import Renderer
from runtime import Services
from runtime.settings import Settings
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.gateway.test_optout import csrf, detect, gateway
from tests.proactive.test_campaign import MONTH, NOW, adult, settings_for


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


async def notify(settings: Settings, offer: str) -> None:
    """What the dispatcher does once the offer's first message is delivered."""
    async with Services.open(settings, lambda: NOW) as services:
        [message] = [m for m in await services.outbox.due(NOW, 10) if m.offer_id == offer]
        await services.outbox.mark_sent(message.id, NOW)
        assert (await services.offers.get(offer)).status == "notified"


async def status(settings: Settings, offer: str) -> str:
    async with Services.open(settings, lambda: NOW) as services:
        return (await services.offers.get(offer)).status


async def test_the_link_records_the_opening_and_leads_to_the_dossier_page(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    offer = await detect(settings, non_claimant, "link")
    await notify(settings, offer)
    link = Renderer(settings.public_url).context({"form": "rsa", "offer_id": offer})["form_url"]
    async with gateway(settings) as http:
        page = await http.get(link)
        again = await http.get(link)
    assert page.status_code == 200 and again.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Demande de revenu de solidarité active (RSA)" in page.text
    start = re.search(r'class="fr-btn" href="([^"]+)"', page.text)
    assert start is not None
    # On to the gateway's page that creates the prefilled dossier (signed in, for this offer).
    assert start.group(1) == f"/mon-espace/demandes/rsa?offre={offer_token(offer)}"
    assert f"/desinscription?offre={offer_token(offer)}" in page.text
    # Nothing about the person: neither their name nor the amount.
    assert non_claimant.birth_name not in page.text and "euros" not in page.text
    assert await status(settings, offer) == "opened"


async def test_a_link_opened_before_any_delivery_changes_no_status(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    offer = await detect(settings, non_claimant, "early")
    async with gateway(settings) as http:
        page = await http.get(f"/formulaires/rsa?offre={offer_token(offer)}")
    assert page.status_code == 200
    assert await status(settings, offer) == "detected"


async def test_bad_links_are_refused_without_opening_anything(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    offer = await detect(settings, non_claimant, "bad")
    await notify(settings, offer)
    token = offer_token(offer)
    async with gateway(settings) as http:
        answers = [
            await http.get(f"/formulaires/ppa?offre={token}"),  # another benefit's form
            await http.get(f"/formulaires/inconnu?offre={token}"),
            await http.get("/formulaires/rsa?offre=" + offer_token(str(uuid.uuid4()))),
            await http.get("/formulaires/rsa?offre=n'importe-quoi"),
            await http.get("/formulaires/rsa"),
        ]
    for answer in answers:
        assert answer.status_code == 404
        assert "Ce lien ne correspond à aucune demande" in answer.text
    assert await status(settings, offer) == "notified"


async def test_the_person_can_say_the_benefit_is_not_for_them(
    settings: Settings, non_claimant: PivotIdentity
) -> None:
    offer = await detect(settings, non_claimant, "decline")
    await notify(settings, offer)
    token = offer_token(offer)
    async with gateway(settings) as http:
        page = await http.get(f"/formulaires/rsa?offre={token}")
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action is not None and action.group(1) == "/formulaires/rsa/refus"
        valid = csrf(page)
        wrong = await http.post("/formulaires/ppa/refus", data={"offre": token, "csrf": valid})
        bad = await http.post("/formulaires/rsa/refus", data={"offre": "x", "csrf": valid})
        assert wrong.status_code == 404 and bad.status_code == 404
        forged = await http.post(action.group(1), data={"offre": token})  # no CSRF token
        assert forged.status_code == 403
        assert await status(settings, offer) == "opened"
        done = await http.post(action.group(1), data={"offre": token, "csrf": valid})
        again = await http.post(action.group(1), data={"offre": token, "csrf": valid})
    assert done.status_code == 200 and "Nous ne vous relancerons pas" in done.text
    assert again.status_code == 200
    assert await status(settings, offer) == "declined"
