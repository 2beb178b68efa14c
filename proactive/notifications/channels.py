"""Where a notification goes: e-mail over SMTP, SMS through a provider's HTTP API, a PDF letter.

Each channel returns a delivery id and raises :class:`TemporaryFailure` (retry later) or
:class:`PermanentFailure` (give up). Idempotency differs by channel, and the dispatcher's
"at most one resend after a crash between sending and recording" rests on it:

- SMTP has no idempotency: a resend is a second e-mail. The ``Message-ID`` is derived from the
  idempotency key, so mail clients that deduplicate on it show one.
- The SMS provider receives the idempotency key as the ``Idempotency-Key`` header and answers
  a repeat with the first message's id instead of sending again.
- A letter is a file named by the message id: rewriting it replaces it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib
import httpx
from fpdf import FPDF

from proactive.notifications.errors import PermanentFailure, TemporaryFailure
from proactive.notifications.rendering import Rendered
from store.outbox import Message

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# fpdf2's core fonts are latin-1: these are the usual characters of French text outside it.
_LATIN1 = str.maketrans({"€": "euros", "’": "'", "œ": "oe", "Œ": "OE", "…": "...", "\u202f": " "})


class Channel(Protocol):
    async def send(self, message: Message, content: Rendered) -> str:
        """Deliver ``content`` to ``message.address``; the provider's delivery id."""
        ...


class EmailChannel:
    """Plain text with an HTML alternative, through an SMTP relay."""

    def __init__(
        self, host: str, port: int, sender: str, use_tls: bool = False, timeout: float = 10.0
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.use_tls, self.timeout = use_tls, timeout

    def build(self, message: Message, content: Rendered) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.address
        email["Subject"] = content.subject
        domain = self.sender.rpartition("@")[2] or "unefois"
        # A digest: keys may hold characters a Message-ID cannot, and the same key must give
        # the same id on a resend.
        local = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        email["Message-ID"] = f"<{local}@{domain}>"
        email["Content-Language"] = "fr"
        email.set_content(content.text)
        if content.html is not None:
            email.add_alternative(content.html, subtype="html")
        return email

    async def send(self, message: Message, content: Rendered) -> str:
        email = self.build(message, content)
        try:
            await aiosmtplib.send(
                email,
                hostname=self.host,
                port=self.port,
                use_tls=self.use_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            if all(code >= 500 for code in codes):
                raise PermanentFailure("smtp_recipient_refused") from None
            raise TemporaryFailure("smtp_recipient_deferred") from None
        except aiosmtplib.SMTPResponseException as error:
            if error.code >= 500:
                raise PermanentFailure(f"smtp_{error.code}") from None
            raise TemporaryFailure(f"smtp_{error.code}") from None
        except aiosmtplib.SMTPTimeoutError:
            raise TemporaryFailure("smtp_timeout") from None
        except (aiosmtplib.SMTPException, OSError):
            raise TemporaryFailure("smtp_unavailable") from None
        return str(email["Message-ID"])


class SmsChannel:
    """``POST {"to": "+33…", "text": "…"}`` with a bearer token; the answer is
    ``{"id": …, "status": …}``."""

    def __init__(self, url: str, token: str, http: httpx.AsyncClient) -> None:
        self.url, self._token, self._http = url, token, http

    async def send(self, message: Message, content: Rendered) -> str:
        if not _E164.match(message.address):
            raise PermanentFailure("sms_bad_number")
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": message.idempotency_key,
        }
        body = {"to": message.address, "text": content.text.strip()}
        try:
            answer = await self._http.post(self.url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise TemporaryFailure("sms_timeout") from None
        except httpx.HTTPError:
            raise TemporaryFailure("sms_unavailable") from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise TemporaryFailure(f"sms_{answer.status_code}")
        if answer.status_code >= 400:
            # Bad token, bad number, bad body: sending the same again cannot succeed.
            raise PermanentFailure(f"sms_{answer.status_code}")
        try:
            data = answer.json()
            delivery_id, status = str(data["id"]), str(data["status"])
        except (ValueError, KeyError, TypeError):
            raise TemporaryFailure("sms_bad_answer") from None
        if status in ("rejected", "failed"):
            raise PermanentFailure(f"sms_{status}")
        return delivery_id


def _latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


# The sender block when the deployment names none: the service, on behalf of the
# administrations whose data it reads.
SENDER = ("Unefois", "Service public", "Dites-le-nous une fois")
# Where the address block goes, in millimetres from the page's top left corner: under the
# window of a DL envelope (110 x 220 mm) with its window on the right, into which an A4 sheet
# folded in three slides. NF Z10-011 and La Poste's guidance for window envelopes put the
# block about 100 mm from the left edge and 45 to 50 mm from the top, on at most 38
# characters a line and aligned left (optical readers find an address by its left edge).
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH = 100.0, 50.0, 90.0
ADDRESS_POINTS, ADDRESS_LINE = 10.0, 4.5


def _date_line(text: str) -> tuple[str | None, str]:
    """The letter's date (its templates open with "Le <date>") apart from the rest."""
    first, _, rest = text.lstrip("\n").partition("\n")
    if first.startswith("Le "):
        return first, rest.lstrip("\n")
    return None, text


def letter_pdf(message: Message, content: Rendered, sender: Sequence[str] = SENDER) -> bytes:
    """An A4 letter for a window envelope: the sender block top left; the recipient's
    address block (``message.address``, laid out per NF Z10-011 by
    :mod:`proactive.postal`) where the DL window shows it; the date and the reference
    (the offer's id, else the message's) under it; then the title and the text, one
    paragraph per line, in large type. The title and the language are set for screen
    readers. Helvetica keeps it free of font files (latin-1 only)."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(content.subject))
    pdf.set_author(_latin1(sender[0] if sender else "Unefois"))
    pdf.set_lang("fr-FR")
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in sender:
        pdf.cell(80, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    # The address block, aligned left in the window; a line wider than the window (38
    # characters of wide capitals) is set a little smaller rather than cut.
    pdf.set_xy(WINDOW_LEFT, WINDOW_TOP)
    padding, pdf.c_margin = pdf.c_margin, 0  # the text starts at the window's edge
    for line in message.address.splitlines():
        size = ADDRESS_POINTS
        pdf.set_font("Helvetica", size=size)
        while pdf.get_string_width(_latin1(line)) > WINDOW_WIDTH and size > 7:
            size -= 0.5
            pdf.set_font("Helvetica", size=size)
        pdf.set_x(WINDOW_LEFT)
        pdf.cell(WINDOW_WIDTH, ADDRESS_LINE, _latin1(line), new_x="LEFT", new_y="NEXT")
    pdf.c_margin = padding
    day, text = _date_line(content.text)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, max(pdf.get_y(), WINDOW_TOP + 45) + 5)
    if day is not None:
        pdf.cell(0, 6, _latin1(day), new_x="LMARGIN", new_y="NEXT", align="R")
    # The reference the letter's own text gives (a renewal's, a grant's: what the person quotes
    # to refuse it), else its offer's; the message's id only for a letter about neither.
    reference = str(message.payload.get("reference") or message.offer_id or message.id)
    pdf.cell(0, 6, _latin1(f"Référence : {reference}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.multi_cell(0, 8, _latin1(content.subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=12)
    for line in text.splitlines():
        if line.strip():
            pdf.multi_cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(4)
    return bytes(pdf.output())


class LetterChannel:
    """Writes ``<message id>.pdf`` into ``directory``, for a print-and-post service.

    A letter's address must be a laid-out block (:mod:`proactive.postal`); one that is not
    (under three lines, a line over 38 characters) is refused for good rather than printed
    for an envelope the post office returns."""

    def __init__(self, directory: Path, sender: Sequence[str] = SENDER) -> None:
        self.directory = directory
        self.sender = tuple(sender)

    def path_for(self, message: Message) -> Path:
        return self.directory / f"{message.id}.pdf"

    async def send(self, message: Message, content: Rendered) -> str:
        lines = message.address.splitlines()
        if not 3 <= len(lines) <= 7 or any(len(line) > 38 for line in lines):
            raise PermanentFailure("letter_address")
        try:
            data = await asyncio.to_thread(letter_pdf, message, content, self.sender)
        except Exception as error:
            raise PermanentFailure(f"letter_{type(error).__name__}") from None
        path = self.path_for(message)
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError:
            raise TemporaryFailure("letter_write") from None
        return path.name


def _write_atomically(path: Path, data: bytes) -> None:
    # A print service polling the directory never sees half a letter.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".pdf.part")
    partial.write_bytes(data)
    os.replace(partial, path)
