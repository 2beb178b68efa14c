"""The rules' worker processes do not outlive the process that started them, even when it is
killed outright (SIGKILL gives it no chance to stop its pool)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

STARTER = """
import asyncio, os, sys
from eligibility import EligibilityService

async def main():
    service = EligibilityService(workers=2)
    await service.start()
    print(" ".join(str(p) for p in service._pool._processes), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""
DEADLINE = 60.0  # seconds: generous, the workers look for their parent every second


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but its process-table entry.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_exit_when_their_parent_is_killed() -> None:
    # As a context manager, Popen closes the pipe it opened (else a ResourceWarning).
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            workers = [int(p) for p in parent.stdout.readline().split()]
            assert len(workers) == 2 and all(alive(p) for p in workers)
            os.kill(parent.pid, signal.SIGKILL)
            parent.wait(timeout=10)
            deadline = time.monotonic() + DEADLINE
            while any(alive(p) for p in workers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(alive(p) for p in workers)
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait(timeout=10)
