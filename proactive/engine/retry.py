"""How often, and after how long, a failed batch is tried again: the same policy for the
broker's workers (Dramatiq's Retries middleware) and the in-process executor."""

from __future__ import annotations

MAX_RETRIES = 3  # tries after the first; then the batch is left pending and reported
MIN_BACKOFF_MS = 2_000  # before the first retry; doubled at each one
MAX_BACKOFF_MS = 60_000


def backoff_ms(retry: int) -> int:
    """The wait before retry ``retry`` (0 for the first), without the broker's jitter."""
    return int(min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2**retry))


def given_up(attempts: int) -> bool:
    """Whether a batch whose runs failed ``attempts`` times will not be tried again."""
    return attempts > MAX_RETRIES
