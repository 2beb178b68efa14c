"""A Redis that freezes (SIGSTOP: connections accepted by the kernel, nothing answered).

The gateway keeps answering correctly: the cache fails open, the rate limiter falls back to
its in-process bucket, each Redis role pays at most a few timeouts per back-off period, the
metrics and ``/readyz`` say Redis is degraded without taking the replica out of service,
and once Redis thaws it is used again.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from eligibility import EligibilityService
from sandbox import RunningSandbox
from tests.e2e.conftest import Gateway, identity, open_gateway, pick
from tests.frozen_redis import redis_server

SELECTION = "identity { provenance { agency cached } } housing { provenance { agency cached } }"
REQUESTS_WHILE_FROZEN = 12
TIMEOUT = 0.2  # seconds, per Redis call
# While frozen, each request would make five Redis calls (a cache read and write for each of
# the two agencies, one bucket): 60 calls waiting for a timeout per 12 requests. Now the
# calls in flight when it froze time out (the two reads of the first request), then one probe
# per back-off period (2 s on the real clock here; exact counts: the unit tests, on a fake one).
MAX_TIMEOUTS_PER_ROLE = 6


async def _wait_until_answering(url: str) -> None:
    client = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        for _ in range(100):
            with contextlib.suppress(Exception):
                if await client.ping():
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("redis-server did not start")
    finally:
        await client.aclose()


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text, 0 when absent."""
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


async def _metrics(gateway: Gateway) -> str:
    answer = await gateway.http.get("/metrics")
    assert answer.status_code == 200
    return answer.text


def _same_answer(body: dict[str, Any], reference: dict[str, Any]) -> None:
    assert "errors" not in body, body
    person = body["data"]["person"]
    for field in ("identity", "housing"):
        assert person[field]["provenance"]["agency"] == reference[field]["provenance"]["agency"]


@pytest.fixture
def rules() -> EligibilityService:
    """Never started: these requests ask no eligibility."""
    return EligibilityService(workers=1)


async def test_a_frozen_redis_neither_slows_nor_breaks_the_gateway(
    sandbox: RunningSandbox,
    persons: list[dict[str, Any]],
    tmp_path: Path,
    reset_faults: None,
    rules: EligibilityService,
) -> None:
    prefix = f"frozen-{uuid.uuid4().hex[:8]}:"
    (tmp_path / "redis").mkdir()
    (tmp_path / "gateway").mkdir()
    with redis_server(tmp_path / "redis") as server:
        await _wait_until_answering(server.url)
        extra = {
            "UNEFOIS_REDIS_URL": server.url,
            "UNEFOIS_REDIS_PREFIX": prefix,
            "UNEFOIS_REDIS_TIMEOUT": str(TIMEOUT),
        }
        async with open_gateway(sandbox, tmp_path / "gateway", rules, extra) as gateway:
            ref = {"identity": identity(pick(persons, household_kind="single"))}
            first = await gateway.person(SELECTION, ref)
            assert "errors" not in first, first
            reference = first["data"]["person"]
            # Redis holds the answers: the second request is served from it.
            second = await gateway.person(SELECTION, ref)
            assert second["data"]["person"]["identity"]["provenance"]["cached"] is True
            text = await _metrics(gateway)
            assert _sample(text, "unefois_redis_up", role="cache") == 1
            assert _sample(text, "unefois_redis_up", role="ratelimit") == 1
            ready = await gateway.http.get("/readyz")
            assert ready.json()["redis"] == "up"

            server.freeze()
            for _ in range(REQUESTS_WHILE_FROZEN):
                body = await gateway.person(SELECTION, ref)
                _same_answer(body, reference)
                # Fail open: the agency answered, not the (unreachable) cache.
                assert body["data"]["person"]["identity"]["provenance"]["cached"] is False
            ready = await gateway.http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["status"] == "ready"
            assert ready.json()["redis"] == "degraded"
            text = await _metrics(gateway)
            for role in ("cache", "ratelimit"):
                assert _sample(text, "unefois_redis_up", role=role) == 0
                timeouts = _sample(text, "unefois_redis_errors_total", role=role, kind="timeout")
                assert 1 <= timeouts <= MAX_TIMEOUTS_PER_ROLE, (role, timeouts)

            server.thaw()
            # The back-off runs on the real clock here; readiness probes Redis once it ends.
            for _ in range(300):
                ready = await gateway.http.get("/readyz")
                if ready.json()["redis"] == "up":
                    break
                await asyncio.sleep(0.05)
            assert ready.json()["redis"] == "up"
            text = await _metrics(gateway)
            errors_after = {
                role: _sample(text, "unefois_redis_errors_total", role=role, kind="timeout")
                for role in ("cache", "ratelimit")
            }
            assert _sample(text, "unefois_redis_up", role="cache") == 1
            _same_answer(await gateway.person(SELECTION, ref), reference)
            thawed = await gateway.person(SELECTION, ref)
            assert thawed["data"]["person"]["identity"]["provenance"]["cached"] is True
            text = await _metrics(gateway)
            for role, before in errors_after.items():
                assert _sample(text, "unefois_redis_errors_total", role=role, kind="timeout") == (
                    before
                )
            assert _sample(text, "unefois_redis_up", role="ratelimit") == 1
