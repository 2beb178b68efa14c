"""Typed GraphQL errors: every error a client sees carries ``extensions.code``.

Codes are DESIGN §2's. Internal errors are masked: their text, stack and any upstream detail
never reach the client; they are logged (without personal data) where they happen.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

log = logging.getLogger(__name__)
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "CONSENT_REQUIRED",
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "UPSTREAM_TIMEOUT",
        "UPSTREAM_UNAVAILABLE",
        "UPSTREAM_INVALID",
        "RATE_LIMITED",
        "INTERNAL",
    }
)


def typed_error(
    message: str,
    code: str,
    *,
    provider: str | None = None,
    retry_in: float | None = None,
) -> GraphQLError:
    extensions: dict[str, Any] = {"code": code}
    if provider is not None:
        extensions["provider"] = provider
    if retry_in is not None:
        extensions["retryIn"] = int(retry_in) if float(retry_in).is_integer() else retry_in
    return GraphQLError(message, extensions=extensions)


def format_error(error: GraphQLError, *, executed: bool) -> dict[str, Any]:
    """The client's view of one error.

    ``executed`` tells errors raised while resolving (where an untyped one is a defect) from
    errors found before execution (syntax, validation: the client's fault).
    """
    code = (error.extensions or {}).get("code")
    if not executed:
        out = dict(error.formatted)
        # No hints about the schema in errors: graphql-core suggests names for arguments,
        # types and enum values too, not only the fields strawberry's option covers.
        out["message"] = _SUGGESTION.sub("", str(out["message"]))
        out["extensions"] = {"code": code if code in CODES else "BAD_USER_INPUT"}
        return out
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        log.error(
            "unexpected error while resolving",
            exc_info=(type(original), original, original.__traceback__),
        )
        return _masked(error)
    if code not in CODES:
        return _masked(error)
    return dict(error.formatted)


def _masked(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": "internal error", "extensions": {"code": "INTERNAL"}}
    if error.path is not None:
        out["path"] = list(error.path)
    return out
