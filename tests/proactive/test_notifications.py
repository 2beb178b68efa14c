"""Rendering, the e-mail channel over a real SMTP server on loopback, and PDF letters."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from proactive.links import offer_id, offer_token
from proactive.notifications import (
    EmailChannel,
    LetterChannel,
    PermanentFailure,
    Renderer,
    TemporaryFailure,
)
from proactive.notifications.rendering import SMS_MAX_SEGMENTS, euros, french_date
from store.outbox import Message
from tests.ports import server_port

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
BASE = "https://unefois.example.gouv.fr"
OFFER = "5f0c2a9e-3b1d-4c8e-9a7f-2d6b1e0c4a93"
PAYLOAD: dict[str, Any] = {
    "benefit_to": "au revenu de solidarité active (RSA)",
    "monthly_amount": 312.6,
    "criteria": ["vos revenus des 3 derniers mois sont bas", "vous vivez seule"],
    "data_used": [
        {"category": "salaires déclarés", "agency": "GIP-MDS"},
        {"category": "composition du foyer", "agency": "DGFiP"},
    ],
    "form": "rsa",
    "benefit_short": "au RSA",
    "offer_id": OFFER,
}
FORM_URL = f"{BASE}/formulaires/rsa?offre={offer_token(OFFER)}"
OPT_OUT_URL = f"{BASE}/desinscription?offre={offer_token(OFFER)}"


def message(channel: str, address: str, key: str = "offre-42:email") -> Message:
    return Message(
        id=f"msg-{channel}",
        idempotency_key=key,
        channel=channel,
        address=address,
        template="offer",
        payload=PAYLOAD,
        created_at=NOW,
        next_attempt_at=NOW,
        offer_id=OFFER,
    )


class Collect(MessageHandler):
    def __init__(self) -> None:
        super().__init__(email.message.EmailMessage)
        self.received: list[EmailMessage] = []

    def handle_message(self, message: Any) -> None:
        self.received.append(message)


def free_port() -> int:
    """A port for a server this test starts (``tests.ports``)."""
    return server_port()


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Collect]]:
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_the_texts_say_amount_reasons_data_and_links() -> None:
    renderer = Renderer(BASE + "/")
    mail = renderer.render("offer", "email", PAYLOAD, date(2025, 6, 2))
    assert mail.subject == "Vous avez peut-être droit au revenu de solidarité active (RSA)"
    for expected in (
        "313 euros par mois",
        "vous vivez seule",
        "salaires déclarés (source : GIP-MDS)",
    ):
        assert expected in mail.text
    assert FORM_URL in mail.text and OPT_OUT_URL in mail.text
    assert mail.html is not None and 'lang="fr"' in mail.html
    assert f'href="{FORM_URL}"' in mail.html
    sms = renderer.render("offer", "sms", PAYLOAD, date(2025, 6, 2))
    assert sms.segments <= SMS_MAX_SEGMENTS and FORM_URL in sms.text and OPT_OUT_URL in sms.text
    letter = renderer.render("offer", "letter", PAYLOAD, date(2025, 6, 2))
    assert letter.text.startswith("Le 2 juin 2025") and "313 euros" in letter.text


def test_a_link_token_stands_for_one_offer_only() -> None:
    token = offer_token(OFFER)
    assert len(token) == 22 and offer_id(token) == OFFER
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character carries 2 bits of the id and 4 unused ones: another spelling of
    # the same id is refused, so that one offer has one link.
    position = alphabet.index(token[-1])
    other = token[:-1] + alphabet[(position & ~0b1111) | ((position + 1) & 0b1111)]
    for bad in ("", token[:-1], token + "A", "!" * 22, "a b" * 7 + "a", other):
        assert offer_id(bad) is None


def test_html_is_escaped_and_missing_fields_are_permanent() -> None:
    renderer = Renderer(BASE)
    hostile = {**PAYLOAD, "criteria": ["<script>alert(1)</script>"]}
    html = renderer.render("offer", "email", hostile, date(2025, 6, 2)).html
    assert html is not None and "<script>" not in html and "&lt;script&gt;" in html
    with pytest.raises(PermanentFailure):
        renderer.render("offer", "email", {"form": "rsa"}, date(2025, 6, 2))
    with pytest.raises(PermanentFailure):
        renderer.render("offer", "sms", {**PAYLOAD, "offer_id": "x" * 300}, date(2025, 6, 2))


async def test_email_arrives_over_real_smtp(smtp: tuple[Controller, Collect]) -> None:
    controller, handler = smtp
    channel = EmailChannel("127.0.0.1", controller.port, "ne-pas-repondre@unefois.example.gouv.fr")
    outgoing = message("email", "claire@example.org")
    content = Renderer(BASE).render("offer", "email", PAYLOAD, date(2025, 6, 2))
    delivery = await channel.send(outgoing, content)
    assert delivery.endswith("@unefois.example.gouv.fr>")
    [received] = handler.received
    assert received["To"] == "claire@example.org"
    assert received["Message-ID"] == delivery
    parsed = email.message_from_bytes(received.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == content.subject
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content()
    assert "Vous avez peut-être droit" in body and "313 euros par mois" in body
    assert FORM_URL in body and OPT_OUT_URL in body
    assert OPT_OUT_URL in html.get_content()


async def test_email_to_a_closed_port_is_temporary() -> None:
    channel = EmailChannel("127.0.0.1", free_port(), "unefois@example.org", timeout=2)
    content = Renderer(BASE).render("offer", "email", PAYLOAD, date(2025, 6, 2))
    with pytest.raises(TemporaryFailure):
        await channel.send(message("email", "claire@example.org"), content)


async def test_letter_is_a_pdf_named_by_the_message(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path / "lettres")
    outgoing = message("letter", "Mme Claire Martin\n12 rue des Lilas\n87000 Limoges")
    content = Renderer(BASE).render("offer", "letter", PAYLOAD, date(2025, 6, 2))
    assert await channel.send(outgoing, content) == "msg-letter.pdf"
    data = (tmp_path / "lettres" / "msg-letter.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert list((tmp_path / "lettres").iterdir()) == [tmp_path / "lettres" / "msg-letter.pdf"]


@pytest.mark.parametrize(
    ("amount", "said", "short"),
    [
        (0.0, "Elle serait gratuite pour vous.", "solidaire, gratuite."),
        (0.3, "Elle serait gratuite pour vous.", "solidaire, gratuite."),
        (25.4, "Elle vous coûterait environ 25 euros par mois", "solidaire, pour 25 euros/mois."),
        (None, "Votre participation éventuelle dépend", "solidaire. Demande"),
    ],
)
def test_the_css_amount_is_what_the_person_would_pay_never_a_sum_received(
    amount: float | None, said: str, short: str
) -> None:
    payload = {
        **PAYLOAD,
        "benefit": "css",
        "benefit_to": "à la complémentaire santé solidaire (CSS)",
        "benefit_short": "à la complémentaire santé solidaire",
        "monthly_amount": amount,
    }
    renderer = Renderer(BASE)
    for channel in ("email", "letter"):
        text = renderer.render("offer", channel, payload, date(2025, 6, 2)).text
        assert said in text and "Nous estimons son montant" not in text, channel
    html = renderer.render("offer", "email", payload, date(2025, 6, 2)).html
    assert html is not None and said.replace("'", "&#39;") in html
    sms = renderer.render("offer", "sms", payload, date(2025, 6, 2)).text
    assert short in sms and "0 euros" not in sms


def test_an_unknown_amount_is_said_to_be_calculated_after_the_claim() -> None:
    payload = {**PAYLOAD, "benefit": "rsa", "monthly_amount": None}
    renderer = Renderer(BASE)
    letter = renderer.render("offer", "letter", payload, date(2025, 6, 2)).text
    assert "Son montant dépend d'informations que nous n'avons pas" in letter
    assert "environ" not in letter and "vous vivez seule" in letter
    sms = renderer.render("offer", "sms", payload, date(2025, 6, 2)).text
    assert sms.startswith("Unefois : vous pourriez avoir droit au RSA. Demande pré-remplie")


@pytest.mark.parametrize(("ended", "verb"), [(False, "prend fin"), (True, "a pris fin")])
def test_a_renewal_invitation_speaks_of_the_right_that_ends(ended: bool, verb: str) -> None:
    payload = {
        **PAYLOAD,
        "benefit": "css",
        "benefit_to": "à la complémentaire santé solidaire (CSS)",
        "benefit_short": "à la complémentaire santé solidaire",
        "monthly_amount": None,
        "renewal_end": "31 mai 2025",
        "renewal_ended": ended,
        "criteria": [],
        "data_used": [],
    }
    renderer = Renderer(BASE)
    for channel in ("email", "letter", "sms"):
        rendered = renderer.render("offer", channel, payload, date(2025, 6, 2))
        assert rendered.subject == f"Votre complémentaire santé solidaire {verb} le 31 mai 2025"
        assert f"{verb} le 31 mai 2025" in rendered.text, channel
        if channel != "sms":
            said = " ".join(rendered.text.split())
            assert ("déjà terminée ne peut pas être renouvelée" in said) is ended, channel
            assert ("Nous n'avons pas pu la renouveler sans vous" in said) is not ended
        assert "Vous avez peut-être droit" not in rendered.text
        assert "Pourquoi nous pensons" not in rendered.text
        assert "Les informations que nous avons utilisées" not in rendered.text
        assert FORM_URL in rendered.text and OPT_OUT_URL in rendered.text


def test_dates_and_amounts_read_as_french_writes_them() -> None:
    assert french_date(date(2026, 7, 1)) == "1er juillet 2026"
    assert french_date(date(2026, 12, 31)) == "31 décembre 2026"
    assert euros(1.2) == "1 euro" and euros(0.4) == "0 euro"
    assert euros(2) == "2 euros" and euros(1234.6) == "1 235 euros"
