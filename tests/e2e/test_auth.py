"""Only a valid access token of ours (or of the trusted issuer) reaches GraphQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.keys import SigningKeys, generate_key
from tests.e2e.conftest import CONTEXT, NOW, Gateway, identity

Q = "{ __typename }"


def _claims(gateway: Gateway, **change: Any) -> dict[str, Any]:
    now = int(NOW.timestamp())
    claims = {
        "iss": gateway.settings.token_issuer,
        "sub": "demo-agency-app",
        "client_id": "demo-agency-app",
        "aud": gateway.settings.token_audience,
        "iat": now,
        "exp": now + 300,
        "jti": "t-1",
        "scope": "person:read",
    }
    claims.update(change)
    return claims


async def _status(gateway: Gateway, token: str) -> tuple[int, dict[str, Any], str]:
    response = await gateway.query(Q, token=token)
    return response.status_code, response.json(), response.headers.get("www-authenticate", "")


async def test_a_token_of_ours_is_accepted(gateway: Gateway) -> None:
    status, body, _ = await _status(gateway, gateway.keys.sign(_claims(gateway)))
    assert status == 200 and body == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "token",
    ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
)
async def test_malformed_tokens(gateway: Gateway, token: str) -> None:
    status, body, challenge = await _status(gateway, token)
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert challenge.startswith("Bearer")


async def test_missing_token(gateway: Gateway) -> None:
    response = await gateway.http.post("/graphql", json={"query": Q})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_forged_token_signed_by_another_key(gateway: Gateway) -> None:
    forger = SigningKeys([generate_key("Ed25519")])
    claims = _claims(gateway)
    assert (await _status(gateway, forger.sign(claims)))[0] == 401


async def test_token_with_our_kid_but_another_key(gateway: Gateway) -> None:
    other = generate_key("Ed25519")
    token = SigningKeys([other]).sign(_claims(gateway))
    header, rest = token.split(".", 1)
    ours = gateway.keys.sign(_claims(gateway)).split(".", 1)[0]
    assert (await _status(gateway, f"{ours}.{rest}"))[0] == 401
    assert header != ours


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"exp": int(NOW.timestamp()) - 120},
        {"nbf": int(NOW.timestamp()) + 3600},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "not-yet-valid"],
)
async def test_refused_claims(gateway: Gateway, change: dict[str, Any]) -> None:
    assert (await _status(gateway, gateway.keys.sign(_claims(gateway, **change))))[0] == 401


async def test_issued_token_expires_with_time(gateway: Gateway) -> None:
    assert (await _status(gateway, gateway.token))[0] == 200
    gateway.clock.advance(gateway.settings.token_ttl + 60)
    assert (await _status(gateway, gateway.token))[0] == 401


async def test_a_client_without_the_read_scope_gets_nothing(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    token = gateway.keys.sign(_claims(gateway, scope="prefill:read"))
    q = (
        "query($ref: PersonRef!, $ctx: AccessContextInput!) "
        "{ person(ref: $ref, context: $ctx) { identity { birthName } } }"
    )
    response = await gateway.query(
        q, {"ref": {"identity": identity(persons[1])}, "ctx": CONTEXT}, token=token
    )
    body = response.json()
    assert body["data"]["person"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "person:read" in body["errors"][0]["message"]


async def test_wrong_client_secret(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-agency-app", "not-the-secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_jwks_is_published(gateway: Gateway) -> None:
    jwks = (await gateway.http.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [gateway.keys.current.kid]
    assert all("d" not in k for k in jwks["keys"])


async def test_a_client_over_its_rate_gets_rate_limited(gateway: Gateway) -> None:
    statuses = []
    for _ in range(gateway.settings.rate_burst + 5):
        response = await gateway.query(Q)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_in = error["extensions"]["retryIn"]
    assert isinstance(retry_in, int) and retry_in > 0  # whole seconds (API Particulier too)
    assert int(response.headers["retry-after"]) >= 1
    other = gateway.keys.sign(_claims(gateway, client_id="another", sub="another"))
    assert (await _status(gateway, other))[0] == 200  # buckets are per client


PERSON_BY_TOKEN = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) "
    "{ person(ref: $ref, context: $ctx) { identity { birthName } } }"
)
PREFILL_BY_TOKEN = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) "
    '{ prefill(ref: $ref, context: $ctx, form: "rsa") { form } }'
)


@pytest.mark.parametrize("query", [PERSON_BY_TOKEN, PREFILL_BY_TOKEN], ids=["person", "prefill"])
async def test_a_bad_france_connect_token_in_the_ref_is_unauthenticated(
    gateway: Gateway,
    persons: list[dict[str, Any]],
    query: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The caller's input, refused by the provider: a clear 'unauthenticated', no defect."""
    real = await gateway.citizen_token(persons[1]["index"])
    for token, message in (("bogus", "malformed"), ("B" * 43, "invalid"), (real, "expired")):
        if token == real:
            # The provider's answer expires with the token, on the provider's (real) clock.
            gateway.clock.now = datetime.now(UTC) + timedelta(days=1)
        caplog.clear()
        # A form is prefilled only under the purposes its definition names.
        context = CONTEXT if query == PERSON_BY_TOKEN else {**CONTEXT, "purpose": "rsa_instruction"}
        variables = {"ref": {"franceConnectToken": token}, "ctx": context}
        response = await gateway.query(
            query, variables, token=gateway.token_for("demo-agency-app", ALL_SCOPES)
        )
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
        assert message.lower() in body["errors"][0]["message"].lower()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


ALL_SCOPES = "person:read eligibility:read prefill:read prefill:write"
ELIGIBILITY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) "
    '{ eligibility(ref: $ref, context: $ctx, benefits: [RSA], month: "2025-06") { status } }'
)
SUBMIT = (
    "mutation($ref: PersonRef!, $ctx: AccessContextInput!) "
    '{ submitPrefill(ref: $ref, context: $ctx, form: "rsa", confirmations: []) '
    "{ submissionId } }"
)


@pytest.mark.parametrize(
    ("query", "needed"),
    [
        (ELIGIBILITY, "eligibility:read"),
        (PREFILL_BY_TOKEN, "prefill:read"),
        (SUBMIT, "prefill:write"),
    ],
    ids=["eligibility", "prefill", "submitPrefill"],
)
async def test_a_person_read_token_runs_no_other_operation(
    gateway: Gateway, persons: list[dict[str, Any]], query: str, needed: str
) -> None:
    variables = {"ref": {"identity": identity(persons[1])}, "ctx": CONTEXT}
    narrow = gateway.token_for("demo-agency-app", "person:read")
    body = (await gateway.query(query, variables, token=narrow)).json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert needed in body["errors"][0]["message"]
    # The refusal comes before the person is read: no access was recorded for it.
    auditor = gateway.token_for("demo-auditor")
    log = (await gateway.query("{ auditLog { entries { kind } } }", token=auditor)).json()
    assert [e for e in log["data"]["auditLog"]["entries"] if e["kind"] != "audit_query"] == []
