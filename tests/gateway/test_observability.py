import io
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.redis_health import RedisHealth
from gateway.graphql_http import operation_label
from gateway.observability import (
    MAX_OPERATION_NAMES,
    JsonFormatter,
    Metrics,
    RequestContextMiddleware,
    configure_logging,
    current_request_id,
    metrics_endpoint,
    note_upstream,
)
from runtime.settings import load
from tests.gateway.test_health import LOOKUP, VARIABLES, dead_agencies, running


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("INFO", stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def _app(metrics: Metrics) -> Starlette:
    async def person(request: Request) -> Response:
        logging.getLogger("gateway.test").info(
            "looked up",
            extra={
                "client_id": "caf-web",
                "agency": "dgfip",
                "nir": "1 84 12 75 123 456 78",
                "birth_name": "DUPONT",
                "variables": {"ref": "x"},
                "access_token": "eyJ.secret.token",
            },
        )
        return JSONResponse({"request_id": current_request_id()})

    async def boom(request: Request) -> Response:
        raise RuntimeError("failure about DUPONT Jean")

    routes = [
        Route("/persons/{ref}", person),
        Route("/boom", boom),
        Route("/metrics", metrics_endpoint(metrics)),
    ]
    return Starlette(
        routes=routes, middleware=[Middleware(RequestContextMiddleware, metrics=metrics)]
    )


async def _client(metrics: Metrics) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(_app(metrics), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://gw.test")


async def test_request_id_assigned_and_propagated(log_stream: io.StringIO) -> None:
    async with await _client(Metrics()) as http:
        fresh = await http.get("/persons/abc")
        given = await http.get("/persons/abc", headers={"x-request-id": "lb-42.a"})
        forged = await http.get("/persons/abc", headers={"x-request-id": 'x"\n{"level":"X"}'})
    assert len(fresh.headers["x-request-id"]) == 32
    assert fresh.json()["request_id"] == fresh.headers["x-request-id"]
    assert given.headers["x-request-id"] == "lb-42.a"
    assert given.json()["request_id"] == "lb-42.a"
    assert forged.headers["x-request-id"] not in ('x"\n{"level":"X"}', "")


async def test_logs_carry_whitelisted_fields_only(log_stream: io.StringIO) -> None:
    async with await _client(Metrics()) as http:
        response = await http.get("/persons/DUPONT?birthDate=1984-12-01")
    lines = _lines(log_stream)
    looked_up = next(line for line in lines if line["message"] == "looked up")
    assert looked_up["client_id"] == "caf-web"
    assert looked_up["agency"] == "dgfip"
    assert looked_up["request_id"] == response.headers["x-request-id"]
    assert set(looked_up) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "client_id",
        "agency",
    }
    access = next(line for line in lines if line["logger"] == "gateway.access")
    assert access["route"] == "/persons/{ref}"
    assert access["status"] == 200
    text = log_stream.getvalue()
    for personal in ("DUPONT", "1984-12-01", "75 123", "eyJ", "birth"):
        assert personal not in text


async def test_exception_logged_without_its_message(log_stream: io.StringIO) -> None:
    logger = logging.getLogger("gateway.test")
    try:
        raise ValueError("no such person DUPONT")
    except ValueError:
        logger.exception("lookup failed")
    (line,) = _lines(log_stream)
    assert line["exception"] == "ValueError"
    assert "DUPONT" not in orjson.dumps(line).decode()


def test_noisy_loggers_quieted(log_stream: io.StringIO) -> None:
    # httpx logs full URLs, query strings (identities) included, at INFO.
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("uvicorn.access").isEnabledFor(logging.INFO)


def test_formatter_output_is_one_json_line() -> None:
    record = logging.LogRecord("gateway", logging.WARNING, __file__, 1, "a\nb %s", ("c",), None)
    out = JsonFormatter().format(record)
    assert "\n" not in out
    assert orjson.loads(out)["message"] == "a\nb c"


async def test_metrics_by_route_template(log_stream: io.StringIO) -> None:
    metrics = Metrics()
    async with await _client(metrics) as http:
        await http.get("/persons/a")
        await http.get("/persons/b")
        await http.get("/nowhere/123")
        failed = await http.get("/boom")
        metrics.observe_upstream("dgfip", "ok", 0.012)
        metrics.observe_upstream("dgfip", "timeout", 2.0)
        metrics.set_circuit("dgfip", "open")
        exposed = await http.get("/metrics")
    assert failed.status_code == 500
    text = exposed.text
    assert exposed.headers["content-type"].startswith("text/plain")
    labels = 'method="GET",route="/persons/{ref}",status="200"'
    assert f"unefois_http_requests_total{{{labels}}} 2.0" in text
    assert 'route="unmatched",status="404"' in text
    assert 'route="/boom",status="500"' in text
    assert 'unefois_upstream_calls_total{agency="dgfip",outcome="timeout"} 1.0' in text
    assert 'unefois_circuit_state{agency="dgfip"} 2.0' in text
    assert "/persons/a" not in text


def test_metrics_instances_are_independent() -> None:
    first, second = Metrics(), Metrics()
    first.observe_request("/graphql", "POST", 200, 0.01)
    assert b'route="/graphql"' in first.render()
    assert b'route="/graphql"' not in second.render()


def test_redis_health_per_role_read_at_scrape_time() -> None:
    cache = RedisHealth("cache", backoff=5.0, clock=lambda: 0.0)
    limiter = RedisHealth("ratelimit", backoff=5.0, clock=lambda: 0.0)
    metrics = Metrics()
    metrics.watch_redis(cache)
    metrics.watch_redis(limiter)
    cache.failed(TimeoutError())
    cache.failed(ConnectionRefusedError())
    text = metrics.render().decode()
    assert 'unefois_redis_up{role="cache"} 0.0' in text
    assert 'unefois_redis_up{role="ratelimit"} 1.0' in text
    assert 'unefois_redis_errors_total{kind="timeout",role="cache"} 1.0' in text
    assert 'unefois_redis_errors_total{kind="error",role="cache"} 1.0' in text
    assert 'unefois_redis_errors_total{kind="timeout",role="ratelimit"} 0.0' in text


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """``name``'s samples (``..._total``, ``..._count``) keyed by their sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def test_graphql_operations_errors_and_durations(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), **dead_agencies()})
    async with running(settings) as gateway:
        bearer = {"Authorization": f"Bearer {await gateway.token()}"}

        async def post(body: dict[str, object], headers: dict[str, str] = bearer) -> None:
            await gateway.http.post("/graphql", json=body, headers=headers)

        for _ in range(2):
            await post({"query": "query Hello { __typename }"})
        await post({"query": "# a comment\n{ __typename }"})
        await post({"query": "query " + "X" * 65 + " { __typename }"})  # too long a name
        await post({"query": LOOKUP, "variables": VARIABLES})  # the agency is down: typed
        await post({"query": "query Hello { __typename }"}, headers={})  # no token
        await post({"query": "query Broken { nothing }"})  # not valid against the schema
        await post({"query": "{ a: __typename } { b: __typename }"})  # no operationName
        scraped = (await gateway.http.get("/metrics")).text

    operations = _samples(scraped, "unefois_graphql_operations_total")
    assert operations == {
        (("operation", "Hello"), ("outcome", "ok")): 2.0,
        (("operation", "anonymous"), ("outcome", "ok")): 2.0,
        (("operation", "Lookup"), ("outcome", "partial")): 1.0,
        (("operation", "Hello"), ("outcome", "error")): 1.0,
        (("operation", "Broken"), ("outcome", "error")): 1.0,
        (("operation", "anonymous"), ("outcome", "error")): 1.0,
    }
    durations = _samples(scraped, "unefois_graphql_operation_duration_seconds_count")
    assert durations == operations
    errors = _samples(scraped, "unefois_graphql_errors_total")
    assert errors[(("code", "UPSTREAM_UNAVAILABLE"),)] == 1.0
    assert errors[(("code", "UNAUTHENTICATED"),)] == 1.0
    # Each error of an answer counts: one for the unknown field, three for the two anonymous
    # operations (each refused, and no operationName to choose between them).
    assert errors[(("code", "BAD_USER_INPUT"),)] == 4.0
    assert sum(errors.values()) == 6.0
    assert "MARTIN" not in scraped and "Camille" not in scraped


def test_operation_names_are_capped() -> None:
    metrics = Metrics()
    for n in range(MAX_OPERATION_NAMES + 5):
        metrics.observe_graphql(f"Op{n}", "ok", (), 0.01)
    metrics.observe_graphql("Op0", "ok", (), 0.01)
    metrics.observe_graphql("anonymous", "ok", ("not a code", "BAD_USER_INPUT"), 0.01)
    operations = _samples(metrics.render().decode(), "unefois_graphql_operations_total")
    names = {dict(labels)["operation"] for labels in operations}
    assert len(names) == MAX_OPERATION_NAMES + 2  # the first 200, other, anonymous
    assert operations[(("operation", "other"), ("outcome", "ok"))] == 5.0
    assert operations[(("operation", "Op0"), ("outcome", "ok"))] == 2.0
    errors = _samples(metrics.render().decode(), "unefois_graphql_errors_total")
    assert errors == {(("code", "other"),): 1.0, (("code", "BAD_USER_INPUT"),): 1.0}


@pytest.mark.parametrize(
    ("query", "operation_name", "label"),
    [
        ("query Hello { a }", None, "Hello"),
        ("\ufeff # c\n , mutation Do($x: Int) { a }", None, "Do"),
        ("{ a }", None, "anonymous"),
        ("query { a }", None, "anonymous"),
        ("query A { a } query B { b }", "B", "B"),
        ("query A { a }", "bad-name", "anonymous"),
        ("query A { a }", "Y" * 65, "anonymous"),
    ],
)
def test_operation_label(query: str, operation_name: str | None, label: str) -> None:
    assert operation_label(query, operation_name) == label


async def test_server_timing_counts_the_calls_of_its_own_request_only() -> None:
    metrics = Metrics()

    async def person(request: Request) -> Response:
        for seconds in (0.012, 0.0305, 0.001):
            note_upstream(seconds)
        return JSONResponse({})

    async def plain(request: Request) -> Response:
        return JSONResponse({})

    app = Starlette(
        routes=[Route("/person", person), Route("/plain", plain)],
        middleware=[Middleware(RequestContextMiddleware, metrics=metrics, server_timing=True)],
    )
    note_upstream(9.0)  # outside any request: counted nowhere
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as http:
        timed = (await http.get("/person")).headers["server-timing"]
        untimed = (await http.get("/plain")).headers["server-timing"]
    agencies, gateway = timed.split(", ")
    assert agencies == 'agencies;dur=30.5;desc="slowest of 3 calls"'
    assert gateway.startswith("gateway;dur=")
    assert untimed.startswith("gateway;dur=") and "agencies" not in untimed
