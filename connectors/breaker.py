"""Circuit breaker: stop calling an upstream that keeps failing, probe it after a cool-down.

States: ``closed`` (calls pass; failures inside ``window`` seconds are counted), ``open``
(calls fail fast until ``cooldown`` has elapsed), ``half_open`` (one probe call passes; its
success closes the circuit, its failure opens it again). Time comes from an injected
monotonic clock so that transitions are testable without sleeping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        failure_threshold: int = 5,
        window: float = 30.0,
        cooldown: float = 30.0,
    ) -> None:
        if failure_threshold < 1 or window <= 0 or cooldown <= 0:
            raise ValueError("breaker thresholds must be positive")
        self._clock = clock
        self._threshold = failure_threshold
        self._window = window
        self._cooldown = cooldown
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._state: State = "closed"
        self._probing = False

    def twin(self) -> CircuitBreaker:
        """A new, closed breaker with the same thresholds and clock."""
        return CircuitBreaker(
            clock=self._clock,
            failure_threshold=self._threshold,
            window=self._window,
            cooldown=self._cooldown,
        )

    @property
    def state(self) -> State:
        if self._state == "open" and self._clock() - self._opened_at >= self._cooldown:
            return "half_open"
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when not open)."""
        if self._state != "open":
            return 0.0
        return max(0.0, self._cooldown - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open, only one probe at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        if self._probing:
            return False
        self._state = "half_open"
        self._probing = True
        return True

    def record_success(self) -> None:
        self._probing = False
        if self._state != "closed":
            self._state = "closed"
            self._failures.clear()

    def record_failure(self) -> None:
        now = self._clock()
        if self._state == "half_open":
            self._trip(now)
            return
        if self._state == "open":
            return
        self._failures.append(now)
        while self._failures and now - self._failures[0] > self._window:
            self._failures.popleft()
        if len(self._failures) >= self._threshold:
            self._trip(now)

    def abandon(self) -> None:
        """A call that ended without an answer either way (cancelled) frees the probe slot."""
        self._probing = False

    def _trip(self, now: float) -> None:
        self._state = "open"
        self._opened_at = now
        self._probing = False
        self._failures.clear()
