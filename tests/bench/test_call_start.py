"""The call-start bench's timing wrapper: it notes the first step and changes nothing else."""

from __future__ import annotations

import asyncio

import pytest

from bench import call_start


async def test_the_first_step_is_noted_and_the_exchange_runs_on() -> None:
    steps: list[str] = []
    gate = asyncio.get_running_loop().create_future()

    async def exchange(conn: object, request: bytes) -> None:
        steps.append("written")
        await gate
        steps.append("answered")

    call_start._writes.clear()
    task = asyncio.ensure_future(call_start._noting_writes(exchange)(object(), b"GET"))
    await asyncio.sleep(0)
    assert steps == ["written"] and len(call_start._writes) == 1
    gate.set_result(None)
    await task
    assert steps == ["written", "answered"]


async def test_a_failure_inside_the_exchange_reaches_the_caller() -> None:
    gate = asyncio.get_running_loop().create_future()

    async def exchange(conn: object) -> None:
        await gate

    task = asyncio.ensure_future(call_start._noting_writes(exchange)(object()))
    await asyncio.sleep(0)
    gate.set_exception(TimeoutError())
    with pytest.raises(TimeoutError):
        await task
    gate = asyncio.get_running_loop().create_future()
    cancelled = asyncio.ensure_future(call_start._noting_writes(exchange)(object()))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
