"""Errors of the exchange service.

::

    ExchangeError                     code
    ├── InvalidRequest                BAD_USER_INPUT  context or person reference unusable
    ├── AccessRefused                 FORBIDDEN       the whole request is refused before any fetch
    ├── PersonTokenRefused            UNAUTHENTICATED a FranceConnect token given as the person
    │                                                 reference is unknown, expired or unusable
    └── NotRecorded                   INTERNAL        the access could not be written to the audit
                                                      log: fail closed, nothing is released

Failures of single fields are not raised: they are ``FieldFailure`` values in the view, so
that one agency failing still gives partial data.
"""

from __future__ import annotations


class ExchangeError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, valid_purposes: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # A purpose the catalogue does not know: the ones the caller may use, which the
        # client's error lists (``extensions.validPurposes``).
        self.valid_purposes = valid_purposes


class InvalidRequest(ExchangeError):
    code = "BAD_USER_INPUT"


class AccessRefused(ExchangeError):
    code = "FORBIDDEN"


class PersonTokenRefused(ExchangeError):
    """Raised by ``PersonTokens`` implementations; the message is safe for the client."""

    code = "UNAUTHENTICATED"


class NotRecorded(ExchangeError):
    code = "INTERNAL"
