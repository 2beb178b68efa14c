"""Logs, metrics and request ids.

Logs are one JSON object per line with a fixed set of fields. Extra fields pass only if
whitelisted: the gateway handles personal data, and a log line is a copy of whatever it
holds that escapes the audit log's controls. So no names, identifiers, query variables,
URLs with query strings or tokens — only ids of clients, routes, agencies and outcomes.

Metrics live in a ``CollectorRegistry`` per ``Metrics`` instance rather than in the global
one, so that tests (and a process hosting several apps) get independent counters.

With ``UNEFOIS_SERVER_TIMING`` on, every answer says where its time went in a
``Server-Timing`` header (W3C Server Timing): the slowest agency call it waited for and the
gateway's time to its first byte, so that what the gateway adds to the agencies can be read
request by request (browsers' developer tools show it; so can a load balancer's log).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Literal, Protocol

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# Accept a caller's id only if it cannot forge log lines or blow up label storage.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# The only extra fields a log record may carry into the output.
LOG_FIELDS = frozenset(
    {
        "client_id",
        "route",
        "method",
        "status",
        "duration_ms",
        "agency",
        "outcome",
        "reason",
        "scope",
        "error_code",
        "circuit",
        "retry_in",
    }
)
# Loggers that write URLs (with query strings holding identities) or tokens at INFO.
_QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "authlib")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
SERVER_TIMING_HEADER = "server-timing"


@dataclass
class _Timing:
    """The agency calls of one request, for its ``Server-Timing`` header."""

    slowest: float = 0.0  # seconds
    calls: int = 0


_timing: ContextVar[_Timing | None] = ContextVar("timing", default=None)


def note_upstream(seconds: float) -> None:
    """Counts one agency call (one field group asked of one agency, from the cache or not)
    in the current request's ``Server-Timing``, when the header is on."""
    timing = _timing.get()
    if timing is not None:
        timing.calls += 1
        if seconds > timing.slowest:
            timing.slowest = seconds


def server_timing(timing: _Timing, elapsed: float) -> str:
    """The header's value: the slowest agency call, and the time to the answer's first
    byte (durations in milliseconds, as the specification writes them)."""
    parts = []
    if timing.calls:
        parts.append(
            f'agencies;dur={timing.slowest * 1000:.1f};desc="slowest of {timing.calls} calls"'
        )
    parts.append(f"gateway;dur={elapsed * 1000:.1f}")
    return ", ".join(parts)


CircuitState = Literal["closed", "half_open", "open"]
_CIRCUIT_VALUES: dict[str, int] = {"closed": 0, "half_open": 1, "open": 2}

# GraphQL labels come from the request: bounded so that no client can grow the series.
ANONYMOUS = "anonymous"
OTHER = "other"
MAX_OPERATION_NAMES = 200
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
GraphQLOutcome = Literal["ok", "partial", "error"]


class RedisState(Protocol):
    """What one user of Redis knows of it (see ``connectors.redis_health.RedisHealth``)."""

    @property
    def role(self) -> str: ...
    @property
    def up(self) -> bool: ...
    @property
    def errors(self) -> int: ...
    @property
    def timeouts(self) -> int: ...


class _RedisCollector:
    """Reads the Redis users' own counters when scraped: the request path only bumps
    integers, never a Prometheus child."""

    def __init__(self) -> None:
        self.states: list[RedisState] = []

    def collect(self) -> Any:
        up = GaugeMetricFamily(
            "unefois_redis_up",
            "Whether Redis answers, per role (cache, ratelimit): 1 up, 0 skipped until a probe.",
            labels=["role"],
        )
        errors = CounterMetricFamily(
            "unefois_redis_errors",
            "Failed Redis calls per role and kind (timeout, error).",
            labels=["role", "kind"],
        )
        for state in self.states:
            up.add_metric([state.role], 1.0 if state.up else 0.0)
            errors.add_metric([state.role, "timeout"], state.timeouts)
            errors.add_metric([state.role, "error"], state.errors - state.timeouts)
        yield up
        yield errors


class _CircuitCollector:
    """Each agency's circuit state, read when scraped (not only when ``/readyz`` is asked)."""

    def __init__(self) -> None:
        self.source: Callable[[], Mapping[str, str]] | None = None
        self.fixed: dict[str, str] = {}

    def collect(self) -> Any:
        gauge = GaugeMetricFamily(
            "unefois_circuit_state",
            "Circuit breaker state per agency: 0 closed, 1 half-open, 2 open.",
            labels=["agency"],
        )
        states = dict(self.fixed)
        if self.source is not None:
            states.update(self.source())
        for agency, state in sorted(states.items()):
            gauge.add_metric([agency], float(_CIRCUIT_VALUES.get(state, 2)))
        yield gauge


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id.get()
        if request_id is not None:
            out["request_id"] = request_id
        fields = record.__dict__
        for name in LOG_FIELDS & fields.keys():
            value = fields[name]
            if value is None or isinstance(value, str | int | float | bool):
                out[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type and where, not the message nor the source lines: exception messages
            # often quote the input that caused them.
            out["exception"] = record.exc_info[0].__name__
            out["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])
            ]
        return orjson.dumps(out).decode()


def configure_logging(level: str, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


class Metrics:
    """The gateway's Prometheus metrics, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "unefois_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "unefois_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ["route", "method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "unefois_upstream_calls",
            "Calls to agencies by agency and outcome.",
            ["agency", "outcome"],
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "unefois_upstream_call_duration_seconds",
            "Duration of calls to agencies by agency and outcome.",
            ["agency", "outcome"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._upstream_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.graphql_operations = Counter(
            "unefois_graphql_operations",
            "GraphQL operations by operation name (the document's, at most "
            f"{MAX_OPERATION_NAMES} distinct, then '{OTHER}'; '{ANONYMOUS}' without one) and "
            "outcome (ok; partial: executed with errors; error: nothing executed).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.graphql_errors = Counter(
            "unefois_graphql_errors",
            "Errors in GraphQL answers by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.graphql_seconds = Histogram(
            "unefois_graphql_operation_duration_seconds",
            "GraphQL operation duration (authentication to answer) by operation name and outcome.",
            ["operation", "outcome"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self._operation_names: set[str] = set()
        self._graphql_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.ready_checks = Gauge(
            "unefois_readiness_check",
            "Result of each readiness check at the last /readyz: 1 passed, 0 failed.",
            ["check"],
            registry=self.registry,
        )
        self._circuits = _CircuitCollector()
        self.registry.register(self._circuits)
        self._redis = _RedisCollector()
        self.registry.register(self._redis)

    def watch_redis(self, state: RedisState) -> None:
        """Expose ``state`` as ``unefois_redis_up`` and ``unefois_redis_errors_total``."""
        self._redis.states.append(state)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(route, method, str(status)),
                self.request_seconds.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, agency: str, outcome: str, seconds: float) -> None:
        # Looking labelled children up costs more than observing: about a dozen per request.
        key = (agency, outcome)
        children = self._upstream_children.get(key)
        if children is None:
            children = self._upstream_children[key] = (
                self.upstream_calls.labels(agency, outcome),
                self.upstream_seconds.labels(agency, outcome),
            )
        children[0].inc()
        children[1].observe(seconds)

    def set_circuit(self, agency: str, state: CircuitState) -> None:
        self._circuits.fixed[agency] = state

    def watch_circuits(self, source: Callable[[], Mapping[str, str]]) -> None:
        """Expose ``source()`` (agency → circuit state) as ``unefois_circuit_state``."""
        self._circuits.source = source

    def set_ready_check(self, check: str, passed: bool) -> None:
        self.ready_checks.labels(check).set(1.0 if passed else 0.0)

    def _operation_label(self, name: str) -> str:
        if name in self._operation_names:
            return name
        if name == ANONYMOUS or len(self._operation_names) >= MAX_OPERATION_NAMES:
            return ANONYMOUS if name == ANONYMOUS else OTHER
        self._operation_names.add(name)
        return name

    def observe_graphql(
        self, operation: str, outcome: GraphQLOutcome, codes: Iterable[str], seconds: float
    ) -> None:
        """One GraphQL request: ``operation`` is already a safe name (see
        ``gateway.graphql_http.operation_label``); past the cap it counts as ``other``."""
        label = self._operation_label(operation)
        key = (label, outcome)
        children = self._graphql_children.get(key)
        if children is None:
            children = self._graphql_children[key] = (
                self.graphql_operations.labels(label, outcome),
                self.graphql_seconds.labels(label, outcome),
            )
        children[0].inc()
        children[1].observe(seconds)
        for code in codes:
            self.graphql_errors.labels(code if _ERROR_CODE.fullmatch(code) else OTHER).inc()

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint serving ``metrics`` in the Prometheus text format."""

    async def endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _route_label(scope: Scope) -> str:
    # The route template, never the raw path: raw paths carry ids and would make one
    # time series per person.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Assigns the request id, echoes it in ``X-Request-Id``, records metrics and logs one
    line per request. Pure ASGI: it sits on every request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        timer: Callable[[], float] = time.perf_counter,
        logger: logging.Logger | None = None,
        server_timing: bool = False,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.timer = timer
        self.log = logger or logging.getLogger("gateway.access")
        self.server_timing = server_timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _REQUEST_ID.match(candidate) else None
                break
        request_id = request_id or uuid.uuid4().hex
        token = _request_id.set(request_id)
        timing = _Timing() if self.server_timing else None
        timing_token = _timing.set(timing)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append(REQUEST_ID_HEADER, request_id)
                if timing is not None:
                    value = server_timing(timing, self.timer() - start)
                    headers.append(SERVER_TIMING_HEADER, value)
            await send(message)

        start = self.timer()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = self.timer() - start
            route = _route_label(scope)
            method = scope["method"]
            self.metrics.observe_request(route, method, status, elapsed)
            self.log.info(
                "request",
                extra={
                    "route": route,
                    "method": method,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )
            _timing.reset(timing_token)
            _request_id.reset(token)
