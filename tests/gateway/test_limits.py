from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.limits import BodyLimitMiddleware
from gateway.observability import Metrics, RequestContextMiddleware

LIMIT = 1024


class Seen:
    calls = 0


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    Seen.calls = 0

    async def echo(request: Request) -> Response:
        Seen.calls += 1
        body = await request.body()
        return JSONResponse({"size": len(body)})

    app = Starlette(
        routes=[
            Route("/graphql", echo, methods=["GET", "POST"]),
            Route("/upload", echo, methods=["POST"]),
        ],
        middleware=[Middleware(BodyLimitMiddleware, max_body_bytes=LIMIT)],
    )
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
        yield client


def _too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": f"Request body exceeds {LIMIT} bytes",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_within_limit(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=b"x" * LIMIT, headers=_json())
    assert response.json() == {"size": LIMIT}


async def test_declared_length_refused_before_the_app(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=b"x" * (LIMIT + 1), headers=_json())
    _too_large(response)
    assert Seen.calls == 0


async def _chunks(total: int, size: int = 300) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


async def test_chunked_body_counted_while_streaming(http: httpx.AsyncClient) -> None:
    request = http.build_request("POST", "/graphql", content=_chunks(LIMIT * 4), headers=_json())
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    _too_large(await http.send(request))
    small = http.build_request("POST", "/graphql", content=_chunks(LIMIT), headers=_json())
    assert (await http.send(small)).json() == {"size": LIMIT}


async def test_lying_content_length(http: httpx.AsyncClient) -> None:
    headers = {**_json(), "content-length": "10"}
    request = http.build_request("POST", "/upload", content=_chunks(LIMIT * 2), headers=headers)
    _too_large(await http.send(request))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_graphql_post_must_be_json(http: httpx.AsyncClient, content_type: str | None):
    headers = {"content-type": content_type} if content_type else {}
    response = await http.post("/graphql", content=b"{}", headers=headers)
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert Seen.calls == 0


async def test_json_with_parameters_and_other_routes(http: httpx.AsyncClient) -> None:
    charset = {"content-type": "Application/JSON; charset=utf-8"}
    assert (await http.post("/graphql", content=b"{}", headers=charset)).status_code == 200
    assert (await http.get("/graphql")).status_code == 200
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert (await http.post("/upload", content=b"a=b", headers=form)).status_code == 200


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}


async def test_refusals_are_counted_and_carry_the_request_id() -> None:
    # The wiring the gateway uses: request context outermost, then the body limit.
    metrics = Metrics()

    async def echo(request: Request) -> Response:
        return JSONResponse({"size": len(await request.body())})

    app = Starlette(
        routes=[Route("/graphql", echo, methods=["POST"])],
        middleware=[
            Middleware(RequestContextMiddleware, metrics=metrics),
            Middleware(BodyLimitMiddleware, max_body_bytes=LIMIT),
        ],
    )
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
        response = await client.post("/graphql", content=b"x" * (LIMIT + 1), headers=_json())
    assert response.status_code == 413
    assert response.headers["x-request-id"]
    assert b'status="413"' in metrics.render()
