"""The SQLite probe: reads at once, answers None rather than wait, never creates a file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from database.probe import SqliteProbe


def _file(tmp_path: Path, value: int = 7) -> Path:
    path = tmp_path / "store.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE v (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO v VALUES (?)", (value,))
    return path


def test_reads_the_committed_value(tmp_path: Path) -> None:
    path = _file(tmp_path)
    probe = SqliteProbe(path)
    assert probe.scalar("SELECT version FROM v") == 7
    with sqlite3.connect(path) as writer:
        writer.execute("UPDATE v SET version = 8")
    assert probe.scalar("SELECT version FROM v") == 8  # each read sees the last commit
    probe.close()


def test_a_writer_holding_the_file_gets_none_at_once(tmp_path: Path) -> None:
    path = _file(tmp_path)
    probe = SqliteProbe(path)
    assert probe.scalar("SELECT version FROM v") == 7
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    opened = probe._connection
    try:
        assert probe.scalar("SELECT version FROM v") is None
        assert probe._connection is opened  # a lock is no reason to reopen the file
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert probe.scalar("SELECT version FROM v") == 7
    assert probe._connection is opened


def test_a_missing_file_is_none_and_never_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite3"
    probe = SqliteProbe(path)
    assert probe.scalar("SELECT 1") is None
    assert not path.exists()
    _file(tmp_path).rename(path)
    assert probe.scalar("SELECT version FROM v") == 7  # opened once it exists


def test_it_never_writes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    probe = SqliteProbe(path)
    assert probe.scalar("UPDATE v SET version = 9 RETURNING version") is None
    assert probe.scalar("SELECT version FROM v") == 7
