"""A département's RSA case management as an Apollo Federation 2 subgraph (strawberry).

It keeps cases in memory, filed under the person's handle: it cannot compute handles, its
clients get them from the gateway (``person(ref: {identity}, context) { handle }``). Its
``Person`` is the gateway's entity, keyed by the same handle, to which it adds ``cases``; a
router composing both answers ``case(reference) { person { identity benefits … } }`` by
asking the gateway's ``_entities`` for the rest.

``POST /graphql`` takes the gateway's own access tokens, forwarded by the router: each is
verified against the gateway's published keys (``<gateway>/.well-known/jwks.json``, read at
the first request and again when a token names a key it does not hold) and its expiry. A
missing or refused token answers 401 with a typed error, as the gateway does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import httpx
import orjson
import strawberry
from graphql import GraphQLError
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.protocol import bearer

JWKS_PATH = "/.well-known/jwks.json"
# The gateway signs with one of these (its UNEFOIS_SIGNING_ALG).
_REGISTRY = JWSRegistry(algorithms=["Ed25519", "ES256"])
Clock = Callable[[], float]


@strawberry.enum(description="Where a case stands.")
class CaseStatus(Enum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    CLOSED = "closed"


@dataclass
class _Case:
    reference: str
    handle: str
    opened_on: date
    status: CaseStatus


class CaseBook:
    """The cases, by reference and by handle; shared by the server's requests and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cases: dict[str, _Case] = {}

    def open(self, case: _Case) -> _Case:
        with self._lock:
            if case.reference in self._cases:
                raise _error(f"a case {case.reference} exists already", "BAD_USER_INPUT")
            self._cases[case.reference] = case
            return case

    def get(self, reference: str) -> _Case | None:
        with self._lock:
            return self._cases.get(reference)

    def of(self, handle: str | None = None) -> list[_Case]:
        with self._lock:
            return [c for c in self._cases.values() if handle is None or c.handle == handle]


@dataclass(frozen=True)
class _Context:
    book: CaseBook
    today: date


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


@strawberry.federation.type(keys=["handle"], description="A person, by the gateway's handle.")
class Person:
    handle: str

    @strawberry.field(description="This person's cases here, oldest first.")
    def cases(self, info: strawberry.Info[_Context, None]) -> list[Case]:
        return [_face(c) for c in info.context.book.of(self.handle)]

    @classmethod
    def resolve_reference(cls, handle: str) -> Person:
        return cls(handle=handle)


@strawberry.type(description="An RSA case of the département.")
class Case:
    reference: str
    opened_on: date
    status: CaseStatus
    handle: strawberry.Private[str]

    @strawberry.field(description="Whom the case is about (the gateway tells the rest).")
    def person(self) -> Person:
        return Person(handle=self.handle)


def _face(case: _Case) -> Case:
    return Case(
        reference=case.reference,
        opened_on=case.opened_on,
        status=case.status,
        handle=case.handle,
    )


@strawberry.type
class Query:
    @strawberry.field(description="One case by its reference, or null.")
    def case(self, info: strawberry.Info[_Context, None], reference: str) -> Case | None:
        found = info.context.book.get(reference)
        return None if found is None else _face(found)

    @strawberry.field(description="Every case, oldest first.")
    def cases(self, info: strawberry.Info[_Context, None]) -> list[Case]:
        return [_face(c) for c in info.context.book.of()]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Open a case for the person of a gateway handle.")
    def open_case(
        self,
        info: strawberry.Info[_Context, None],
        handle: str,
        reference: str,
        opened_on: date | None = None,
        status: CaseStatus = CaseStatus.OPEN,
    ) -> Case:
        if not handle.strip() or not reference.strip() or len(reference) > 50:
            raise _error("give a handle and a reference of 1 to 50 characters", "BAD_USER_INPUT")
        case = _Case(reference, handle, opened_on or info.context.today, status)
        return _face(info.context.book.open(case))


# Federation 2.9: the newest version the composition tools in use know.
SCHEMA = strawberry.federation.Schema(query=Query, mutation=Mutation, federation_version="2.9")


class _Keys:
    """The gateway's public keys, read when first needed and when a token names another."""

    def __init__(self, jwks_url: str, transport: httpx.AsyncBaseTransport | None) -> None:
        self._url = jwks_url
        self._transport = transport
        self._keys: KeySet | None = None

    async def verify(self, token: str, now: float) -> None:
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError):
            raise _Refused("malformed token") from None
        if self._keys is None or not any(k.kid == header.get("kid") for k in self._keys.keys):
            self._keys = await self._fetch()
        try:
            claims = jwt.decode(token, self._keys, registry=_REGISTRY).claims
        except (JoseError, ValueError):
            raise _Refused("token refused") from None
        expiry = claims.get("exp")
        if not isinstance(expiry, int | float) or expiry <= now:
            raise _Refused("token expired")

    async def _fetch(self) -> KeySet:
        try:
            async with httpx.AsyncClient(timeout=5.0, transport=self._transport) as http:
                answer = await http.get(self._url)
                answer.raise_for_status()
                return KeySet.import_key_set(answer.json())
        except (httpx.HTTPError, ValueError, JoseError):
            raise _Refused("the gateway's keys cannot be read") from None


class _Refused(Exception):
    pass


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _refusal(status: int, code: str, message: str) -> Response:
    return _answer({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def build_app(
    gateway_url: str,
    clock: Clock = time.time,
    book: CaseBook | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The subgraph at ``/graphql``, trusting the tokens of the gateway at ``gateway_url``
    (``transport``: how its keys are fetched, for tests; the network otherwise)."""
    keys = _Keys(gateway_url.rstrip("/") + JWKS_PATH, transport)
    cases = book or CaseBook()

    async def graphql(request: Request) -> Response:
        token = bearer(request.headers.get("authorization"))
        if token is None:
            return _refusal(401, "UNAUTHENTICATED", "a bearer token of the gateway is needed")
        try:
            await keys.verify(token, clock())
        except _Refused as refused:
            return _refusal(401, "UNAUTHENTICATED", str(refused))
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _refusal(400, "BAD_USER_INPUT", "the body is not valid JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _refusal(400, "BAD_USER_INPUT", "'query' must be a string")
        today = datetime.fromtimestamp(clock(), UTC).date()
        result = await SCHEMA.execute(
            payload["query"],
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
            context_value=_Context(cases, today),
        )
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [_typed(e) for e in result.errors]
        # A request error (no path: nothing executed) has no data entry.
        if not result.errors or any(e.path is not None for e in result.errors):
            body["data"] = result.data
        return _answer(body)

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    app.state.cases = cases
    return app


def _typed(error: GraphQLError) -> dict[str, Any]:
    """Every error typed: ours carry their code; one without happened before execution (the
    request's fault) or is a defect, whose text is not shown."""
    code = (error.extensions or {}).get("code")
    formatted = dict(error.formatted)
    if code is None and error.path is not None:
        code, formatted["message"] = "INTERNAL", "internal error"
    formatted["extensions"] = {"code": code or "BAD_USER_INPUT"}
    return formatted
