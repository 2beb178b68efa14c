"""Exclusive named locks on both backends: one holder at a time, refused at once, released on
exit, on error, and when the holding process is killed."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import store
from store import Database, LockHeld, StoreError, connect, exclusive
from store.locks import advisory_key, lock_file
from tests.store.conftest import Postgres, Target

DEADLINE = 30.0  # seconds: generous, only ever waited out when something is broken
ROOT = Path(store.__file__).resolve().parent.parent

# Takes the lock, says so on stdout, then waits to be killed.
HOLDER = """
import asyncio, sys
from store import connect, exclusive

async def main(url, schema, name):
    database = await connect(url, schema=schema or None)
    async with exclusive(database, name):
        print("held", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:4]))
"""


@pytest.fixture
def own(target: Target, request: pytest.FixtureRequest) -> Target:
    """The test's target, with a PostgreSQL schema of its own (so a lock key of its own)."""
    if target.schema is None:
        return target
    postgres: Postgres = request.getfixturevalue("postgres")
    return Target(url=target.url, schema=postgres.fresh_schema())


@pytest.fixture
async def two(own: Target) -> AsyncIterator[tuple[Database, Database]]:
    """Two databases on one target, as two processes would open them."""
    first = await connect(own.url, schema=own.schema)
    second = await connect(own.url, schema=own.schema)
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_a_second_holder_is_refused_until_the_first_releases(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    async with exclusive(first, "deliver"):
        with pytest.raises(LockHeld):
            async with exclusive(second, "deliver"):
                pytest.fail("two holders at once")
        # The same database is no exception: each holder has its own session or file handle.
        with pytest.raises(LockHeld):
            async with exclusive(first, "deliver"):
                pytest.fail("two holders at once")
    async with exclusive(second, "deliver"):
        with pytest.raises(LockHeld):
            async with exclusive(first, "deliver"):
                pytest.fail("two holders at once")
    async with exclusive(first, "deliver"):
        pass


async def test_lock_held_is_a_store_error(two: tuple[Database, Database]) -> None:
    first, second = two
    async with exclusive(first, "deliver"):
        with pytest.raises(StoreError, match="deliver lock is held"):
            async with exclusive(second, "deliver"):
                pass


async def test_other_names_are_other_locks(two: tuple[Database, Database]) -> None:
    first, second = two
    async with exclusive(first, "deliver"), exclusive(second, "campaign"):
        pass


async def test_the_body_error_passes_through_and_releases(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    failure = OSError("a letter could not be written")
    with pytest.raises(OSError) as raised:
        async with exclusive(first, "deliver"):
            raise failure
    assert raised.value is failure  # not mistaken for the database being unavailable
    async with exclusive(second, "deliver"):
        pass


async def test_a_cancelled_holder_releases(two: tuple[Database, Database]) -> None:
    first, second = two
    entered = asyncio.Event()

    async def hold() -> None:
        async with exclusive(first, "deliver"):
            entered.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(hold())
    await asyncio.wait_for(entered.wait(), DEADLINE)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with exclusive(second, "deliver"):
        pass


async def test_names_are_checked(two: tuple[Database, Database]) -> None:
    first, _ = two
    for name in ("", "Deliver", "../deliver", "a" * 64):
        with pytest.raises(ValueError, match="lock name"):
            async with exclusive(first, name):
                pass


async def test_schemas_do_not_exclude_each_other(postgres: Postgres) -> None:
    assert advisory_key("a", "deliver") != advisory_key("b", "deliver")
    assert advisory_key(None, "deliver") != advisory_key(None, "campaign")
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    one = await connect(url, schema=postgres.fresh_schema())
    other = await connect(url, schema=postgres.fresh_schema())
    try:
        async with exclusive(one, "deliver"), exclusive(other, "deliver"):
            pass
    finally:
        await one.aclose()
        await other.aclose()


async def test_sqlite_locks_a_file_next_to_the_database(tmp_path: Path) -> None:
    database = await connect(f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'unefois.db').as_posix()}")
    try:
        assert lock_file(database, "deliver") == tmp_path / "data" / "unefois.db.deliver.lock"
        async with exclusive(database, "deliver"):
            assert (tmp_path / "data" / "unefois.db.deliver.lock").exists()
    finally:
        await database.aclose()


async def test_an_in_memory_database_locks_within_the_process() -> None:
    database = await connect("sqlite+aiosqlite:///:memory:")
    try:
        assert lock_file(database, "deliver") is None
        async with exclusive(database, "deliver"):
            with pytest.raises(LockHeld):
                async with exclusive(database, "deliver"):
                    pass
        async with exclusive(database, "deliver"):
            pass
    finally:
        await database.aclose()


@pytest.fixture
def holder(own: Target) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the ``deliver`` lock, once it has printed ``held``."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", HOLDER, own.url, own.schema or "", "deliver"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], DEADLINE)
        line = process.stdout.readline() if ready else ""
        if line.strip() != "held":
            process.kill()
            _, err = process.communicate(timeout=DEADLINE)
            pytest.fail(f"the holder did not take the lock: {err[-2000:]}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=DEADLINE)


async def test_a_killed_holder_loses_the_lock(holder: subprocess.Popen[str], own: Target) -> None:
    database = await connect(own.url, schema=own.schema)
    try:
        with pytest.raises(LockHeld):
            async with exclusive(database, "deliver"):
                pass
        os.kill(holder.pid, signal.SIGKILL)
        await asyncio.to_thread(holder.wait, DEADLINE)
        assert holder.returncode == -signal.SIGKILL
        # The server notices the dead session on its own time: poll, within a deadline.
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                async with exclusive(database, "deliver"):
                    break
            except LockHeld:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
    finally:
        await database.aclose()
