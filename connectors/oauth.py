"""OAuth2 client-credentials tokens (RFC 6749 §4.4) for "our" agencies.

The token is kept until shortly before it expires; concurrent calls that find it missing
share one refresh (single flight) instead of stampeding the token endpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from connectors.errors import UpstreamInvalid

if TYPE_CHECKING:
    from connectors.http import UpstreamClient

# Renew this long before the agency's expiry, so a token never dies in flight.
EXPIRY_MARGIN = 30.0


class ClientCredentials:
    """A :class:`connectors.http.TokenSource` fetching ``POST {base}/oauth/token``."""

    def __init__(
        self,
        http: UpstreamClient,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        scope: str | None = None,
    ) -> None:
        self._http = http
        self._basic = (client_id, client_secret)
        self._clock = clock
        self._scope = scope
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def current(self) -> str | None:
        """The token in hand while it is valid, without waiting; None when it must be fetched."""
        token = self._token
        return token if token is not None and self._clock() < self._expires_at else None

    async def token(self) -> str:
        token = self._token
        if token is not None and self._clock() < self._expires_at:
            return token
        async with self._lock:
            # Another caller may have refreshed while this one waited for the lock.
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            return await self._refresh()

    def invalidate(self, token: str) -> None:
        # Only drop the token that was refused: a concurrent refresh may already have replaced it.
        if token == self._token:
            self._token = None

    async def _refresh(self) -> str:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        body = await self._http.post_form(["oauth", "token"], form, basic=self._basic)
        provider = self._http.provider
        token = body.get("access_token")
        token_type = body.get("token_type")
        expires_in = body.get("expires_in")
        if not isinstance(token, str) or not token or not token.isprintable():
            raise UpstreamInvalid(
                f"{provider}: token answer without access_token", provider=provider
            )
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise UpstreamInvalid(f"{provider}: token type is not Bearer", provider=provider)
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int | float)
            or expires_in <= 0
        ):
            raise UpstreamInvalid(f"{provider}: token answer without expires_in", provider=provider)
        lifetime = float(expires_in)
        margin = min(EXPIRY_MARGIN, lifetime / 10)
        self._token = token
        self._expires_at = self._clock() + lifetime - margin
        return token
