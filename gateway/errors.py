"""Errors raised at the gateway's edge.

Every error carries a typed ``code`` from DESIGN §2, which is what a client sees in
``errors[].extensions.code``, and the HTTP status used when the error ends a request before
GraphQL runs (authentication, body limits). Messages are written for clients: they never
name internal hosts, keys or files a client could not already know.

::

    GatewayError                      (INTERNAL, 500)
    ├── Unauthenticated               (UNAUTHENTICATED, 401)  + reason
    ├── Forbidden                     (FORBIDDEN, 403)
    ├── BadRequest                    (BAD_USER_INPUT, 400)
    │   ├── PayloadTooLarge           (BAD_USER_INPUT, 413)
    │   └── UnsupportedMediaType      (BAD_USER_INPUT, 415)
    ├── RateLimited                   (RATE_LIMITED, 429)     + retry_in

``ConfigurationError`` (an unusable setting or operator file, at start) is the composition
root's, :mod:`runtime.errors`, re-exported here for the edge's own files (clients, keys).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from runtime.errors import ConfigurationError as ConfigurationError
from schema.errors import Code as ErrorCode  # DESIGN §2's ten codes, listed once

# Why a token was refused. Logged and counted, never shown in detail to the client: telling
# an attacker "bad_signature" vs "unknown_kid" helps them probe our keys.
UnauthenticatedReason = Literal[
    "missing_token",
    "bad_header",
    "malformed",
    "unsupported_algorithm",
    "unknown_kid",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "wrong_type",
    "jwks_unavailable",
    "client_revoked",  # our token, but its client was disabled or changed secret since
    # Person (FranceConnect) tokens, checked at the provider's userinfo endpoint:
    "person_token_rejected",  # the provider does not know the token (or it expired)
    "person_identity_invalid",  # the provider's claims do not make a pivot identity
    "provider_unavailable",  # the provider could not be reached: not the citizen's fault
]


class GatewayError(Exception):
    code: ErrorCode = "INTERNAL"
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}

    def to_graphql(self) -> dict[str, Any]:
        """The error as one entry of a GraphQL ``errors`` list."""
        return {"message": self.message, "extensions": self.extensions()}


class Unauthenticated(GatewayError):
    code: ErrorCode = "UNAUTHENTICATED"
    http_status = 401

    def __init__(
        self, reason: UnauthenticatedReason, message: str = "Invalid or missing access token"
    ) -> None:
        super().__init__(message)
        self.reason: UnauthenticatedReason = reason


class Forbidden(GatewayError):
    code: ErrorCode = "FORBIDDEN"
    http_status = 403


class BadRequest(GatewayError):
    code: ErrorCode = "BAD_USER_INPUT"
    http_status = 400


class PayloadTooLarge(BadRequest):
    http_status = 413


class UnsupportedMediaType(BadRequest):
    http_status = 415


class RateLimited(GatewayError):
    code: ErrorCode = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in

    def extensions(self) -> dict[str, Any]:
        # Whole seconds, rounded up: a client never retries too early.
        return {
            "code": self.code,
            "retryIn": math.ceil(self.retry_in),
        }  # whole seconds, never early
