"""Security headers on every HTML page: a Content-Security-Policy without inline scripts or
styles, frame protection, no sniffing, same-origin referrers.

``form-action`` also names the identity providers' origins: signing out POSTs to the gateway,
which redirects to the provider's end-session page, and browsers check form-action on that
redirect too.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def policy(form_origins: Iterable[str] = ()) -> str:
    forms = " ".join(["'self'", *sorted({origin(url) for url in form_origins})])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors 'none'; form-action {forms}"
    )


class PageSecurityMiddleware:
    """Adds the headers to ``text/html`` responses that do not set their own policy."""

    def __init__(self, app: ASGIApp, *, form_origins: Iterable[str] = ()) -> None:
        self.app = app
        self._headers = [
            (b"content-security-policy", policy(form_origins).encode("ascii")),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                if content_type.startswith(b"text/html"):
                    headers += [(n, v) for n, v in self._headers if n not in names]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
