"""Typed errors of the eligibility engine.

Tree (``code`` is what the GraphQL layer reports as ``extensions.code``; ``INTERNAL`` is
reported as "internal error" and logged with its stack for the operator)::

    EligibilityError                    code INTERNAL
    ├── UnknownBenefit                  code BAD_USER_INPUT   a benefit outside ``BENEFITS``
    ├── MonthOutOfRange                 code BAD_USER_INPUT   before 2019-01 or past ``LAST_MONTH``
    ├── NoHistory                       (internal) no resource history at all
    ├── BadMonth                        code BAD_USER_INPUT   not a ``YYYY-MM`` string
    └── EngineUnavailable               code INTERNAL         the pool is not started or closed

A person whose history is incomplete is *not* an error for the client: each benefit answers
``CANNOT_EVALUATE`` with the missing data named, so the other benefits still answer. That
includes a person with no history at all: ``NoHistory`` is how the adapter says so, and the
engine answers it (``engine.plan``) before anything reaches the client.
"""

from __future__ import annotations


class EligibilityError(Exception):
    code = "INTERNAL"


class UnknownBenefit(EligibilityError):
    code = "BAD_USER_INPUT"

    def __init__(self, benefit: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown benefit {benefit!r}; known: {', '.join(known)}")
        self.benefit = benefit


class BadMonth(EligibilityError):
    code = "BAD_USER_INPUT"

    def __init__(self, month: str) -> None:
        super().__init__(f"month must be YYYY-MM, got {month!r}")
        self.month = month


class MonthOutOfRange(EligibilityError):
    code = "BAD_USER_INPUT"

    def __init__(self, month: str, first: str, last: str) -> None:
        super().__init__(f"month {month} is outside the model's range {first}..{last}")
        self.month = month
        self.first = first
        self.last = last


class NoHistory(EligibilityError):
    """Answered by the engine as CANNOT_EVALUATE: one reaching a client would be a bug."""

    def __init__(self, first: str, last: str) -> None:
        super().__init__(f"no resource history for the person between {first} and {last}")
        self.first = first
        self.last = last


class EngineUnavailable(EligibilityError):
    code = "INTERNAL"
