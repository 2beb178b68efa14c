"""The warm pool: typed errors before queueing, micro-batched answers equal in-process ones."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eligibility import BENEFITS, EligibilityService, UnknownBenefit
from eligibility.engine import evaluate_one
from eligibility.errors import EngineUnavailable
from eligibility.golden import load_cases, situation_to_person


async def test_not_started_is_a_typed_error() -> None:
    case = load_cases()[0]
    person = situation_to_person(case.situation, case.month)
    service = EligibilityService(workers=1)
    with pytest.raises(EngineUnavailable):
        await service.evaluate(person, BENEFITS, case.month)


@pytest.mark.timeout(90)
async def test_concurrent_requests_are_batched(tbs: Any) -> None:
    cases = [c for c in load_cases() if c.month == "2025-06"][:6]
    people = [situation_to_person(c.situation, c.month) for c in cases]
    service = EligibilityService(workers=1, batch_window=0.05)
    await service.start()
    try:
        with pytest.raises(UnknownBenefit):
            await service.evaluate(people[0], ["rsa", "bogus"], "2025-06")
        answers = await asyncio.gather(
            *(service.evaluate(p, ["css", "rsa"], "2025-06") for p in people)
        )
        for person, answer in zip(people, answers, strict=True):
            assert answer == evaluate_one(person, ["css", "rsa"], "2025-06")
    finally:
        await service.aclose()
    with pytest.raises(EngineUnavailable):
        await service.evaluate(people[0], BENEFITS, "2025-06")


@pytest.mark.timeout(90)
def test_a_request_abandoned_with_its_event_loop_leaves_the_next_loop_served() -> None:
    """One service across event loops run one after the other (a test session's shared pool,
    one loop per test): a request whose loop closed while it waited for company — its
    caller gone, its batching timer never fired — must not stall the next loop's requests."""
    case = next(c for c in load_cases() if c.month == "2025-06")
    person = situation_to_person(case.situation, case.month)
    service = EligibilityService(workers=1, batch_window=2.0)
    with asyncio.Runner() as first:
        first.run(service.start())

        async def abandon() -> None:
            task = asyncio.create_task(service.evaluate(person, ["css"], "2025-06"))
            await asyncio.sleep(0)  # queued, its timer set: the loop closes before it fires

            assert not task.done()

        first.run(abandon())
    with asyncio.Runner() as second:

        async def ask() -> Any:
            return await asyncio.wait_for(service.evaluate(person, ["css"], "2025-06"), 30)

        try:
            assert second.run(ask()) == evaluate_one(person, ["css"], "2025-06")
        finally:
            second.run(service.aclose())
