"""Request body bounds, enforced before the application buffers anything.

A declared ``Content-Length`` above the limit is refused without reading a byte; a chunked
(or lying) body is counted as it streams and refused as soon as it passes the limit. POSTs
to the GraphQL path must be JSON: form and multipart bodies would open CSRF and upload paths
the API does not have. Pure ASGI, because this runs on every request and Starlette's
``BaseHTTPMiddleware`` costs a task and a stream per request.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError, PayloadTooLarge, UnsupportedMediaType

GRAPHQL_PATH = "/graphql"
_JSON_TYPES = frozenset({b"application/json"})


async def send_error(send: Send, error: GatewayError) -> None:
    """Answer with ``error`` as a GraphQL-shaped JSON body and its HTTP status."""
    body = orjson.dumps({"errors": [error.to_graphql()]})
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, graphql_path: str = GRAPHQL_PATH):
        self.app = app
        self.limit = max_body_bytes
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        media_type = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else None
            elif name == b"content-type":
                media_type = value.partition(b";")[0].strip().lower()
        if (
            scope["method"] == "POST"
            and scope["path"] == self.graphql_path
            and media_type not in _JSON_TYPES
        ):
            await send_error(send, UnsupportedMediaType("Send the query as application/json"))
            return
        if declared is not None and declared > self.limit:
            await send_error(send, _too_large(self.limit))
            return

        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _too_large(self.limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except PayloadTooLarge as error:
            # Once the app has begun answering, a second status line is impossible; the app
            # chose to answer without its body, so its answer stands.
            if not started:
                await send_error(send, error)
