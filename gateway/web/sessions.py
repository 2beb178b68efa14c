"""The pages' sessions: a random id in an HttpOnly cookie, everything else server-side.

One cookie per kind of page, scoped to its path (``/console`` for auditors, ``/mon-espace``
for citizens), so an auditor and a citizen in the same browser never share a session. The data
lives in the store database (:mod:`store.sessions`), shared by every replica; ending a session
deletes it there, so sign-out holds even for a cookie copied before. A session also ends after
``page_session_minutes`` without a request (each request pushes its expiry); expired rows are
deleted whenever a session starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.state import services_of
from store import StoredSession

Clock = Callable[[], datetime]

# kind → (cookie name, cookie path). ``login-…`` hold a sign-in in progress (OIDC state).
KINDS: dict[str, tuple[str, str]] = {
    "console": ("unefois-console", "/console"),
    "login-console": ("unefois-console-login", "/console"),
    "citizen": ("unefois-citoyen", "/mon-espace"),
    "login-citizen": ("unefois-citoyen-login", "/mon-espace"),
}
LOGIN_TTL = timedelta(minutes=10)
TOUCH_EVERY = timedelta(minutes=1)  # an expiry is pushed at most once a minute


@dataclass(frozen=True)
class WebSession:
    id: str
    kind: str
    data: dict[str, Any]
    expires_at: datetime


def _cookie(kind: str) -> tuple[str, str]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown session kind {kind!r}") from None


class WebSessions:
    """Sessions of one request's application: the store, the clock, the idle lifetime."""

    def __init__(self, request: Request, clock: Clock) -> None:
        services = services_of(request)
        self._store = services.web_sessions
        self._clock = clock
        self._idle = timedelta(minutes=services.settings.page_session_minutes)
        self._secure = request.url.scheme == "https"

    async def start(
        self, response: Response, kind: str, data: dict[str, Any], ttl: timedelta | None = None
    ) -> WebSession:
        """A new session of ``kind``, its cookie set on ``response``."""
        name, path = _cookie(kind)
        now = self._clock()
        lifetime = ttl or (LOGIN_TTL if kind.startswith("login-") else self._idle)
        # Expired sessions (a citizen's holds their identity) go at the next sign-in of anyone.
        await self._store.purge_expired(now)
        stored = await self._store.create(kind, data, now, now + lifetime)
        response.set_cookie(
            name,
            stored.id,
            # The server ends the session; the browser forgets the cookie when it closes.
            max_age=int(lifetime.total_seconds()) if kind.startswith("login-") else None,
            httponly=True,
            samesite="lax",  # the identity provider's redirect back is a top-level GET
            secure=self._secure,
            path=path,
        )
        return _web(stored)

    async def current(self, request: Request, kind: str) -> WebSession | None:
        """The live session of ``kind`` this request's cookie names, or ``None``."""
        name, _ = _cookie(kind)
        session_id = request.cookies.get(name, "")
        now = self._clock()
        found = await self._store.get(session_id, kind, now)
        if found is None:
            return None
        if not kind.startswith("login-") and now + self._idle - found.expires_at > TOUCH_EVERY:
            expires_at = now + self._idle
            await self._store.touch(found.id, expires_at)
            return WebSession(found.id, found.kind, found.data, expires_at)
        return _web(found)

    async def update(self, session: WebSession, data: dict[str, Any]) -> WebSession:
        await self._store.update(session.id, data)
        return WebSession(session.id, session.kind, dict(data), session.expires_at)

    async def end(self, request: Request, response: Response, kind: str) -> None:
        """Delete the session server-side and its cookie in the browser."""
        name, path = _cookie(kind)
        session_id = request.cookies.get(name)
        if session_id:
            await self._store.delete(session_id)
        response.delete_cookie(name, path=path, secure=self._secure, httponly=True)


def _web(stored: StoredSession) -> WebSession:
    return WebSession(stored.id, stored.kind, stored.data, stored.expires_at)


def web_sessions(request: Request, clock: Clock) -> WebSessions:
    return WebSessions(request, clock)
