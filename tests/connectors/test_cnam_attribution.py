"""``Cnam.attribute_css`` and ``Cnam.withdraw_css_attribution`` against an in-memory transport:
the request, retries, refusals and garbage (the sandbox round trip is in
tests/proactive/test_grants.py and tests/sandbox/test_cnam_attribution.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest

from connectors import CallContext, InvalidInput, PivotIdentity, UpstreamInvalid
from connectors.cnam import AttributionRefused
from tests.connectors.conftest import SIRET, Request, answer
from tests.connectors.test_cnam_renewal import _fake

ATTRIBUTIONS = "/v1/complementaire-sante-solidaire/attributions"
START = date(2025, 8, 1)
GOOD = {
    "data": {
        "id": "abc123",
        "date_debut": "2025-08-01",
        "date_fin": "2026-08-01",
        "avec_participation": False,
    },
    "links": {},
    "meta": {"as_of": "2025-06-30"},
}


async def test_the_post_carries_the_identity_the_day_and_the_key_and_is_retried(
    person: PivotIdentity, ctx: CallContext
) -> None:
    statuses = iter([503, 201])

    def handler(request: Request) -> Any:
        return answer(next(statuses), json=GOOD)

    cnam, transport = _fake(handler)
    made = await cnam.attribute_css(person, START, "k", ctx)
    assert made.id == "abc123" and made.start == START and made.end == date(2026, 8, 1)
    assert [r.method for r in transport.requests] == ["POST", "POST"]
    sent = transport.requests[0]
    assert sent.url.path == "/api" + ATTRIBUTIONS
    assert sent.headers["Idempotency-Key"] == "k"
    body = orjson.loads(sent.body or b"")
    assert body["prenoms[]"] == ["SAMUEL", "PAUL"] and body["recipient"] == SIRET
    assert body["date_debut"] == "2025-08-01"


async def test_the_withdrawal_is_a_delete(ctx: CallContext) -> None:
    statuses = iter([502, 204])
    cnam, transport = _fake(lambda request: answer(next(statuses)))
    await cnam.withdraw_css_attribution("abc123", ctx)
    assert [r.method for r in transport.requests] == ["DELETE", "DELETE"]
    assert transport.requests[0].url.path == "/api" + ATTRIBUTIONS + "/abc123"


@pytest.mark.parametrize(
    "data",
    [
        {**GOOD["data"], "avec_participation": True},  # not the free CSS
        {**GOOD["data"], "date_debut": "2025-09-01"},  # not from the day asked
        {**GOOD["data"], "date_fin": "2025-08-01"},
        {**GOOD["data"], "id": "../x"},
        {k: v for k, v in GOOD["data"].items() if k != "date_fin"},
    ],
)
async def test_garbage_is_upstream_invalid(
    person: PivotIdentity, ctx: CallContext, data: dict[str, Any]
) -> None:
    cnam, _ = _fake(lambda request: answer(201, json={**GOOD, "data": data}))
    with pytest.raises(UpstreamInvalid):
        await cnam.attribute_css(person, START, "k", ctx)


async def test_refusals_and_bad_input(person: PivotIdentity, ctx: CallContext) -> None:
    error = {"errors": [{"code": "53015", "title": "t", "detail": "d", "source": None}]}
    cnam, transport = _fake(lambda request: answer(422, json=error))
    with pytest.raises(AttributionRefused):
        await cnam.attribute_css(person, START, "k", ctx)
    assert len(transport.requests) == 1  # a refusal is not retried
    with pytest.raises(InvalidInput):
        await cnam.attribute_css(person, START, "", ctx)
    with pytest.raises(InvalidInput):
        await cnam.withdraw_css_attribution("../x", ctx)
