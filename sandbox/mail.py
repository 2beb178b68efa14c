"""A mail sink: a real SMTP server that keeps what it receives in memory and delivers nothing.

It lets the embedded product send its e-mails somewhere real: ``unefois campaign deliver``
speaks SMTP to it exactly as to a production relay. What arrived is listed by the SMS sink's
server (``GET /_sandbox/mails``, emptied by ``DELETE``; loopback only), one entry per
recipient with the subject and the plain-text body.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

KEEP = 10_000  # the oldest are dropped beyond: a demo, not a mailbox
SIZE_MAX = 1024 * 1024  # bytes of one message; SMTP's SIZE extension announces it


@dataclass(frozen=True)
class ReceivedMail:
    id: str
    to: str
    subject: str
    text: str


class MailSink:
    """What the SMTP server received, shared with the HTTP listing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []

    def receive(self, recipients: list[str], content: bytes) -> None:
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        text = ""
        if isinstance(parsed, EmailMessage):
            body = parsed.get_body(("plain",))
            text = body.get_content() if body is not None else ""
        subject = str(parsed.get("Subject", ""))
        with self._lock:
            for to in recipients:
                self._mails.append(ReceivedMail(str(uuid.uuid4()), to, subject, text))
            del self._mails[:-KEEP]

    def mails(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mails)

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content: Any = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        self._sink.receive(list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


async def start_mail_server(host: str, port: int, sink: MailSink) -> asyncio.Server:
    """An SMTP server on ``host:port`` (0: an ephemeral port) in the running event loop."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(_Handler(sink), hostname="sandbox.localhost", data_size_limit=SIZE_MAX),
        host=host,
        port=port,
    )
