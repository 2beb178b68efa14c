"""SQLite's spool: callers answered once their batch is synced there, the chain following;
a commit that fails after the answer keeps the entry, which a later append or the next
process chains; a spool torn by a crash gives back only whole records."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from audit import AuditDatabase, AuditLog, AuditUnavailable, CheckpointSigner, migrate
from audit import tables as t
from audit.database import open_database
from audit.spool import Spool, decode, encode, recover, spool_paths
from audit.verify import verify
from tests.audit.conftest import ORIGIN, Clock, make_entry


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
async def sqlite_db(path: Path) -> AsyncIterator[AuditDatabase]:
    database = await open_database(f"sqlite+aiosqlite:///{path.as_posix()}")
    await migrate(database)
    yield database
    await database.aclose()


async def _open_log(db: AuditDatabase, signer: CheckpointSigner) -> AuditLog:
    log = AuditLog(db, signer, ORIGIN, clock=Clock(), checkpoint_every=10_000)
    await log.start()
    return log


async def _ids(db: AuditDatabase) -> list[str]:
    async with db.connection() as conn:
        query = select(t.entries.c.id).order_by(t.entries.c.seq)
        return [row.id for row in (await conn.execute(query)).all()]


async def _commit_fails(db: AuditDatabase, fail: bool) -> None:
    """Make every COMMIT that inserted an entry fail (a deferred foreign key that an insert
    trigger breaks): the statements pass, the commit does not — after the spool's sync."""
    async with db.transaction() as conn:
        if fail:
            await conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY)")
            await conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS child (p INTEGER REFERENCES parent(id) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER break_commit AFTER INSERT ON audit_entries "
                "BEGIN INSERT INTO child VALUES (42); END"
            )
        else:
            await conn.exec_driver_sql("DROP TRIGGER break_commit")


def _locked(spool: Path) -> bool:
    fd = os.open(spool, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_records_decode_up_to_the_first_torn_one() -> None:
    records = [b'{"a":1}', b"x" * 300, b"{}"]
    data = encode(records)
    assert decode(data) == records
    assert decode(data[:-1]) == records[:2]  # the last one cut short
    flipped = bytearray(data)
    flipped[8 + 7 + 8 + 10] ^= 1  # a byte of the second record
    assert decode(bytes(flipped)) == records[:1]
    assert decode(b"") == []
    assert decode(bytes(64)) == []  # a zeroed block is no record


async def test_a_running_log_holds_one_locked_spool_removed_at_close(
    sqlite_db: AuditDatabase, signer: CheckpointSigner, path: Path
) -> None:
    log = await _open_log(sqlite_db, signer)
    await log.append(make_entry(1))
    (spool,) = spool_paths(path)
    assert _locked(spool)
    assert decode(spool.read_bytes()) == [make_entry(1).canonical()]
    await log.aclose()
    assert spool_paths(path) == []


async def test_a_commit_failing_after_the_answer_is_chained_by_the_next_append(
    sqlite_db: AuditDatabase, signer: CheckpointSigner
) -> None:
    log = await _open_log(sqlite_db, signer)
    try:
        await log.append(make_entry(1))
        await _commit_fails(sqlite_db, True)
        # Answered once synced to the spool; its commit then fails.
        await log.append(make_entry(2))
        await log.settled()
        assert await _ids(sqlite_db) == [make_entry(1).id]
        # While an answered entry is unchained, the next ones wait for their commit: refused.
        with pytest.raises(AuditUnavailable):
            await log.append(make_entry(3))
        await _commit_fails(sqlite_db, False)
        await log.append(make_entry(4))
        assert await _ids(sqlite_db) == [make_entry(n).id for n in (1, 2, 4)]
    finally:
        await log.aclose()
    report = await verify(sqlite_db, {signer.key_id: signer.public_key})
    assert (report.ok, report.size) == (True, 3)


async def test_a_stopped_logs_unchained_entries_are_chained_at_the_next_start(
    sqlite_db: AuditDatabase, signer: CheckpointSigner, path: Path
) -> None:
    log = await _open_log(sqlite_db, signer)
    await log.append(make_entry(1))
    await _commit_fails(sqlite_db, True)
    await log.append(make_entry(2))  # answered, not chained
    await log.aclose()  # the last attempt to chain it fails too: the spool stays
    (left,) = spool_paths(path)
    assert not _locked(left)
    await _commit_fails(sqlite_db, False)
    second = await _open_log(sqlite_db, signer)
    try:
        assert await _ids(sqlite_db) == [make_entry(1).id, make_entry(2).id]
        assert left not in spool_paths(path)
        await second.append(make_entry(3))
    finally:
        await second.aclose()
    report = await verify(sqlite_db, {signer.key_id: signer.public_key})
    assert (report.ok, report.size) == (True, 3)


async def test_recovery_skips_what_the_log_holds_and_leaves_living_spools(
    sqlite_db: AuditDatabase, signer: CheckpointSigner, path: Path
) -> None:
    log = await _open_log(sqlite_db, signer)
    try:
        await log.append(make_entry(1))
        await log.settled()
        # A stopped writer's spool: an entry chained already and one that is not.
        stopped = Spool.create(path)
        stopped.write([make_entry(1).canonical(), make_entry(2).canonical()])
        stopped.close(remove=False)
        living = Spool.create(path)
        living.write([make_entry(9).canonical()])
        chained: list[list[bytes]] = []
        assert recover(path, chained.append) == 1
        assert chained == [[make_entry(1).canonical(), make_entry(2).canonical()]]
        living.close(remove=True)
    finally:
        await log.aclose()
    stopped = Spool.create(path)
    stopped.write([make_entry(1).canonical(), make_entry(2).canonical()])
    stopped.close(remove=False)
    again = await _open_log(sqlite_db, signer)
    await again.aclose()
    assert await _ids(sqlite_db) == [make_entry(1).id, make_entry(2).id]
    assert spool_paths(path) == []


_KILLED = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from audit import AuditLog, CheckpointSigner, open_database
    from tests.audit.conftest import ORIGIN, Clock, make_entry

    async def main():
        db = await open_database(sys.argv[1])
        log = AuditLog(db, CheckpointSigner.from_bytes(bytes(range(32))), ORIGIN, clock=Clock())
        await log.start()
        await log.append(make_entry(2))
        print("answered", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


async def test_an_entry_answered_before_a_crash_survives_it(
    sqlite_db: AuditDatabase, signer: CheckpointSigner, path: Path
) -> None:
    log = await _open_log(sqlite_db, signer)
    await log.append(make_entry(1))
    await log.aclose()
    await _commit_fails(sqlite_db, True)  # so that the killed process cannot chain it
    killed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED,
        f"sqlite+aiosqlite:///{path.as_posix()}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    out, err = await asyncio.wait_for(killed.communicate(), timeout=60)
    assert killed.returncode == -signal.SIGKILL, err.decode()
    assert out.decode().strip() == "answered"
    assert await _ids(sqlite_db) == [make_entry(1).id]
    await _commit_fails(sqlite_db, False)
    restarted = await _open_log(sqlite_db, signer)
    await restarted.aclose()
    assert await _ids(sqlite_db) == [make_entry(1).id, make_entry(2).id]
    report = await verify(sqlite_db, {signer.key_id: signer.public_key})
    assert report.ok
