"""The sandbox's mail sink: a real SMTP server; what it received is listed over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from proactive.notifications import EmailChannel, Renderer
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store.outbox import Message
from tests.proactive.test_notifications import NOW, PAYLOAD


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=20)) as running:
        yield running


async def test_an_email_sent_over_smtp_is_listed_then_cleared(sandbox: RunningSandbox) -> None:
    assert sandbox.mail_port > 0
    channel = EmailChannel("127.0.0.1", sandbox.mail_port, "Unefois <ne-pas-repondre@unefois.fr>")
    content = Renderer("https://unefois.example").render(
        "offer", "email", PAYLOAD, date(2025, 6, 2)
    )
    message = Message(
        idempotency_key="offer:1:email",
        channel="email",
        address="claire@example.org",
        template="offer",
        payload=PAYLOAD,
        created_at=NOW,
        next_attempt_at=NOW,
    )
    await channel.send(message, content)
    async with httpx.AsyncClient(base_url=sandbox.sms_url, timeout=5.0) as http:
        [mail] = (await http.get("/_sandbox/mails")).json()["data"]
        assert mail["to"] == "claire@example.org"
        assert mail["subject"] == content.subject
        assert "313 euros par mois" in mail["text"]
        assert (await http.delete("/_sandbox/mails")).json() == {"data": []}
        assert (await http.get("/_sandbox/mails")).json()["data"] == []
