"""``unefois campaign deliver`` counts the text messages it sent, the SMS segments they were
billed as (the texts the provider received, counted again here) and, with a segment price
set, what they cost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

import cli
from cli.outbox import deliver_outbox, delivery_lines
from proactive.notifications import DispatchCounts, gsm
from runtime import Services
from runtime.settings import Settings, SettingsError, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store.outbox import Message
from tests.proactive.test_campaign import NOW
from tests.proactive.test_sms_templates import offer_payloads, renewal_payloads


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=5)) as running:
        yield running


def sms_settings(sandbox: RunningSandbox, data_dir: Path, price: str = "") -> Settings:
    return load(
        {
            "UNEFOIS_DATA_DIR": str(data_dir),
            "UNEFOIS_PUBLIC_URL": "https://unefois.solidarites-numerique.fr",
            "UNEFOIS_SMS_URL": sandbox.sms_url + "/v1/sms",
            "UNEFOIS_SMS_TOKEN": sandbox.sms_token,
            "UNEFOIS_SMS_SEGMENT_PRICE": price,
        }
    )


async def enqueue_texts(settings: Settings) -> None:
    payloads = [("offer", p) for p in offer_payloads()] + [
        ("renewal", p) for p in renewal_payloads()
    ]
    async with Services.open(settings, lambda: NOW) as services:
        for n, (template, payload) in enumerate(payloads):
            await services.outbox.enqueue(
                Message(
                    idempotency_key=f"test:{n}:sms",
                    channel="sms",
                    address=f"+3361234567{n}",
                    template=template,
                    payload=payload,
                    created_at=NOW,
                    next_attempt_at=NOW,
                )
            )


async def received_texts(sandbox: RunningSandbox) -> list[str]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        answer = await http.get(sandbox.sms_url + "/_sandbox/sms")
        await http.delete(sandbox.sms_url + "/_sandbox/sms")
    return [str(m["text"]) for m in answer.json()["data"]]


async def test_deliver_counts_the_segments_the_provider_received(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = sms_settings(sandbox, tmp_path)
    await received_texts(sandbox)
    await enqueue_texts(settings)
    counts = await deliver_outbox(settings, 100, lambda: NOW)
    texts = await received_texts(sandbox)
    assert len(texts) == counts.sent == counts.sms_sent == 9
    assert all(gsm.encoding(t) == "GSM-7" for t in texts)
    assert counts.sms_segments == sum(gsm.segments(t) for t in texts)
    # Every text is over 160 characters with this public URL (an offer's has two links).
    assert [gsm.segments(t) for t in texts] == [2] * 9


async def test_the_command_prints_sms_segments_and_cost(
    sandbox: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await received_texts(sandbox)
    await enqueue_texts(sms_settings(sandbox, tmp_path))
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("UNEFOIS_PUBLIC_URL", "https://unefois.solidarites-numerique.fr")
    monkeypatch.setenv("UNEFOIS_SMS_URL", sandbox.sms_url + "/v1/sms")
    monkeypatch.setenv("UNEFOIS_SMS_TOKEN", sandbox.sms_token)
    monkeypatch.setenv("UNEFOIS_SMS_SEGMENT_PRICE", "0,045")
    args = cli.parser().parse_args(["campaign", "deliver"])
    assert await asyncio.to_thread(args.func, args) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    # Seven offers (four benefits, two renewal invitations, a CSS participation) and two
    # renewals, two SMS each.
    assert lines["sent"] == "9" and lines["sms"] == "9" and lines["segments"] == "18"
    assert lines["cost"] == "0.81 euros excl. VAT (estimate)"  # 18 × 0.045
    await received_texts(sandbox)


def test_no_price_no_cost_line() -> None:
    counts = DispatchCounts(sent=3, sms_sent=2, sms_segments=3)
    assert delivery_lines(counts, None).split() == [
        *("sent", "3", "retried", "0", "dead", "0"),
        *("sms", "2", "segments", "3"),
    ]
    assert delivery_lines(counts, Decimal("0.05")).splitlines()[-1].split()[:2] == [
        "cost",
        "0.15",
    ]


@pytest.mark.parametrize("price", ["abc", "-0.01", "NaN", "inf"])
def test_an_unusable_price_is_named(price: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load({"UNEFOIS_SMS_SEGMENT_PRICE": price})
    assert "UNEFOIS_SMS_SEGMENT_PRICE" in str(caught.value)


def test_the_price_is_read_in_euros() -> None:
    assert load({}).sms_segment_price is None
    assert load({"UNEFOIS_SMS_SEGMENT_PRICE": "0.05"}).sms_segment_price == Decimal("0.05")
