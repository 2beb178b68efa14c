"""Typed GraphQL errors: every error a client sees carries ``extensions.code``.

Codes are DESIGN §2's ten, listed once here (``Code``). Resolvers raise their packages' own
errors and hold no ``try``: :func:`client_error` maps each package's error tree to the ten
codes, in one place, and the schema's error boundary (``schema.boundary``) applies it to
every error of an execution. The schema raises no error class of its own: its refusals are
``GraphQLError`` values made by :func:`typed_error`.

An error with a ``path`` happened while resolving; one without happened before execution
(syntax, validation, variable coercion, operation selection): the request's fault.
Internal errors are masked: their text, stack and any upstream detail never reach the
client; they are logged, without personal data, by the boundary.

A purpose the policy catalogue does not know is refused with the purposes the caller may use,
in the message and, as a list of ids, in ``extensions.validPurposes``.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from graphql import GraphQLError

from audit import AuditError
from connectors import ConnectorError
from eligibility import EligibilityError
from exchange import ExchangeError
from policies import PolicyError
from prefill import PrefillError
from store import ConsentNotFound, StoreError

log = logging.getLogger(__name__)
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

Code = Literal[
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
]
CODES: frozenset[str] = frozenset(get_args(Code))
INTERNAL_MESSAGE = "internal error"
# Connector codes that are not one of the ten: several persons matching the traits given is
# the caller's to resolve (more traits), like any other unusable input.
_CONNECTOR_CODES = {"AMBIGUOUS": "BAD_USER_INPUT"}


@dataclass(frozen=True)
class ClientError:
    """What a client may be told of an exception."""

    code: str
    message: str
    provider: str | None = None
    retry_in: float | None = None
    valid_purposes: tuple[str, ...] | None = None


def client_error(exc: BaseException) -> ClientError | None:
    """The typed face of a package error; ``None`` for a defect (masked as ``INTERNAL``).

    Each package's messages are written for clients (their errors.py says so); a code of
    ``INTERNAL`` means the operator's problem (a database down, a broken form file), whose
    message is for the log only.
    """
    found: ClientError | None = None
    if isinstance(exc, ExchangeError):
        # The exchange's messages are the client's at every code: NotRecorded (INTERNAL)
        # tells that nothing was released, which the client must know.
        if exc.code not in CODES:
            return None
        return ClientError(exc.code, exc.message, valid_purposes=exc.valid_purposes)
    if isinstance(exc, ConnectorError):
        code = _CONNECTOR_CODES.get(exc.code, exc.code)
        found = ClientError(code, exc.message, exc.provider, exc.retry_in)
    elif isinstance(exc, PrefillError):
        found = ClientError(exc.code, str(exc), retry_in=exc.retry_in)
    elif isinstance(exc, EligibilityError):
        found = ClientError(exc.code, str(exc))
    elif isinstance(exc, ConsentNotFound):
        found = ClientError("NOT_FOUND", "no such consent")
    elif isinstance(exc, StoreError | AuditError | PolicyError):
        return None
    if found is None or found.code not in CODES or found.code == "INTERNAL":
        return None
    return found


def typed_error(
    message: str,
    code: str,
    *,
    provider: str | None = None,
    retry_in: float | None = None,
    valid_purposes: tuple[str, ...] | None = None,
) -> GraphQLError:
    extensions: dict[str, Any] = {"code": code}
    if provider is not None:
        extensions["provider"] = provider
    if retry_in is not None:
        extensions["retryIn"] = math.ceil(retry_in)  # whole seconds, never early
    if valid_purposes is not None:
        extensions["validPurposes"] = list(valid_purposes)
    return GraphQLError(message, extensions=extensions)


def typed(error: GraphQLError) -> GraphQLError:
    """``error`` as the client may see it: typed, or masked and logged."""
    if error.path is None:
        # Before execution: the request's fault. No hints about the schema in errors:
        # graphql-core suggests names for arguments, types and enum values too, not only
        # the fields strawberry's option covers.
        code = (error.extensions or {}).get("code")
        return GraphQLError(
            _SUGGESTION.sub("", error.message),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            extensions={"code": code if code in CODES else "BAD_USER_INPUT"},
        )
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        code = (error.extensions or {}).get("code")
        if code in CODES and code != "INTERNAL":
            return error
        return _masked(error, None)
    mapped = client_error(original)
    if mapped is None:
        return _masked(error, original)
    if mapped.code == "INTERNAL":
        log.error("request failed: %s", type(original).__name__)
    out = typed_error(
        mapped.message,
        mapped.code,
        provider=mapped.provider,
        retry_in=mapped.retry_in,
        valid_purposes=mapped.valid_purposes,
    )
    return GraphQLError(out.message, path=error.path, extensions=out.extensions)


def _masked(error: GraphQLError, original: BaseException | None) -> GraphQLError:
    if original is not None:
        log.error(
            "unexpected error while resolving",
            exc_info=(type(original), original, original.__traceback__),
        )
    else:
        log.error("untyped error while resolving (%s)", (error.extensions or {}).get("code"))
    return GraphQLError(INTERNAL_MESSAGE, path=error.path, extensions={"code": "INTERNAL"})


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The client's view of one error of a result.

    The boundary has typed every error of an execution; an error the parser raised from a
    schema extension (the parser cache, the token limit) ends the operation before the
    boundary's pass, so errors without a path are typed here too (a no-op when they were).
    """
    return dict((typed(error) if error.path is None else error).formatted)
