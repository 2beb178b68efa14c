"""What a circuit breaker counts: failures of the agency, never answers the request caused.

One client's bad requests must not open a circuit that every other client depends on; an
agency behind API Particulier failing must not close the others.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from connectors import (
    CallContext,
    CircuitBreaker,
    ConnectorError,
    InvalidInput,
    NotFound,
    PivotIdentity,
    RateLimited,
    UpstreamClient,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.api_particulier import ApiParticulier
from connectors.errors import Conflict
from tests.connectors.conftest import FakeMonotonic, FakeTransport, Request, answer, no_sleep

ERROR = {"errors": [{"code": "37001", "title": "t", "detail": "d", "meta": {"provider": "CNAV"}}]}


def client(handler: Any, clock: FakeMonotonic, threshold: int = 3) -> UpstreamClient:
    return UpstreamClient(
        "api_particulier",
        "https://agency.example",
        provider="API Particulier",
        timeout=1.0,
        pool_size=1,
        breaker=CircuitBreaker(clock=clock, failure_threshold=threshold, cooldown=30.0),
        monotonic=clock,
        sleep=no_sleep,
        transport=FakeTransport(handler),
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidInput),
        (422, InvalidInput),
        (404, NotFound),
        (409, Conflict),
        (429, RateLimited),
    ],
)
async def test_answers_the_request_caused_never_open_the_circuit(
    status: int, error: type[ConnectorError]
) -> None:
    clock = FakeMonotonic()
    upstream = client(lambda r: answer(status, json=ERROR), clock)
    for _ in range(20):
        with pytest.raises(error):
            await upstream.get_json(["x"], [], provider="CNAF")
    assert upstream.circuit == "closed"


async def test_requests_refused_locally_never_reach_the_breaker() -> None:
    clock = FakeMonotonic()
    upstream = client(lambda r: answer(500), clock, threshold=1)
    for _ in range(5):
        with pytest.raises(InvalidInput):
            await upstream.get_json([".."], [], provider="CNAF")
    assert upstream.circuit == "closed"


@pytest.mark.parametrize("content", [b"<html>", b"[1]", b""])
async def test_garbage_bodies_count_as_failures(content: bytes) -> None:
    clock = FakeMonotonic()
    upstream = client(lambda r: answer(200, content=content), clock)
    for _ in range(3):
        with pytest.raises(UpstreamInvalid):
            await upstream.get_json(["x"], [], provider="CNAF")
    assert upstream.circuit == "open"


async def test_one_call_is_one_failure_retries_included() -> None:
    clock = FakeMonotonic()
    calls: list[Request] = []

    def handler(request: Request) -> Any:
        calls.append(request)
        return answer(502, json=ERROR)

    upstream = client(handler, clock)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await upstream.get_json(["x"], [], provider="CNAF")
    assert len(calls) == 6  # each call was retried twice
    assert upstream.circuit == "closed"  # two failed calls, not six failures
    with pytest.raises(UpstreamUnavailable):
        await upstream.get_json(["x"], [], provider="CNAF")
    assert upstream.circuits()["CNAF"] == "open"


async def test_a_half_open_probe_keeps_its_retries() -> None:
    clock = FakeMonotonic()
    statuses = [502] * 9 + [503, 200]

    def handler(request: Request) -> Any:
        status = statuses.pop(0)
        return answer(status, json={"data": {}} if status == 200 else ERROR)

    upstream = client(handler, clock)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await upstream.get_json(["x"], [], provider="CNAF")
    clock.advance(30)
    assert await upstream.get_json(["x"], [], provider="CNAF") == {"data": {}}
    assert upstream.circuits()["CNAF"] == "closed"


async def test_one_circuit_per_agency_behind_one_upstream() -> None:
    clock = FakeMonotonic()

    def handler(request: Request) -> Any:
        if "dss" in request.url.path:
            return answer(502, json=ERROR)
        return answer(200, json={"data": {"ok": True}})

    upstream = client(handler, clock)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await upstream.get_json(["v3", "dss", "rsa"], [], provider="CNAF")
    with pytest.raises(UpstreamUnavailable) as caught:
        await upstream.get_json(["v3", "dss", "rsa"], [], provider="CNAF")
    assert "temporarily disabled" in caught.value.message
    for provider in ("France Travail", "MESRI", "CNOUS"):
        body = await upstream.get_json(["v3", "other"], [], provider=provider)
        assert body == {"data": {"ok": True}}
    circuits = upstream.circuits()
    assert circuits["CNAF"] == "open" and circuits["France Travail"] == "closed"
    assert circuits["MESRI"] == circuits["CNOUS"] == "closed"
    assert upstream.circuit == "open"  # the upstream as a whole reports its worst circuit


async def test_retry_in_is_a_whole_number_of_seconds_rounded_up() -> None:
    clock = FakeMonotonic()
    upstream = client(lambda r: answer(503, json=ERROR), clock, threshold=1)
    with pytest.raises(UpstreamUnavailable):
        await upstream.get_json(["x"], [], provider="CNAF")
    clock.advance(0.4)  # 29.6 s left
    with pytest.raises(UpstreamUnavailable) as caught:
        await upstream.get_json(["x"], [], provider="CNAF")
    assert caught.value.retry_in == 30 and isinstance(caught.value.retry_in, int)

    limited = client(lambda r: answer(429, json=ERROR, headers={"Retry-After": "1.2"}), clock)
    with pytest.raises(RateLimited) as slow:
        await limited.get_json(["x"], [])
    assert slow.value.retry_in == 2 and isinstance(slow.value.retry_in, int)
    assert ConnectorError("m", provider="p", retry_in=0.01).retry_in == 1
    assert ConnectorError("m", provider="p", retry_in=3.0).retry_in == math.ceil(3.0)


async def test_a_cnaf_outage_leaves_the_other_agencies_of_api_particulier_working() -> None:
    clock = FakeMonotonic()
    outage = [502, 504]

    def handler(request: Request) -> Any:
        path = request.url.path
        if "/dss/" in path and "complementaire_sante_solidaire" not in path:
            return answer(outage[0], json=ERROR)
        return answer(200, json={"data": {"ok": True}, "links": {}, "meta": {}})

    http = client(handler, clock, threshold=2)
    api = ApiParticulier(http)
    person = PivotIdentity("MARTIN", ("PIERRE",), date(1987, 6, 27), "M", "99100", "51108")
    ctx = CallContext("13002526500013", date(2025, 3, 14))
    with pytest.raises(UpstreamUnavailable):
        await api.dss("revenu_solidarite_active", person, ctx, provider="CNAF")
    outage.pop(0)
    with pytest.raises(UpstreamTimeout):
        await api.dss("quotient_familial", person, ctx, provider="CNAF")
    with pytest.raises(UpstreamUnavailable, match="temporarily disabled"):
        await api.dss("prime_activite", person, ctx, provider="CNAF")
    css = await api.dss("complementaire_sante_solidaire", person, ctx, provider="CNAF")
    seeker = await api.france_travail("statut", "abc123", ctx)
    student = await api.call(("v3", "mesri", "statut_etudiant", "identite"), [], provider="MESRI")
    grant = await api.call(("v3", "cnous", "etudiant_boursier", "identite"), [], provider="CNOUS")
    assert css.data == seeker.data == student.data == grant.data == {"ok": True}
    assert http.circuits() == {
        "API Particulier": "closed",
        "CNAF": "open",
        "CNAM": "closed",
        "CNOUS": "closed",
        "France Travail": "closed",
        "MESRI": "closed",
    }
