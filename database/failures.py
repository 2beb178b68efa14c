"""What a driver or SQLAlchemy error means, for packages that map it to their own errors.

The classification reads types only: the messages of such errors may carry a statement's
parameters (pseudonyms) or, for some drivers, the URL, and must not travel further.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exc

Failure = Literal["integrity", "invalid_value", "unavailable", "refused"]


def classify(error: BaseException) -> Failure | None:
    """``None`` for an error that does not come from the database layer."""
    original = getattr(error, "orig", None) or error
    if isinstance(error, exc.IntegrityError):
        return "integrity"
    if isinstance(error, exc.StatementError) and isinstance(original, ValueError):
        return "invalid_value"
    unavailable = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
    if (
        isinstance(error, (*unavailable, OSError, TimeoutError))
        or (isinstance(error, exc.DBAPIError) and error.connection_invalidated)
        or isinstance(original, OSError | TimeoutError)
    ):
        return "unavailable"
    if isinstance(error, exc.SQLAlchemyError):
        return "refused"
    return None


def kind_of(error: BaseException) -> str:
    """The driver's exception class name: enough to diagnose, nothing about the data."""
    return type(getattr(error, "orig", None) or error).__name__
