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
