"""GraphQL over HTTP: POST only, JSON in and out, every error typed.

A thin endpoint of our own rather than strawberry's view: it keeps the hot path short
(orjson, no multipart, no subscriptions) and lets every refusal carry ``extensions.code``.
With introspection on, a browser's GET is answered with GraphiQL, shipped in the package
(no CDN) and keeping nothing in the browser: no storage, nothing in the address bar.
"""

from __future__ import annotations

import calendar
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from importlib.resources import files
from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from exchange import Caller
from gateway.documents import DOCUMENT_ID, DocumentRefused, TrustedDocuments
from gateway.oauth import TOKEN_PATH
from gateway.observability import ANONYMOUS, GraphQLOutcome
from gateway.ratelimit import Rate, RateLimiter, retry_after_header
from gateway.state import services_of
from gateway.web.render import render
from gateway.web.security import policy
from schema import ACCESS_HEADERS, RequestContext, format_error, planned_execution

Authenticate = Callable[[Request], Awaitable[Caller]]
Clock = Callable[[], datetime]
# One request's operation label, outcome, error codes and seconds (gateway.observability).
ObserveGraphQL = Callable[[str, GraphQLOutcome, Sequence[str], float], None]
Served = tuple[Response, str, GraphQLOutcome, list[str]]


_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
JSON = "application/json"
# The GraphQL over HTTP specification's own media type: with it, a request error (nothing
# executed) answers 4xx instead of 200, so a client tells it apart without reading the body.
GRAPHQL_RESPONSE = "application/graphql-response+json"


def response_media_type(accept: str) -> str:
    """The media type of the answer: the specification's when the client asks for it before
    (or without) plain JSON; plain JSON otherwise, the default of clients that say nothing."""
    if GRAPHQL_RESPONSE not in accept:
        return JSON
    for part in accept.split(","):
        media = part.partition(";")[0].strip().lower()
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return JSON


_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
# The first operation's name, past ignored tokens (blanks, commas, comments): what a client
# means when it sends one named operation without operationName. No parse on the hot path.
_FIRST_NAMED = re.compile(
    r"(?:[\s,\ufeff]|#[^\n\r]*)*(?:query|mutation|subscription)\s+([_A-Za-z]\w*)"
)


def operation_label(query: str, operation_name: str | None) -> str:
    """The metrics label of a request: ``operationName``, else the document's first operation's
    name; ``anonymous`` when there is none or it is not 1 to 64 of [A-Za-z0-9_]."""
    name = operation_name
    if name is None:
        found = _FIRST_NAMED.match(query)
        name = found.group(1) if found else None
    return name if name is not None and _NAME.fullmatch(name) else ANONYMOUS


# GraphiQL's stylesheet embeds its fonts as data: URIs; nothing else of the pages' policy is
# loosened (the bundle needs no eval; the one <style> it would add, a scroll lock under its
# dialogs, is refused without harm).
IDE_POLICY = policy().replace("font-src 'self';", "font-src 'self' data:;")


def previous_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _shift(value: str, months: int) -> str:
    """A ``YYYY-MM`` month or ``YYYY-MM-DD`` day moved by ``months``, the day kept in range."""
    year, month = int(value[:4]), int(value[5:7])
    number = year * 12 + month - 1 + months
    year, month = number // 12, number % 12 + 1
    if len(value) == 7:
        return f"{year:04d}-{month:02d}"
    day = min(int(value[8:10]), calendar.monthrange(year, month)[1])
    return f"{year:04d}-{month:02d}-{day:02d}"


def _shifted(value: Any, months: int) -> Any:
    if isinstance(value, dict):
        return {
            key: _shift(item, months) if key in ("birthDate", "month") else _shifted(item, months)
            for key, item in value.items()
        }
    return value


def ide_examples(sandbox_month: str) -> dict[str, Any]:
    """GraphiQL's example tabs for a sandbox describing ``sandbox_month``.

    The examples read a scenario person of the sandbox, whose dates the sandbox moves with the
    month it describes (its scenarios are written for one month): birth dates and the month
    evaluated move by as many months here.
    """
    source = files("gateway").joinpath("web/templates/graphiql-examples.json")
    examples: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    written = examples.pop("sandboxMonth")
    months = (int(sandbox_month[:4]) - int(written[:4])) * 12 + (
        int(sandbox_month[5:7]) - int(written[5:7])
    )
    for tab in examples["tabs"]:
        tab["variables"] = json.dumps(_shifted(tab["variables"], months), indent=2)
        tab["headers"] = examples["headers"]
    return examples


class GraphQLRequestError(Exception):
    """The HTTP request itself is unusable (before any GraphQL processing)."""

    def __init__(self, status: int, code: str, message: str, *, challenge: str = "Bearer") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.challenge = challenge  # RFC 6750 §3, for a refused token


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    media_type: str = JSON,
) -> Response:
    error = {"message": message, "extensions": {"code": code, **(extensions or {})}}
    body = orjson.dumps({"errors": [error]})
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def parse_body(raw: bytes) -> tuple[str | None, dict[str, Any] | None, str | None, str | None]:
    """``query``, ``variables``, ``operationName`` and ``documentId``: exactly one of
    ``query`` and ``documentId`` (GraphQL over HTTP, Appendix A: Persisted Documents)."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GraphQLRequestError(400, "BAD_USER_INPUT", "the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise GraphQLRequestError(
            400, "BAD_USER_INPUT", "the body must be one JSON object (no batches)"
        )
    query = payload.get("query")
    variables = payload.get("variables")
    operation = payload.get("operationName")
    document_id = payload.get("documentId")
    if document_id is not None:
        if query is not None:
            raise GraphQLRequestError(
                400, "BAD_USER_INPUT", "send 'query' or 'documentId', not both"
            )
        if not isinstance(document_id, str) or not DOCUMENT_ID.fullmatch(document_id):
            raise GraphQLRequestError(
                400, "BAD_USER_INPUT", "'documentId' must be sha256: and 64 lower-case hex digits"
            )
    elif not isinstance(query, str) or not query.strip():
        raise GraphQLRequestError(400, "BAD_USER_INPUT", "'query' must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise GraphQLRequestError(400, "BAD_USER_INPUT", "'variables' must be an object")
    if operation is not None and not isinstance(operation, str):
        raise GraphQLRequestError(400, "BAD_USER_INPUT", "'operationName' must be a string")
    return query, variables, operation, document_id


class GraphQLEndpoint:
    def __init__(
        self,
        schema: strawberry.Schema,
        authenticate: Authenticate,
        clock: Clock,
        ide: bool,
        limiter: RateLimiter,
        rate: Rate,
        observe: ObserveGraphQL | None = None,
        documents: TrustedDocuments | None = None,
    ) -> None:
        self._documents = documents or TrustedDocuments("off")
        self._observe = observe
        self._limiter = limiter
        self._rate = rate
        self._execution = planned_execution(schema)
        self._authenticate = authenticate
        self._clock = clock
        self._ide = ide

    def _ide_page(self, request: Request) -> Response:
        # `unefois run` starts its sandbox at the previous month: the examples follow it.
        examples = ide_examples(previous_month(self._clock().date()))
        context = {
            "endpoint": request.url.path,
            "token_url": str(request.base_url.replace(path=TOKEN_PATH)),
            "examples": json.dumps(examples, ensure_ascii=False),
        }
        headers = {"Content-Security-Policy": IDE_POLICY}
        return render(request, "graphiql.html", context, headers=headers)

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if self._ide and "text/html" in request.headers.get("accept", ""):
                return self._ide_page(request)
            return error_response(
                405, "BAD_USER_INPUT", "queries are sent with POST", headers={"Allow": "POST"}
            )
        start = time.perf_counter()
        response, label, outcome, codes = await self._serve(request)
        if self._observe is not None:
            self._observe(label, outcome, codes, time.perf_counter() - start)
        return response

    async def _serve(self, request: Request) -> Served:
        try:
            query, variables, operation, document_id = parse_body(await request.body())
        except GraphQLRequestError as exc:
            return error_response(exc.status, exc.code, exc.message), ANONYMOUS, "error", [exc.code]
        # A document named by id has its label once resolved (its caller known).
        label = ANONYMOUS if query is None else operation_label(query, operation)
        try:
            caller = await self._authenticate(request)
        except GraphQLRequestError as exc:
            refused = error_response(
                exc.status, exc.code, exc.message, headers={"WWW-Authenticate": exc.challenge}
            )
            return refused, label, "error", [exc.code]
        wait = await self._limiter.take(caller.id, self._rate)
        if wait is not None:
            limited = error_response(
                429,
                "RATE_LIMITED",
                "too many requests for this client; retry later",
                extensions={"retryIn": math.ceil(wait)},  # whole seconds, never early
                headers={"Retry-After": retry_after_header(wait)},
            )
            return limited, label, "error", ["RATE_LIMITED"]
        if document_id is not None or self._documents.required:
            try:
                query = await self._documents.resolve(request, caller, query, document_id)
            except DocumentRefused as exc:
                # A request error, as a document failing validation: 4xx under the
                # specification's media type, 200 under plain JSON.
                media = response_media_type(request.headers.get("accept", ""))
                status = exc.status if media == GRAPHQL_RESPONSE or exc.status >= 500 else 200
                refused = error_response(status, exc.code, exc.message, media_type=media)
                return refused, label, "error", [exc.code]
            label = operation_label(query, operation)
        assert query is not None
        now = self._clock()
        services = services_of(request)
        if services.eligibility is None:
            raise RuntimeError("the application opens its services with the rules' pool")
        context = RequestContext(
            exchange=services.exchange,
            consents=services.consents,
            oversight=services.oversight,
            eligibility=services.eligibility,
            declarations=services.declarations,
            catalogue=services.catalogue,
            caller=caller,
            now=now,
            on=now.date(),
            procedures=services.procedures,
            access_headers={h: request.headers[h] for h in ACCESS_HEADERS if h in request.headers},
        )
        try:
            result = await self._execution.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation,
                allowed_operation_types=_OPERATIONS,
            )
        except InvalidOperationTypeError:
            refused = error_response(400, "BAD_USER_INPUT", "subscriptions are not served")
            return refused, label, "error", ["BAD_USER_INPUT"]
        except CannotGetOperationTypeError:
            refused = error_response(400, "BAD_USER_INPUT", "operationName names no operation")
            return refused, label, "error", ["BAD_USER_INPUT"]
        body: dict[str, Any] = {}
        codes: list[str] = []
        if result.errors:
            errors = body["errors"] = [format_error(e) for e in result.errors]
            codes = [str((e.get("extensions") or {}).get("code", "INTERNAL")) for e in errors]
        # A request error has no data entry at all; an execution error nulls it at most.
        executed = not result.errors or any(e.path is not None for e in result.errors)
        if executed:
            body["data"] = result.data
        media = response_media_type(request.headers.get("accept", ""))
        status = 400 if media == GRAPHQL_RESPONSE and not executed else 200
        outcome: GraphQLOutcome = "ok" if not codes else "partial" if executed else "error"
        answer = Response(orjson.dumps(body), status_code=status, media_type=media)
        return answer, label, outcome, codes
