from __future__ import annotations

import pytest

from connectors import CircuitBreaker
from tests.connectors.conftest import FakeMonotonic


def make(clock: FakeMonotonic) -> CircuitBreaker:
    return CircuitBreaker(clock=clock, failure_threshold=3, window=10.0, cooldown=30.0)


def test_opens_after_threshold_within_window() -> None:
    clock = FakeMonotonic()
    breaker = make(clock)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    assert breaker.retry_in() == pytest.approx(30.0)


def test_failures_outside_window_do_not_count() -> None:
    clock = FakeMonotonic()
    breaker = make(clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(11)
    breaker.record_failure()
    assert breaker.state == "closed"


def test_half_open_lets_one_probe_and_closes_on_success() -> None:
    clock = FakeMonotonic()
    breaker = make(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(30)
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()  # a single probe at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = FakeMonotonic()
    breaker = make(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(31)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.advance(29)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_abandoned_probe_frees_the_slot() -> None:
    clock = FakeMonotonic()
    breaker = make(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(30)
    assert breaker.allow()
    breaker.abandon()
    assert breaker.allow()


def test_rejects_nonsense_thresholds() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(clock=FakeMonotonic(), failure_threshold=0)
