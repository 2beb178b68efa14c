"""The GraphQL endpoint's error boundary and scopes, driven over HTTP with stand-in services.

Every service stands in for the real one and fails the way the probe made them fail (an
exception whose text holds a database URL with its password), so what reaches the client is
the boundary's doing alone: typed codes, neutral messages, nothing of the exception's text.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from audit import AuditUnavailable
from connectors import FranceConnectToken, PivotIdentity
from eligibility import EngineUnavailable
from exchange import Caller, Citizen, Client
from exchange.catalogue import FIELDS
from gateway.graphql_http import GraphQLEndpoint
from gateway.ratelimit import MemoryRateLimiter, Rate
from policies import SHIPPED, load_catalogue
from runtime import Services
from schema import SchemaLimits, build_schema
from store import StoreUnavailable

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
LEAK = "postgresql://gateway:s3cr3t-pa55@db.internal:5432/unefois"
SCOPES = ("person:read", "eligibility:read", "prefill:read", "prefill:write")
REF = {"identity": {"birthName": "DUPONT", "givenNames": ["Jean"], "birthDate": "1980-01-01",
                    "sex": "M", "birthCountry": "99100", "birthPlace": "75056"}}  # fmt: skip
CTX = {"purpose": "rsa_instruction", "recipient": "13002526500013", "object": "dossier-1"}
ARGS = "$ref: PersonRef!, $ctx: AccessContextInput!"
PERSON_ARGS = "ref: $ref, context: $ctx"
WINDOW = 'from: "2025-06-01T00:00:00Z", to: "2025-07-01T00:00:00Z"'
GRANT = '{categories: ["identite"], until: "2026-01-01", client: "demo-form-builder"}'

# Each root field, with the smallest operation that reaches its service.
ROOTS: dict[str, str] = {
    "person": f"query({ARGS}) {{ person({PERSON_ARGS}) {{ accessId }} }}",
    "eligibility": f"query({ARGS}) {{ eligibility({PERSON_ARGS}, benefits: [RSA], "
    'month: "2025-06") { status } }',
    # The rules run through the person field: the same scopes as the root eligibility.
    "person.eligibility": f"query({ARGS}) {{ person({PERSON_ARGS}) {{ "
    'eligibility(benefits: [RSA], month: "2025-06") { status } } }',
    "prefill": f'query({ARGS}) {{ prefill({PERSON_ARGS}, form: "rsa") {{ form }} }}',
    "submitPrefill": f'mutation({ARGS}) {{ submitPrefill({PERSON_ARGS}, form: "rsa", '
    "confirmations: []) { submissionId } }",
    "auditLog": "{ auditLog { nextCursor } }",
    "auditStats": f"{{ auditStats({WINDOW}) {{ accesses {{ count }} }} }}",
    "auditAnomalies": f"{{ auditAnomalies({WINDOW}) {{ rule }} }}",
    "myAccessLog": "{ myAccessLog { nextCursor } }",
    "myConsents": "{ myConsents { id } }",
    "grantConsent": f"mutation {{ grantConsent(input: {GRANT}) {{ id }} }}",
    "revokeConsent": 'mutation { revokeConsent(id: "c-1") { id } }',
}
CITIZEN_ONLY = {"myAccessLog", "myConsents", "grantConsent", "revokeConsent"}
AUDITORS = {"auditLog", "auditStats", "auditAnomalies"}
# What each data operation needs on top of nothing: the person view it reads, and its own.
NEEDS = {
    "person": {"person:read"},
    "eligibility": {"person:read", "eligibility:read"},
    "person.eligibility": {"person:read", "eligibility:read"},
    "prefill": {"person:read", "prefill:read"},
    "submitPrefill": {"person:read", "prefill:write"},
}


class Stand:
    """Every service at once: each call is noted, then fails with ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            raise self.error

        return call


def _citizen() -> Citizen:
    identity = PivotIdentity(
        birth_name="DUPONT",
        given_names=("Jean",),
        birth_date=date(1980, 1, 1),
        sex="M",
        birth_country="99100",
        birth_place="75056",
    )
    return Citizen(identity=identity, token=FranceConnectToken("a" * 43), id="citizen:x")


def _client(scopes: frozenset[str]) -> Client:
    return Client("demo-agency-app", scopes, "social")


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema(SchemaLimits())


@pytest.fixture(scope="module")
def catalogue() -> Any:
    return load_catalogue(SHIPPED, known_fields=frozenset(FIELDS))


def _app(schema: Any, catalogue: Any, stand: Stand, caller: Caller) -> Starlette:
    service: Any = stand
    # Every service is the stand, but the catalogue: the real one, for the scope checks.
    parts = {f.name: service for f in dataclasses.fields(Services)} | {"catalogue": catalogue}
    services = Services(**parts)

    async def authenticate(request: Request) -> Caller:
        return caller

    endpoint = GraphQLEndpoint(
        schema,
        authenticate,
        lambda: NOW,
        ide=False,
        limiter=MemoryRateLimiter(),
        rate=Rate(1000.0, 1000),
    )
    app = Starlette(routes=[Route("/graphql", endpoint.handle, methods=["GET", "POST"])])
    app.state.services = services  # what the application's lifespan does
    return app


@pytest.fixture
def serve(schema: Any, catalogue: Any) -> Any:
    async def post(
        stand: Stand,
        caller: Caller,
        query: str,
        *,
        variables: dict[str, Any] | None = None,
        operation: str | None = None,
        accept: str = "application/json",
    ) -> httpx.Response:
        transport = httpx.ASGITransport(_app(schema, catalogue, stand, caller))
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation is not None:
            payload["operationName"] = operation
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            return await http.post("/graphql", json=payload, headers={"Accept": accept})

    return post


def _caller_for(root: str) -> Caller:
    return _citizen() if root in CITIZEN_ONLY else _client(frozenset(SCOPES))


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize("root", sorted(ROOTS))
async def test_an_unexpected_exception_is_internal_and_says_nothing(
    serve: Any, root: str, caplog: pytest.LogCaptureFixture
) -> None:
    stand = Stand(RuntimeError(f"could not connect to {LEAK}"))
    with caplog.at_level(logging.ERROR):
        response = await serve(
            stand, _caller_for(root), ROOTS[root], variables={"ref": REF, "ctx": CTX}
        )
    assert stand.calls, "the operation never reached its service"
    assert response.status_code == 200
    body = response.json()
    assert _codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "internal error"
    assert body["errors"][0]["path"] == [root.split(".")[0]]
    assert "s3cr3t" not in response.text and "db.internal" not in response.text
    # The defect is logged for the operator, with its stack.
    assert any(r.exc_info for r in caplog.records if r.levelno >= logging.ERROR)


@pytest.mark.parametrize(
    "error",
    [
        AuditUnavailable(f"audit database unreachable ({LEAK})"),
        StoreUnavailable(f"store unreachable ({LEAK})"),
        EngineUnavailable(f"rules pool closed ({LEAK})"),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("root", ["eligibility", "auditLog", "myConsents", "grantConsent"])
async def test_package_errors_of_the_operator_are_internal(
    serve: Any, root: str, error: Exception
) -> None:
    stand = Stand(error)
    response = await serve(
        stand, _caller_for(root), ROOTS[root], variables={"ref": REF, "ctx": CTX}
    )
    body = response.json()
    assert _codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "internal error"
    assert "s3cr3t" not in response.text


async def test_a_bad_month_is_the_callers_input(serve: Any) -> None:
    query = ROOTS["eligibility"].replace('"2025-06"', '"June"')
    stand = Stand(RuntimeError("unreachable"))
    body = (
        await serve(stand, _client(frozenset(SCOPES)), query, variables={"ref": REF, "ctx": CTX})
    ).json()
    assert _codes(body) == ["BAD_USER_INPUT"]
    assert "YYYY-MM" in body["errors"][0]["message"]
    assert stand.calls == []


async def test_two_operations_without_a_name_are_a_request_error(serve: Any) -> None:
    query = 'query A { __typename } mutation B { revokeConsent(id: "c-1") { id } }'
    stand = Stand(RuntimeError("unreachable"))
    response = await serve(stand, _citizen(), query)
    body = response.json()
    assert "data" not in body
    assert _codes(body) == ["BAD_USER_INPUT"]
    assert stand.calls == []
    named = (await serve(stand, _citizen(), query, operation="A")).json()
    assert named == {"data": {"__typename": "Query"}}


async def test_graphql_response_media_type_answers_request_errors_400(serve: Any) -> None:
    stand = Stand(RuntimeError("unreachable"))
    accept = "application/graphql-response+json"
    caller = _client(frozenset(SCOPES))
    bad = await serve(stand, caller, "{ __typename ", accept=accept)
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/graphql-response+json")
    good = await serve(stand, caller, "{ __typename }", accept=accept)
    assert good.status_code == 200
    assert good.headers["content-type"].startswith("application/graphql-response+json")
    # The legacy media type keeps 200 for every well-formed GraphQL response.
    assert (await serve(stand, caller, "{ __typename ")).status_code == 200


SCOPE_SETS = [frozenset({s}) for s in SCOPES] + [frozenset({"person:read", s}) for s in SCOPES[1:]]


@pytest.mark.parametrize("scopes", SCOPE_SETS, ids=lambda s: "+".join(sorted(s)))
@pytest.mark.parametrize("root", sorted(ROOTS))
async def test_scopes_per_root_field(serve: Any, root: str, scopes: frozenset[str]) -> None:
    stand = Stand(RuntimeError("reached"))
    response = await serve(stand, _client(scopes), ROOTS[root], variables={"ref": REF, "ctx": CTX})
    codes = _codes(response.json())
    if root in CITIZEN_ONLY:
        allowed = False  # a client never reaches a citizen's own journal or consents
    elif root in AUDITORS:
        allowed = True  # no audit scope is issued: the catalogue's audit purpose decides
    else:
        allowed = NEEDS[root] <= scopes
    if allowed:
        assert stand.calls and codes == ["INTERNAL"], codes
    else:
        assert not stand.calls and codes == ["FORBIDDEN"], codes
        message = response.json()["errors"][0]["message"]
        named = [s in message for s in NEEDS.get(root, set()) - scopes]
        # A nested field's scope is checked after its root's: the first refusal names its own.
        assert root in CITIZEN_ONLY or (any(named) if "." in root else all(named))


@pytest.mark.parametrize("root", sorted(NEEDS))
async def test_citizens_are_not_held_to_client_scopes(serve: Any, root: str) -> None:
    stand = Stand(RuntimeError("reached"))
    ref = {"franceConnect": True}
    response = await serve(stand, _citizen(), ROOTS[root], variables={"ref": ref, "ctx": CTX})
    assert stand.calls, response.text
