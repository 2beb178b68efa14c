"""The SMS sink over real HTTP, and the gateway's SMS channel talking to it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from proactive.links import offer_token
from proactive.notifications import PermanentFailure, Renderer, SmsChannel
from sandbox import RunningSandbox
from store.outbox import Message

BASE = "https://unefois.example.gouv.fr"
OFFER = "0b6f3c1e-8a57-4d2c-b1e4-7f9a2c5d3e60"
PAYLOAD = {
    "benefit_to": "à la prime d'activité",
    "monthly_amount": 187.2,
    "criteria": ["vous travaillez avec un petit salaire"],
    "data_used": [{"category": "salaires déclarés", "agency": "GIP-MDS"}],
    "form": "ppa",
    "benefit_short": "à la prime d'activité",
    "offer_id": OFFER,
}


def _message(key: str, to: str = "+33612345678") -> Message:
    now = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    return Message(
        id=f"msg-{key}",
        idempotency_key=key,
        channel="sms",
        address=to,
        template="offer",
        payload=PAYLOAD,
        created_at=now,
        next_attempt_at=now,
    )


def _received(http: httpx.Client, sandbox: RunningSandbox) -> list[dict[str, object]]:
    answer = http.get(sandbox.sms_url + "/_sandbox/sms")
    assert answer.status_code == 200
    data: list[dict[str, object]] = answer.json()["data"]
    return data


@pytest.fixture(autouse=True)
def _empty_sink(sandbox: RunningSandbox, http: httpx.Client) -> None:
    assert http.delete(sandbox.sms_url + "/_sandbox/sms").status_code == 200


def test_the_sink_checks_token_and_number(sandbox: RunningSandbox, http: httpx.Client) -> None:
    url = sandbox.sms_url + "/v1/sms"
    body = {"to": "+33612345678", "text": "Bonjour"}
    assert http.post(url, json=body).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert http.post(url, json=body, headers=wrong).status_code == 401
    auth = {"Authorization": f"Bearer {sandbox.sms_token}"}
    for bad in ("0612345678", "+0612345678", "+33 6 12 34 56 78", 33612345678):
        assert http.post(url, json={**body, "to": bad}, headers=auth).status_code == 422
    assert http.post(url, json={**body, "text": ""}, headers=auth).status_code == 422
    answer = http.post(url, json=body, headers=auth)
    assert answer.status_code == 201 and answer.json()["status"] == "queued"
    [received] = _received(http, sandbox)
    assert received["to"] == "+33612345678" and received["id"] == answer.json()["id"]


async def test_the_channel_delivers_once_per_idempotency_key(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    content = Renderer(BASE).render("offer", "sms", PAYLOAD, date(2025, 6, 2))
    async with httpx.AsyncClient(timeout=5.0) as client:
        channel = SmsChannel(sandbox.sms_url + "/v1/sms", sandbox.sms_token, client)
        first = await channel.send(_message("offre-7:sms"), content)
        # A resend after a crash between sending and recording it: the provider dedupes.
        again = await channel.send(_message("offre-7:sms"), content)
        assert first == again
        with pytest.raises(PermanentFailure):
            await SmsChannel(sandbox.sms_url + "/v1/sms", "wrong", client).send(
                _message("offre-8:sms"), content
            )
    [received] = _received(http, sandbox)
    assert received["idempotency_key"] == "offre-7:sms"
    text = str(received["text"])
    assert "prime d'activité" in text and "187 euros/mois" in text
    assert f"{BASE}/formulaires/ppa?offre={offer_token(OFFER)}" in text
    assert f"{BASE}/desinscription?offre={offer_token(OFFER)}" in text
