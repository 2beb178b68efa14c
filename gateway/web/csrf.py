"""CSRF tokens for every form of the pages: a signed double-submit cookie.

The browser gets a random nonce in an HttpOnly cookie (``unefois-csrf``, SameSite=Strict);
every form carries ``HMAC(page key, nonce)``. A POST is accepted only when its form's token
matches its own cookie's nonce: another site can make the browser send the cookie, but cannot
read it, and cannot forge the token without the key, which only the replicas hold (derived from
the shared pseudonym secret). Pages without a session (opt-out, form landing) are covered too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from gateway.state import services_of

COOKIE = "unefois-csrf"
FIELD = "csrf"
FORM_MAX = 16 * 1024  # the pages' forms are small: filters, a token, a few choices
_STATE_KEY = "unefois_csrf_nonce"


class CsrfRejected(Exception):
    """A POST without a valid CSRF token, or with a form too large: answered with a 403 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _sign(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()


def _nonce(request: Request) -> str:
    """This browser's nonce: its cookie's, or a new one to be set on the response."""
    nonce = getattr(request.state, _STATE_KEY, None)
    if nonce is None:
        cookie = request.cookies.get(COOKIE, "")
        nonce = cookie if 16 <= len(cookie) <= 64 and cookie.isascii() else None
        if nonce is None:
            nonce = secrets.token_urlsafe(24)
            request.state.unefois_csrf_new = True
        setattr(request.state, _STATE_KEY, nonce)
    return str(nonce)


def csrf_token(request: Request) -> str:
    """The token to put in this browser's forms."""
    return _sign(services_of(request).page_key, _nonce(request))


def set_cookie(request: Request, response: Response) -> None:
    """Set the nonce cookie when this request made a new one."""
    if getattr(request.state, "unefois_csrf_new", False):
        response.set_cookie(
            COOKIE,
            _nonce(request),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


async def checked_form(request: Request) -> FormData:
    """The POSTed urlencoded form, once its CSRF token is checked against the cookie."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > FORM_MAX):
        raise CsrfRejected("form too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX:
            raise CsrfRejected("form too large")
    try:
        text = body.decode("utf-8", "replace")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=64)
    except ValueError as exc:  # more fields than any page's form has
        raise CsrfRejected("too many fields") from exc
    items: list[tuple[str, str | UploadFile]] = list(pairs)
    form = FormData(items)
    cookie = request.cookies.get(COOKIE, "")
    given = form.get(FIELD)
    if not cookie or not isinstance(given, str):
        raise CsrfRejected("missing token")
    expected = _sign(services_of(request).page_key, cookie)
    if not hmac.compare_digest(expected, given):
        raise CsrfRejected("wrong token")
    return form
