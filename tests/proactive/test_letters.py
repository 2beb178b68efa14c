"""PDF letters read back as a print service and the post office would: the text of every
letter of a campaign over the sandbox agencies, each address block held to NF Z10-011."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from cli.listing import sandbox_adults
from cli.outbox import deliver_outbox
from proactive.campaign import CampaignRunner
from proactive.notifications import LetterChannel, PermanentFailure, Renderer
from proactive.notifications.channels import SENDER, WINDOW_LEFT, WINDOW_TOP, letter_pdf
from proactive.postal import WIDTH, plain
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store.outbox import Message
from tests.proactive.test_campaign import MONTH, NOW, RECIPIENT, settings_for

OFFER = "5f0c2a9e-3b1d-4c8e-9a7f-2d6b1e0c4a93"
MM = 72 / 25.4  # PDF points in a millimetre
TOWN = re.compile(r"\d{5} [A-Z0-9 ]+")
CIVILITIES = ("MONSIEUR ", "MADAME ", "M ", "MME ")
ADDRESS = "MADAME CLAIRE MARTIN\nAPPARTEMENT 12\n12 RUE DES LILAS\n87000 LIMOGES"
PAYLOAD = {
    "benefit_to": "au revenu de solidarité active (RSA)",
    "benefit_short": "au RSA",
    "monthly_amount": 313.4,
    "criteria": ["Vos ressources sont sous le plafond."],
    "data_used": [{"category": "Ressources", "agency": "URSSAF"}],
    "form": "rsa",
    "offer_id": OFFER,
}


def letter(
    address: str,
    template: str = "offer",
    payload: dict[str, Any] | None = None,
    offer_id: str | None = OFFER,
) -> Message:
    return Message(
        id="msg-1",
        idempotency_key=f"{template}:{offer_id}:letter",
        channel="letter",
        address=address,
        template=template,
        payload=PAYLOAD if payload is None else payload,
        created_at=NOW,
        next_attempt_at=NOW,
        offer_id=offer_id,
    )


def lines_of(pdf: bytes) -> list[str]:
    text = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def address_block(lines: list[str]) -> list[str]:
    """The lines between the sender block and the date, as a reader of the page finds them."""
    after_sender = lines[len(SENDER) :]
    end = next(i for i, line in enumerate(after_sender) if line.startswith("Le "))
    return after_sender[:end]


def problems(block: list[str], names: set[str]) -> list[str]:
    found: list[str] = []
    if not 3 <= len(block) <= 6:
        found.append(f"{len(block)} lines")
    if any(len(line) > WIDTH for line in block):
        found.append("a line over 38 characters")
    if any(line != plain(line) for line in block):
        found.append("accents or lower case")
    first = block[0] if block else ""
    if not first.startswith(CIVILITIES) or not any(first.endswith(" " + n) for n in names):
        found.append("the recipient's name is not first")
    if not block or not TOWN.fullmatch(block[-1]):
        found.append("the last line is not the postcode and town")
    return found


def renderer() -> Renderer:
    return Renderer("http://127.0.0.1:8000")


def test_the_letter_has_sender_address_date_reference_then_text() -> None:
    content = renderer().render("offer", "letter", PAYLOAD, date(2025, 6, 2))
    lines = lines_of(letter_pdf(letter(ADDRESS), content))
    assert lines[: len(SENDER)] == list(SENDER)
    assert address_block(lines) == ADDRESS.splitlines()
    after = lines[len(SENDER) + 4 :]
    assert after[:2] == ["Le 2 juin 2025", f"Référence : {OFFER}"]
    assert after[2] == content.subject
    assert "313 euros" in " ".join(after)


def test_a_renewal_letter_heads_with_the_reference_its_text_gives() -> None:
    reference = "3f2a9c1e-5b7d-5e2a-9c1e-5b7d3f2a9c1e"
    payload = {
        "previous_end": "31 mai 2025",
        "new_end": "31 mai 2026",
        "with_participation": False,
        "data_used": [],
        "reference": reference,
    }
    message = letter(ADDRESS, "renewal", payload, offer_id=None)
    content = renderer().render("renewal", "letter", payload, date(2025, 6, 2))
    lines = lines_of(letter_pdf(message, content))
    after = lines[len(SENDER) + 4 :]
    assert after[1] == f"Référence : {reference}"  # the one the person quotes to refuse it
    assert "msg-1" not in " ".join(lines)


def test_the_address_block_sits_in_the_window() -> None:
    content = renderer().render("offer", "letter", PAYLOAD, date(2025, 6, 2))
    page = PdfReader(BytesIO(letter_pdf(letter(ADDRESS), content))).pages[0]
    height = float(page.mediabox.height)
    placed: dict[str, tuple[float, float]] = {}

    def seen(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            placed.setdefault(text.strip(), (tm[4], height - tm[5]))

    page.extract_text(visitor_text=seen)
    for line in ADDRESS.splitlines():
        x, y = placed[line]
        assert abs(x / MM - WINDOW_LEFT) < 1  # aligned left at the window's edge
        assert WINDOW_TOP <= y / MM <= WINDOW_TOP + 40  # within the window's height


async def test_an_address_not_laid_out_is_refused_for_good(tmp_path: Path) -> None:
    content = renderer().render("offer", "letter", PAYLOAD, date(2025, 6, 2))
    channel = LetterChannel(tmp_path)
    for bad in ("12 rue des Lilas", "MADAME CLAIRE MARTIN\n" + "X" * 39 + "\n87000 LIMOGES"):
        with pytest.raises(PermanentFailure):
            await channel.send(letter(bad), content)
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=120, reference_month=MONTH)) as running:
        yield running


async def test_every_letter_of_a_campaign_has_an_address_the_post_office_accepts(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    adults = await sandbox_adults(sandbox.urls["civil_registry"], None)
    names = {plain(i.usage_name or i.birth_name) for i, _ in adults}
    async with Services.open(settings, lambda: NOW) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
        )
        summary = await runner.run([i for i, _ in adults], "rsa", MONTH, "letters")
    assert summary.letters_enqueued > 0
    counts = await deliver_outbox(settings, 1000, lambda: NOW)
    assert counts.dead == 0
    pdfs = sorted(settings.letters_path.glob("*.pdf"))
    assert len(pdfs) == summary.letters_enqueued
    for pdf in pdfs:
        block = address_block(lines_of(pdf.read_bytes()))
        assert problems(block, names) == [], (pdf.name, block)
