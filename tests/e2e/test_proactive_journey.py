"""Proactivity end to end on the sandbox: the agencies' events → a campaign → offers →
e-mails received by a real SMTP server and text messages by the sandbox's SMS sink → the
form opened from the link → the person's submission, which ends the offer's journey.

Everything runs over real HTTP and SMTP on loopback; only the clock is fixed.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import io
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from cli.campaign import run_campaign
from cli.outbox import deliver_outbox
from eligibility import EligibilityService
from proactive.campaign import SECTOR
from proactive.links import offer_id
from proactive.population import identity_from_params
from runtime import Services
from sandbox import RunningSandbox
from tests.e2e.conftest import RECIPIENT, bulk_timeouts, open_gateway
from tests.proactive.test_notifications import Collect, free_port

MONTH = "2025-06"
SELF = {"purpose": "self_access", "recipient": RECIPIENT, "object": "demande-rsa"}
PREFILL = """query($form: String!, $ctx: AccessContextInput!) {
  prefill(ref: {franceConnect: true}, context: $ctx, form: $form) {
    fields { id type required value state provenance { agency } } } }"""
SUBMIT = """mutation($form: String!, $ctx: AccessContextInput!, $confirmations: [String!]!,
                   $provided: JSON) {
  submitPrefill(ref: {franceConnect: true}, context: $ctx, form: $form,
                confirmations: $confirmations, provided: $provided) {
    submissionId eligibility { benefit status monthlyAmount } } }"""
LINK = re.compile(r"https?://\S+/formulaires/rsa\?offre=[A-Za-z0-9_-]{22}")


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Collect]]:
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def campaign_args() -> argparse.Namespace:
    return argparse.Namespace(
        benefit="rsa",
        month=MONTH,
        from_events=True,
        population=False,
        limit=None,
        workers=1,
        worker_index=0,
        campaign="rsa-evenements",
        cooldown_days=180,
        recipient=RECIPIENT,
    )


def provided_for(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """What the person types in: the fields nobody could fill, that the form requires."""
    out: dict[str, Any] = {}
    for field in fields:
        if field["state"] != "TO_PROVIDE" or not field["required"]:
            continue
        out[field["id"]] = {"boolean": False, "number": 0, "date": "2025-01-01"}.get(
            field["type"], "francaise" if field["id"] == "nationalite" else "non"
        )
    return out


async def test_events_to_offers_to_messages_to_the_form_and_the_application(
    sandbox: RunningSandbox,
    persons: list[dict[str, Any]],
    tmp_path: Path,
    rules: EligibilityService,
    smtp: tuple[Controller, Collect],
) -> None:
    controller, mailbox = smtp
    async with httpx.AsyncClient(timeout=5.0) as http:
        await http.delete(sandbox.sms_url + "/_sandbox/sms")
    extra = {
        "UNEFOIS_SMTP_HOST": "127.0.0.1",
        "UNEFOIS_SMTP_PORT": str(controller.port),
        "UNEFOIS_SMS_URL": sandbox.sms_url + "/v1/sms",
        "UNEFOIS_SMS_TOKEN": sandbox.sms_token,
        **bulk_timeouts(sandbox),
    }
    async with open_gateway(sandbox, tmp_path, rules, extra) as gateway:
        settings, clock = gateway.settings, gateway.clock

        # 1. The agencies' events → a campaign: offers, and messages in the outbox.
        summary = await run_campaign(settings, campaign_args(), clock, io.StringIO())
        assert summary.offers_created > 0 and summary.errors == 0, summary
        assert summary.emails_enqueued > 0 and summary.sms_enqueued > 0
        async with Services.open(settings, clock) as services:
            offers = await services.offers.for_campaign("rsa-evenements")
        assert len(offers) == summary.offers_created
        assert {o.status for o in offers} == {"detected"}

        # 2. Delivered: e-mails over SMTP, text messages to the provider, letters as PDF.
        enqueued = summary.emails_enqueued + summary.sms_enqueued + summary.letters_enqueued
        counts = await deliver_outbox(settings, 1000, clock)
        assert (counts.sent, counts.retried, counts.dead) == (enqueued, 0, 0)
        again = await deliver_outbox(settings, 1000, clock)
        assert (again.sent, again.retried, again.dead) == (0, 0, 0)
        assert len(mailbox.received) == summary.emails_enqueued
        async with httpx.AsyncClient(timeout=5.0) as http:
            texts = (await http.get(sandbox.sms_url + "/_sandbox/sms")).json()["data"]
        assert len(texts) == summary.sms_enqueued
        assert all(t["to"].startswith(("+336", "+337")) for t in texts)
        async with Services.open(settings, clock) as services:
            notified = [await services.offers.get(o.id) for o in offers]
        assert all(o.status == "notified" for o in notified)

        # 3. One person's e-mail: the amount, the reasons, and the link to their form.
        mail = email.message_from_bytes(mailbox.received[0].as_bytes(), policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        plain = mail.get_body(("plain",))
        assert plain is not None
        body = plain.get_content()
        assert "Vous avez peut-être droit au revenu de solidarité active (RSA)" in body
        assert "euros par mois" in body and "/desinscription?offre=" in body
        found = LINK.search(body)
        assert found is not None
        link = found.group(0)
        token = link.rsplit("=", 1)[1]
        offer = offer_id(token)
        assert offer is not None
        # The same link reached the same person by text message.
        assert any(link in t["text"] for t in texts)

        # 4. The link opens the form's page: the offer is opened.
        page = await gateway.http.get(urlsplit(link).path + "?" + urlsplit(link).query)
        assert page.status_code == 200 and "Continuer ma demande" in page.text
        async with Services.open(settings, clock) as services:
            assert (await services.offers.get(offer)).status == "opened"
            person = (await services.offers.get(offer)).person
            entry = next(
                e
                for e in persons
                if not e.get("deceased")
                and services.pseudonyms.pseudonym(identity_from_params(e["personne"]), SECTOR)
                == person
            )
        assert str(mail["To"]).split("@")[1] == "example.fr"

        # 5. The person signs in with FranceConnect; the form arrives filled.
        citizen = await gateway.citizen_token(entry["index"])
        filled = await gateway.query(PREFILL, {"form": "rsa", "ctx": SELF}, token=citizen)
        assert filled.status_code == 200
        filled_body = filled.json()
        assert "errors" not in filled_body, filled_body
        fields = filled_body["data"]["prefill"]["fields"]
        by_id = {f["id"]: f for f in fields}
        assert by_id["nom_naissance"]["value"] == entry["personne"]["nomNaissance"]
        assert by_id["nom_naissance"]["provenance"]["agency"]

        # 6. They check it and send it: recorded, audited, and the offer is applied.
        confirmations = [f["id"] for f in fields if f["state"] == "TO_CONFIRM"]
        submitted = await gateway.query(
            SUBMIT,
            {
                "form": "rsa",
                "ctx": SELF,
                "confirmations": confirmations,
                "provided": provided_for(fields),
            },
            token=citizen,
        )
        submitted_body = submitted.json()
        assert "errors" not in submitted_body, submitted_body
        assert submitted_body["data"]["submitPrefill"]["submissionId"]
        async with Services.open(settings, clock) as services:
            statuses = {o.id: (await services.offers.get(o.id)).status for o in offers}
        assert statuses[offer] == "applied"
        assert sum(s == "applied" for s in statuses.values()) == 1

        # Every read of the campaign is in the audit log, under its purpose.
        stats = (
            await gateway.query(
                """{ auditStats(from: "2025-07-01T00:00:00Z", to: "2025-08-01T00:00:00Z") {
                     accesses { client purpose count } } }""",
                token=gateway.token_for("demo-auditor"),
            )
        ).json()
        assert "errors" not in stats, stats
        by_purpose = {a["purpose"]: a["count"] for a in stats["data"]["auditStats"]["accesses"]}
        # One entry per person examined, two per partner (identified, then read), one or
        # two per partner that could not be (the identification, perhaps the read).
        low = summary.fetched + 2 * summary.partners_fetched + summary.partners_unresolved
        high = summary.fetched + 2 * (summary.partners_fetched + summary.partners_unresolved)
        assert low <= by_purpose["proactive_detection"] <= high
        assert by_purpose["self_access"] >= 2  # the form filled, then submitted
