from __future__ import annotations

from proactive.engine.retry import MAX_BACKOFF_MS, MAX_RETRIES, backoff_ms, given_up


def test_backoff_doubles_up_to_its_bound() -> None:
    assert [backoff_ms(i) for i in range(3)] == [2000, 4000, 8000]
    assert backoff_ms(20) == MAX_BACKOFF_MS
    assert not given_up(MAX_RETRIES) and given_up(MAX_RETRIES + 1)
