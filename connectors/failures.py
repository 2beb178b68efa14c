"""Foreign failures (HTTP statuses, transport exceptions, error bodies) mapped to the error tree.

Messages are fixed phrases: an upstream's ``detail`` text, its URL or its body may carry
personal values, so none of them is ever copied into a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
from aiohttp.http_exceptions import ContentEncodingError

from connectors.errors import (
    Conflict,
    ConnectorError,
    InvalidInput,
    NotFound,
    RateLimited,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.transport import AnswerTooLarge
from connectors.wire import BadAnswer, ConnectFailed

DEFAULT_RETRY_IN = 60.0
MAX_RETRY_IN = 3600.0
# An agency name as API Particulier writes it in ``meta.provider`` ("CNAV", "France Travail").
_PROVIDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._'-]{0,39}")
_CODE = re.compile(r"[0-9]{5}")


def retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header; HTTP dates and garbage fall back to a default."""
    if value is None:
        return DEFAULT_RETRY_IN
    try:
        seconds = float(value.strip())
    except ValueError:
        return DEFAULT_RETRY_IN
    if seconds != seconds or seconds < 0:  # NaN or negative
        return DEFAULT_RETRY_IN
    return min(seconds, MAX_RETRY_IN)


def error_body(content: bytes) -> list[dict[str, Any]] | None:
    """The ``errors`` list of an API Particulier-style error body, or None if there is none."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    return [e for e in errors if isinstance(e, dict)] or None


def provider_of(errors: list[dict[str, Any]] | None, default: str) -> str:
    """The agency an error body names in ``meta.provider``, when it is a plausible name."""
    for err in errors or ():
        meta = err.get("meta")
        if isinstance(meta, dict):
            name = meta.get("provider")
            if isinstance(name, str) and _PROVIDER.fullmatch(name):
                return name
    return default


def codes_of(errors: list[dict[str, Any]] | None) -> tuple[str, ...]:
    """The error codes of a body that look like codes (digits only): never free text."""
    found = (e.get("code") for e in errors or ())
    return tuple(c for c in found if isinstance(c, str) and _CODE.fullmatch(c))


def error_for_status(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    provider: str,
    fc_token: bool = False,
) -> ConnectorError:
    errors = error_body(content)
    who = provider_of(errors, provider)
    if status == 404:
        if errors is None:
            # A bare 404 is a wrong route (misconfigured base URL), not an unknown person:
            # reporting "not found" for everyone would silently hide rights.
            return UpstreamUnavailable(f"{who}: endpoint not found", provider=who)
        return NotFound(f"{who}: person not found", provider=who, codes=codes_of(errors))
    if status == 429:
        return RateLimited(
            f"{who}: rate limited", provider=who, retry_in=retry_after(headers.get("retry-after"))
        )
    if status in (401, 403):
        if fc_token and status == 401:
            return InvalidInput(f"{who}: the FranceConnect token was refused", provider=who)
        return UpstreamUnavailable(f"{who}: our credentials were refused", provider=who)
    if status in (400, 422):
        # We validate identities before sending them, so the agency rejecting our parameters
        # means they are outside what it accepts: the caller's input, not an outage.
        return InvalidInput(f"{who}: parameters rejected by the agency", provider=who)
    if status == 409:
        return Conflict(f"{who}: the request conflicts with the agency's records", provider=who)
    if status == 504:
        return UpstreamTimeout(f"{who}: the agency timed out", provider=who)
    if status >= 500:
        return UpstreamUnavailable(f"{who}: the agency is unavailable", provider=who)
    return UpstreamInvalid(f"{who}: unexpected status {status}", provider=who)


def _in_chain(exc: BaseException, kinds: type[BaseException]) -> bool:
    """Whether ``exc`` or one of the exceptions that caused it is one of ``kinds``."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retriable(exc: BaseException) -> bool:
    """Failures that say the request was not processed, or not in time: a GET may be sent
    again. A broken answer (disconnect mid-way, bad payload) is not retried."""
    unsent = aiohttp.ClientConnectorError | ConnectFailed | TimeoutError
    return isinstance(exc, unsent) or _in_chain(exc, ConnectionRefusedError)


def error_for_exception(exc: BaseException, *, provider: str) -> ConnectorError:
    # Refusal first: a refused connection must never be reported as a slow agency.
    if isinstance(exc, aiohttp.ClientConnectorError) or _in_chain(exc, ConnectionError):
        return UpstreamUnavailable(f"{provider}: connection refused", provider=provider)
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout(f"{provider}: no answer in time", provider=provider)
    if isinstance(exc, AnswerTooLarge):
        return UpstreamInvalid(f"{provider}: answer too large", provider=provider)
    if isinstance(exc, BadAnswer) or (
        isinstance(exc, aiohttp.ClientPayloadError) and _in_chain(exc, ContentEncodingError)
    ):
        return UpstreamInvalid(f"{provider}: undecodable answer", provider=provider)
    return UpstreamUnavailable(f"{provider}: transport failure", provider=provider)
