"""A warm process pool that micro-batches concurrent requests into single simulations.

Each worker builds the tax-benefit system once (its initializer, then one small warm-up
simulation so the first request does not pay for cold caches). Requests wait at most
``batch_window`` for company; a batch goes to an idle worker, and while every worker is busy
requests keep accumulating, so under load batches grow (up to ``max_batch``) instead of
queueing behind each other: a simulation's fixed cost dominates its per-household cost.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from eligibility.adapter import adapt
from eligibility.engine import check_request, evaluate_households, plan
from eligibility.errors import EngineUnavailable
from eligibility.household import Household
from eligibility.model import BENEFITS, BenefitResult, PersonData

PARENT_CHECK_SECONDS = 1.0


def _exit_with(parent: int) -> None:
    """Make this worker exit once the process that started it is gone. A parent killed
    outright (SIGKILL, an out-of-memory kill) never tells its pool to stop, and the workers
    would otherwise idle on their queue for ever, each holding a tax-benefit system."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm_worker(parent: int) -> None:
    _exit_with(parent)
    from eligibility.golden import situation_to_person
    from eligibility.system import tax_benefit_system

    tax_benefit_system()
    warm = situation_to_person(
        {"person": {"birth_date": "1990-01-15"}, "resources": {"months": 18, "payments": []},
         "housing": {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 18}},
        "2025-06",
    )  # fmt: skip
    evaluate_households([(warm, adapt(warm, "2025-06"))], BENEFITS)


def _run_batch(
    pairs: list[tuple[PersonData, Household]], benefits: tuple[str, ...]
) -> list[tuple[BenefitResult, ...]]:
    return evaluate_households(list(pairs), benefits)


@dataclass
class _Pending:
    data: PersonData
    household: Household
    benefits: tuple[str, ...]
    future: asyncio.Future[tuple[BenefitResult, ...]] = field(repr=False)


class EligibilityService:
    def __init__(
        self, *, workers: int = 2, batch_window: float = 0.005, max_batch: int = 64
    ) -> None:
        self._workers = workers
        self._window = batch_window
        self._max_batch = max_batch
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[_Pending] = []
        self._busy = 0
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Start the workers and wait until each has built its tax-benefit system."""
        if self._pool is not None:
            return
        # spawn: a fork of a process running an event loop (and threads) is not safe.
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            self._workers, mp_context=context, initializer=_warm_worker, initargs=(os.getpid(),)
        )
        loop = asyncio.get_running_loop()
        # One trivial task per worker forces every initializer to run now, not on first use.
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, int, 0) for _ in range(self._workers))
        )

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for item in self._pending:
            if not item.future.done():
                item.future.set_exception(EngineUnavailable("eligibility service closed"))
        self._pending.clear()
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def evaluate(
        self, data: PersonData, benefits: Sequence[str], month: str
    ) -> tuple[BenefitResult, ...]:
        asked = check_request(benefits, month)
        household = plan(data, asked, month)  # microseconds
        if not isinstance(household, Household):
            return household  # answered without the rules: nothing to queue
        if self._pool is None:
            raise EngineUnavailable("eligibility service not started")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._serve(loop)
        future: asyncio.Future[tuple[BenefitResult, ...]] = loop.create_future()
        self._pending.append(_Pending(data, household, asked, future))
        if len(self._pending) >= self._max_batch:
            self._dispatch()
        elif self._timer is None:
            self._timer = loop.call_later(self._window, self._dispatch)
        return await future

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        """Batch for ``loop`` from now on. The pool outlives an event loop (one per test of a
        session sharing it, one per command run in turn): what the previous loop left —
        requests whose callers are gone, a timer that will never fire, a batch counted busy
        whose task died with its loop — can never complete, and would stall every request of
        this one. Its loop is closed or no longer running requests: one loop at a time."""
        self._loop = loop
        self._pending.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._busy = 0
        self._tasks.clear()

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()  # harmless when the timer itself is what called us
            self._timer = None
        idle = self._workers - self._busy
        if idle <= 0 or not self._pending or self._pool is None:
            return  # a finishing batch dispatches what accumulated meanwhile
        # One simulation evaluates one month: take the oldest request's month first.
        month = self._pending[0].household.month
        same = [p for p in self._pending if p.household.month == month]
        # Spread over the idle workers, never more than max_batch per simulation.
        # Parallel simulations cost the same wall time as one: use every idle worker.
        count = len(same)
        chunks = min(idle, max(math.ceil(count / self._max_batch), min(idle, count)))
        size = min(self._max_batch, math.ceil(count / chunks))
        for start in range(0, min(len(same), size * chunks), size):
            batch = same[start : start + size]
            taken = {id(p) for p in batch}
            self._pending = [p for p in self._pending if id(p) not in taken]
            self._busy += 1
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[_Pending]) -> None:
        benefits = tuple(b for b in BENEFITS if any(b in p.benefits for p in batch))
        pairs = [(p.data, p.household) for p in batch]
        try:
            if self._pool is None:
                raise EngineUnavailable("eligibility service closed")
            loop = asyncio.get_running_loop()
            answers = await loop.run_in_executor(self._pool, _run_batch, pairs, benefits)
        except BaseException as error:  # the callers get the failure, the loop keeps going
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(error)
        else:
            for p, answer in zip(batch, answers, strict=True):
                if not p.future.done():
                    by_benefit = {r.benefit: r for r in answer}
                    p.future.set_result(tuple(by_benefit[b] for b in p.benefits))
        finally:
            if self._loop is asyncio.get_running_loop():  # else _serve forgot this batch
                self._busy -= 1
                if self._pending:
                    self._dispatch()
