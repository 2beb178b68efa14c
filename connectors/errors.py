"""Errors raised by connectors.

Every foreign failure (aiohttp, JSON decoding, an upstream error body) is mapped here at the
boundary, so that callers only ever see this tree::

    ConnectorError                 code            when
    ├── InvalidInput               BAD_USER_INPUT  an identifier or parameter fails validation
    │   └── DemarchesRefused       BAD_USER_INPUT  démarches-simplifiées refused what we sent (4xx)
    ├── NotFound                   NOT_FOUND       the agency does not know the person
    ├── Ambiguous                  AMBIGUOUS       the traits given match several persons
    ├── RateLimited                RATE_LIMITED    the agency asks us to slow down (retry_in)
    ├── UpstreamTimeout            UPSTREAM_TIMEOUT the agency did not answer in time
    ├── UpstreamUnavailable        UPSTREAM_UNAVAILABLE  5xx, refused connection, open circuit,
    │                                              or our credentials were refused (401/403)
    └── UpstreamInvalid            UPSTREAM_INVALID the answer is malformed, off-schema, or about
        │                                          another person than the one asked
        └── Conflict               UPSTREAM_INVALID a 409, which a connector may read better

``message`` is safe to show a client: it never holds a URL, a body or a personal value;
``codes`` keeps the agency's error codes (digits), never their text; ``retry_in`` is a whole
number of seconds, rounded up so that a client told to wait never comes back too early.
"""

from __future__ import annotations

import math


class ConnectorError(Exception):
    code = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retry_in: float | None = None,
        codes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.retry_in: int | None = None if retry_in is None else max(1, math.ceil(retry_in))
        # The agency's own error codes (API Particulier's ``errors[].code``, e.g. "25003"),
        # for a connector that must tell one 404 from another; never their text.
        self.codes = codes


class InvalidInput(ConnectorError):
    code = "BAD_USER_INPUT"


class DemarchesRefused(InvalidInput):
    """démarches-simplifiées refused a request's body (a 400 or 422): a champ it does not
    take, a value of the wrong form. Its message names the status, never the body."""


class NotFound(ConnectorError):
    code = "NOT_FOUND"


class RateLimited(ConnectorError):
    code = "RATE_LIMITED"


class UpstreamTimeout(ConnectorError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamUnavailable(ConnectorError):
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamInvalid(ConnectorError):
    code = "UPSTREAM_INVALID"


class Conflict(UpstreamInvalid):
    """The agency answered 409: the request conflicts with what it holds. Each connector says
    what that means for its endpoint (several persons match, a later act depends on this
    one…); left alone, it reads as an answer we cannot use."""


class Ambiguous(ConnectorError):
    """Several persons match what was given (an identification by traits): naming one of
    them would be a guess, and the data of a homonym is someone else's."""

    code = "AMBIGUOUS"


# The codes of an agency that failed to answer — down, slow, asking to slow down, or
# answering what cannot be read — as opposed to one that answered (``NOT_FOUND``…) or a
# refusal of ours: what is missing for these reasons may be there when asked again.
AGENCY_FAILURES = frozenset(
    {RateLimited.code, UpstreamTimeout.code, UpstreamUnavailable.code, UpstreamInvalid.code}
)
