"""``Cnam.renew_css`` and ``Cnam.cancel_css_renewal``: against the sandbox over real HTTP, and
against an in-memory transport for retries and garbage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import orjson
import pytest

from connectors import (
    CallContext,
    CircuitBreaker,
    Cnam,
    InvalidInput,
    NoCache,
    NotFound,
    PivotIdentity,
    UpstreamClient,
    UpstreamInvalid,
    UpstreamUnavailable,
)
from connectors.cnam import RenewalRefused
from connectors.oauth import ClientCredentials
from proactive.population import identity_from_params
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.connectors.conftest import (
    SIRET,
    FakeMonotonic,
    FakeTransport,
    Request,
    answer,
    fixed_clock,
    no_sleep,
)

RENEWALS = "/v1/complementaire-sante-solidaire/renouvellements"
GOOD = {
    "data": {
        "id": "abc123",
        "date_debut": "2025-06-01",
        "date_fin": "2026-06-01",
        "avec_participation": False,
    },
    "links": {},
    "meta": {"as_of": "2025-06-30"},
}
END = date(2025, 6, 1)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=200)) as running:
        yield running


@pytest.fixture
async def live(sandbox: RunningSandbox) -> AsyncIterator[Cnam]:
    clock = FakeMonotonic()
    client = UpstreamClient(
        "cnam",
        sandbox.urls["cnam"],
        provider="CNAM",
        timeout=5.0,
        pool_size=4,
        breaker=CircuitBreaker(clock=clock),
    )
    client.auth = ClientCredentials(client, sandbox.client_id, sandbox.client_secret)
    yield Cnam(client, NoCache(), fixed_clock)
    await client.aclose()


def _holder(sandbox: RunningSandbox) -> PivotIdentity:
    with httpx.Client(timeout=5.0) as http:
        found = http.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "css", "limit": 1},
        ).json()["data"]
    return identity_from_params(found[0]["personne"])


async def test_renew_and_cancel_against_the_sandbox(
    sandbox: RunningSandbox, live: Cnam, ctx: CallContext
) -> None:
    identity = _holder(sandbox)
    before = await live.health_insurance(identity, ctx)
    assert before.css_renewal_date is not None
    renewal = await live.renew_css(identity, before.css_renewal_date, "key-1", ctx)
    assert renewal.start == before.css_renewal_date and renewal.end > renewal.start
    assert renewal.with_participation == before.css_with_participation
    replay = await live.renew_css(identity, before.css_renewal_date, "key-1", ctx)
    assert replay == renewal
    after = await live.health_insurance(identity, ctx)
    assert after.css_renewal_date == renewal.end

    with pytest.raises(RenewalRefused):
        await live.renew_css(identity, before.css_renewal_date, "key-2", ctx)

    await live.cancel_css_renewal(renewal.id, ctx)
    await live.cancel_css_renewal(renewal.id, ctx)  # already reverted: fine
    assert (await live.health_insurance(identity, ctx)).css_renewal_date == before.css_renewal_date
    with pytest.raises(NotFound):
        await live.cancel_css_renewal("unknown", ctx)


def _fake(handler: Any) -> tuple[Cnam, FakeTransport]:
    transport = FakeTransport(handler)
    clock = FakeMonotonic()
    client = UpstreamClient(
        "cnam",
        "https://cnam.example/api",
        provider="CNAM",
        timeout=5.0,
        pool_size=2,
        breaker=CircuitBreaker(clock=clock),
        monotonic=clock,
        sleep=no_sleep,
        transport=transport,
    )
    return Cnam(client, NoCache(), fixed_clock), transport


async def test_the_post_carries_the_identity_and_the_key_and_is_retried(
    person: PivotIdentity, ctx: CallContext
) -> None:
    statuses = iter([503, 201])

    def handler(request: Request) -> Any:
        return answer(next(statuses), json=GOOD)

    cnam, transport = _fake(handler)
    renewal = await cnam.renew_css(person, END, "k", ctx)
    assert renewal.id == "abc123" and renewal.end == date(2026, 6, 1)
    assert [r.method for r in transport.requests] == ["POST", "POST"]
    sent = transport.requests[0]
    assert sent.url.path == "/api" + RENEWALS
    assert sent.headers["Idempotency-Key"] == "k"
    assert sent.headers["Content-Type"] == "application/json"
    body = orjson.loads(sent.body or b"")
    assert body["prenoms[]"] == ["SAMUEL", "PAUL"] and body["nomNaissance"] == "MARTIN"
    assert body["recipient"] == SIRET and body["date_fin_actuelle"] == "2025-06-01"


async def test_the_delete_is_retried_and_accepts_an_empty_answer(ctx: CallContext) -> None:
    statuses = iter([502, 204])
    cnam, transport = _fake(lambda request: answer(next(statuses)))
    await cnam.cancel_css_renewal("abc123", ctx)
    assert [r.method for r in transport.requests] == ["DELETE", "DELETE"]
    assert transport.requests[0].url.path == "/api" + RENEWALS + "/abc123"


@pytest.mark.parametrize(
    "data",
    [
        {**GOOD["data"], "date_fin": "demain"},
        {**GOOD["data"], "id": "../../x"},
        {**GOOD["data"], "avec_participation": "non"},
        {**GOOD["data"], "date_debut": "2025-07-01"},  # not the period renewed
        {**GOOD["data"], "date_fin": "2025-06-01"},
        {k: v for k, v in GOOD["data"].items() if k != "id"},
    ],
)
async def test_garbage_is_upstream_invalid(
    person: PivotIdentity, ctx: CallContext, data: dict[str, Any]
) -> None:
    cnam, _ = _fake(lambda request: answer(201, json={**GOOD, "data": data}))
    with pytest.raises(UpstreamInvalid):
        await cnam.renew_css(person, END, "k", ctx)


async def test_not_json_and_empty_answers_are_upstream_invalid(
    person: PivotIdentity, ctx: CallContext
) -> None:
    cnam, _ = _fake(lambda request: answer(201, content=b"<html>"))
    with pytest.raises(UpstreamInvalid):
        await cnam.renew_css(person, END, "k", ctx)
    cnam, _ = _fake(lambda request: answer(201))
    with pytest.raises(UpstreamInvalid):
        await cnam.renew_css(person, END, "k", ctx)


async def test_refusals_and_bad_input(person: PivotIdentity, ctx: CallContext) -> None:
    error = {"errors": [{"code": "53011", "title": "t", "detail": "d", "source": None}]}
    cnam, transport = _fake(lambda request: answer(422, json=error))
    with pytest.raises(RenewalRefused):
        await cnam.renew_css(person, END, "k", ctx)
    assert len(transport.requests) == 1  # a refusal is not retried
    with pytest.raises(InvalidInput):
        await cnam.renew_css(person, END, "", ctx)
    with pytest.raises(InvalidInput):
        await cnam.cancel_css_renewal("../x", ctx)
    with pytest.raises(InvalidInput):
        await cnam.renew_css(person, END, "k", CallContext(recipient="x", on=END))
    cnam, transport = _fake(lambda request: answer(503))
    with pytest.raises(UpstreamUnavailable):
        await cnam.cancel_css_renewal("abc", ctx)
    assert len(transport.requests) == 3  # retried, within the retry policy


async def test_a_request_not_idempotent_is_sent_once() -> None:
    transport = FakeTransport(lambda request: answer(503))
    client = UpstreamClient(
        "x",
        "https://x.example",
        provider="X",
        timeout=5.0,
        pool_size=1,
        breaker=CircuitBreaker(clock=FakeMonotonic()),
        sleep=no_sleep,
        transport=transport,
    )
    with pytest.raises(UpstreamUnavailable):
        await client.send_json("POST", ("a",), {"b": 1}, idempotent=False)
    assert len(transport.requests) == 1
