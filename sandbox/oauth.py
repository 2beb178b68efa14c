"""OAuth2 client credentials (RFC 6749 §4.4) for "our" simulated agencies.

Tokens are opaque random strings held in memory with their expiry: verifying one is a dict
lookup, which keeps the per-request cost negligible under benchmark load.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import Response

from sandbox.protocol import JSONResponse, bearer, unauthorized

SANDBOX_CLIENT_ID = "unefois-gateway"
SANDBOX_CLIENT_SECRET = "sandbox-agency-secret"  # noqa: S105 - public sandbox credential


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET


def _oauth_error(status: int, error: str, description: str) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="sandbox"'} if status == 401 else {}
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


class TokenIssuer:
    """Issues and checks bearer tokens for one agency."""

    def __init__(
        self,
        credentials: ClientCredentials,
        ttl: int = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.ttl = ttl
        self.clock = clock
        self._tokens: dict[str, float] = {}

    def issue(self) -> str:
        now = self.clock()
        if len(self._tokens) > 10_000:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + self.ttl
        return token

    def check(self, request: Request) -> None:
        """Raise a 401 ``ProtocolError`` unless the request carries a live token."""
        token = bearer(request.headers.get("authorization"))
        expiry = self._tokens.get(token) if token else None
        if expiry is None:
            raise unauthorized()
        if expiry <= self.clock():
            raise unauthorized("Votre token est expiré. Vous devez refaire une demande")

    def _client_ok(self, client_id: str | None, secret: str | None) -> bool:
        if client_id is None or secret is None:
            return False
        same_id = hmac.compare_digest(client_id, self.credentials.client_id)
        same_secret = hmac.compare_digest(secret, self.credentials.client_secret)
        return same_id and same_secret

    async def token_endpoint(self, request: Request) -> Response:
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        client_id, secret = form.get("client_id"), form.get("client_secret")
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return _oauth_error(401, "invalid_client", "malformed Basic credentials")
            raw_id, _, raw_secret = decoded.partition(":")
            # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            client_id, secret = (
                unquote(raw_id.replace("+", " ")),
                unquote(raw_secret.replace("+", " ")),
            )
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "only client_credentials is supported"
            )
        if not self._client_ok(client_id, secret):
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        body = {"access_token": self.issue(), "token_type": "Bearer", "expires_in": self.ttl}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
