"""Time claims of every shape, through the real application: always a typed 401, never a 500.

The payloads are written as raw JSON so that values a JSON encoder would not produce
(integers past 64 bits, exponents) reach the verifier exactly as an attacker would send them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from joserfc import jws

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import ensure_default_clients
from gateway.keys import SigningKeys, load_or_create
from runtime.settings import Settings, load

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
Q = {"query": "{ __typename }"}

# Each value replaces exp, nbf or iat, as raw JSON text.
BAD_TIMES = [
    "253402300800",  # 10000-01-01T00:00:00Z, past the last representable date
    "9999999999999",
    "1000000000000000000",
    "9223372036854775807",  # 2**63 - 1
    "18446744073709551615",  # 2**64 - 1
    "18446744073709551616",  # 2**64: read as a float
    "1" + "0" * 40,
    "1e300",
    "1.7976931348623157e308",
    "-1",
    "-62135596801",  # before year 1
    "-1000000000000000000",
    "-1e300",
    "true",
    "false",
    "null",
    '"1752148800"',
    '""',
    "[]",
    "{}",
]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, SigningKeys]]:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path)})
    ensure_default_clients(settings.clients_path)
    keys = load_or_create(settings.data_dir, settings.signing_alg)
    # The rules' pool is never started: no query here computes eligibility.
    rules = EligibilityService(workers=1)
    application = build_app(settings, clock=lambda: NOW, keys=keys, eligibility=rules)
    transport = httpx.ASGITransport(application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as http,
    ):
        yield http, settings, keys


def _token(settings: Settings, keys: SigningKeys, claim: str, raw: str) -> str:
    times = {"iat": str(T), "exp": str(T + 300)}
    if raw:
        times[claim] = raw
    fields = [
        f'"iss": {orjson.dumps(settings.token_issuer).decode()}',
        '"sub": "demo-agency-app"',
        '"client_id": "demo-agency-app"',
        f'"aud": {orjson.dumps(settings.token_audience).decode()}',
        '"jti": "t-1"',
        '"scope": "person:read"',
        *(f'"{name}": {value}' for name, value in times.items()),
    ]
    payload = ("{" + ", ".join(fields) + "}").encode()
    key = keys.current
    header = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}
    return jws.serialize_compact(header, payload, key, algorithms=[str(key.alg)])


async def test_a_well_formed_token_passes(app: tuple[httpx.AsyncClient, Settings, SigningKeys]):
    http, settings, keys = app
    token = _token(settings, keys, "nbf", str(T - 10))
    answer = await http.post("/graphql", json=Q, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("raw", BAD_TIMES)
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
async def test_time_claims_out_of_range_are_401(
    app: tuple[httpx.AsyncClient, Settings, SigningKeys], claim: str, raw: str
) -> None:
    http, settings, keys = app
    token = _token(settings, keys, claim, raw)
    answer = await http.post("/graphql", json=Q, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    [error] = answer.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert error["message"]
