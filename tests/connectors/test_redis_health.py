from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from connectors.redis_health import RedisHealth, with_timeouts
from tests.connectors.conftest import FakeMonotonic


def test_skipped_after_a_failure_until_one_probe_per_backoff() -> None:
    clock = FakeMonotonic()
    health = RedisHealth("cache", backoff=2.0, clock=clock)
    assert health.usable() and health.up
    health.failed(RedisTimeoutError())
    assert not health.up and not health.usable()
    clock.advance(1.9)
    assert not health.usable()
    clock.advance(0.1)
    assert health.usable()  # the probe
    assert not health.usable()  # only one while it is under way
    health.failed(RedisConnectionError())
    clock.advance(1.0)
    assert not health.usable()  # a failed probe starts a new back-off
    clock.advance(1.0)
    assert health.usable()
    health.succeeded()
    assert health.up and health.usable() and health.usable()
    assert (health.errors, health.timeouts) == (2, 1)


def test_timeouts_join_the_url_unless_it_has_its_own() -> None:
    query = parse_qs(urlsplit(with_timeouts("redis://h:6379/0", 0.2)).query)
    assert query == {"socket_timeout": ["0.2"], "socket_connect_timeout": ["0.2"]}
    own = with_timeouts("rediss://u:p@h:6380/1?socket_timeout=1.5", 0.2)
    assert own.startswith("rediss://u:p@h:6380/1?")
    query = parse_qs(urlsplit(own).query)
    assert query == {"socket_timeout": ["1.5"], "socket_connect_timeout": ["0.2"]}
