"""An SMS sink speaking a typical provider's API: messages are kept in memory, never sent.

``POST /v1/sms`` with ``Authorization: Bearer <token>`` and ``{"to": "+33…", "text": "…"}``
answers ``201 {"id", "status": "queued"}``. An ``Idempotency-Key`` header seen before answers
``200`` with the first message's id and stores nothing, as real providers do. Tests read what
arrived with ``GET /_sandbox/sms`` and empty it with ``DELETE /_sandbox/sms`` (loopback only);
``/_sandbox/mails`` does the same for the e-mails the sandbox's SMTP server received.
"""

from __future__ import annotations

import hmac
import re
import threading
import uuid
from dataclasses import asdict, dataclass

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.admin import loopback_only
from sandbox.mail import MailSink
from sandbox.protocol import JSONResponse, ProtocolError, bearer, unauthorized, unprocessable

SEND_PATH = "/v1/sms"
SANDBOX_SMS_TOKEN = "sandbox-sms-token"  # noqa: S105 - public sandbox token
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
TEXT_MAX = 1600  # ten concatenated parts, a common provider limit
_BODY_MAX = 16 * 1024


@dataclass(frozen=True)
class ReceivedSms:
    id: str
    to: str
    text: str
    idempotency_key: str | None


class SmsSink:
    """What the sink received, shared between the server's handlers and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedSms] = []
        self._by_key: dict[str, ReceivedSms] = {}

    def receive(self, to: str, text: str, key: str | None) -> tuple[ReceivedSms, bool]:
        """The stored message and whether it is new."""
        with self._lock:
            if key is not None and key in self._by_key:
                return self._by_key[key], False
            received = ReceivedSms(str(uuid.uuid4()), to, text, key)
            self._messages.append(received)
            if key is not None:
                self._by_key[key] = received
            return received, True

    def messages(self) -> list[ReceivedSms]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._by_key.clear()


def _parsed(body: bytes) -> tuple[str, str]:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise unprocessable("the body is not JSON", "body") from None
    if not isinstance(raw, dict):
        raise unprocessable("expected a JSON object", "body")
    to, text = raw.get("to"), raw.get("text")
    if not isinstance(to, str) or not _E164.match(to):
        raise unprocessable("to must be an E.164 number such as +33612345678", "to")
    if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX:
        raise unprocessable(f"text must be 1 to {TEXT_MAX} characters", "text")
    return to, text


def build_app(
    token: str = SANDBOX_SMS_TOKEN, sink: SmsSink | None = None, mails: MailSink | None = None
) -> Starlette:
    """The sink's app; ``app.state.sink`` holds what it received, ``app.state.mails`` what the
    sandbox's SMTP server received (listed here too: one place to read notifications)."""
    sink = sink or SmsSink()
    mail_sink = mails or MailSink()

    async def send(request: Request) -> Response:
        try:
            given = bearer(request.headers.get("authorization"))
            if given is None or not hmac.compare_digest(given.encode(), token.encode()):
                raise unauthorized()
            body = await request.body()
            if len(body) > _BODY_MAX:
                raise unprocessable("the body is too large", "body")
            to, text = _parsed(body)
            received, new = sink.receive(to, text, request.headers.get("idempotency-key"))
        except ProtocolError as error:
            return error.response()
        answer = {"id": received.id, "status": "queued"}
        return JSONResponse(answer, status_code=201 if new else 200)

    async def listed(request: Request) -> Response:
        return JSONResponse({"data": [asdict(m) for m in sink.messages()]})

    async def cleared(request: Request) -> Response:
        sink.clear()
        return JSONResponse({"data": []})

    async def mails_listed(request: Request) -> Response:
        return JSONResponse({"data": [asdict(m) for m in mail_sink.mails()]})

    async def mails_cleared(request: Request) -> Response:
        mail_sink.clear()
        return JSONResponse({"data": []})

    routes = [
        Route(SEND_PATH, send, methods=["POST"]),
        Route("/_sandbox/sms", loopback_only(listed), methods=["GET"]),
        Route("/_sandbox/sms", loopback_only(cleared), methods=["DELETE"]),
        Route("/_sandbox/mails", loopback_only(mails_listed), methods=["GET"]),
        Route("/_sandbox/mails", loopback_only(mails_cleared), methods=["DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.sink = sink
    app.state.mails = mail_sink
    return app
