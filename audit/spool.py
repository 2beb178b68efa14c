"""Where a batch of entries is durable before SQLite has chained it (SQLite only).

With a rollback journal and ``synchronous=FULL`` one SQLite commit syncs five times (the
journal three times, its directory, the database): 1.0 ms at p50 for a single entry on the
reference machine (``bench/results/audit_commit.md``), and a caller alone waited for all of it.
The SQLite writer (:mod:`audit.writer`) therefore makes a batch durable first in a spool file
of its own — one ``pwrite`` and one ``fdatasync``, about 0.1 ms — wakes the callers, and then
commits the same batch into the chain under the write lock it took before the spool write, so
that a reader starting after the answer waits for that commit and sees the entry.

Each writer owns one spool file beside the database, ``<database>-spool-<random>``, locked
(``flock``) for as long as the writer lives. Every write starts at offset 0 and holds the
batch being committed, after any entry whose commit failed and which is not chained yet: the
file never grows beyond the largest batch, and what follows the last valid record is an
older batch's tail, whose entries are chained already. Records are
``length (4 bytes, big-endian) | CRC-32 of the entry | canonical entry``; reading stops at the
first record that does not check (a write torn by a crash, whose callers were never answered).

A spool whose lock is free belongs to a writer that stopped: :func:`recover` hands its records
to the next writer to start, which chains those missing from the log and then removes the file.
"""

from __future__ import annotations

import fcntl
import os
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from secrets import token_hex

_HEADER = struct.Struct(">II")
_INFIX = "-spool-"


def encode(records: Sequence[bytes]) -> bytes:
    return b"".join(_HEADER.pack(len(r), zlib.crc32(r)) + r for r in records)


def decode(data: bytes) -> list[bytes]:
    """The records at the start of ``data``, up to the first one that does not check."""
    records = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        record = data[start : start + length]
        if length == 0 or len(record) != length or zlib.crc32(record) != crc:
            break
        records.append(record)
        offset = start + length
    return records


def spool_paths(database: Path) -> list[Path]:
    """Every spool file of ``database``, living writers' included."""
    return sorted(database.parent.glob(f"{database.name}{_INFIX}*"))


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """One writer's spool file, locked while it is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def create(cls, database: Path) -> Spool:
        path = database.with_name(f"{database.name}{_INFIX}{token_hex(8)}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The file's name must survive a power cut before an entry relies on it.
            _sync_directory(path.parent)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        return cls(path, fd)

    def write(self, records: Sequence[bytes]) -> None:
        """Replace the spool's head with ``records``; return once they are on disk."""
        data = memoryview(encode(records))
        offset = 0
        while offset < len(data):
            offset += os.pwrite(self._fd, data[offset:], offset)
        os.fdatasync(self._fd)

    def close(self, *, remove: bool) -> None:
        """Release the file; ``remove`` once everything written to it is chained."""
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)


def stopped(database: Path) -> list[bytes]:
    """The records of every spool whose writer has stopped, as they are (nothing removed):
    what the next writer to start will chain, where the chain lacks them."""
    found: list[bytes] = []
    for path in spool_paths(database):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a living writer's
            found.extend(decode(os.pread(fd, os.fstat(fd).st_size, 0)))
        finally:
            os.close(fd)
    return found


def recover(database: Path, chain: Callable[[list[bytes]], None]) -> int:
    """Give the records of every stopped writer's spool to ``chain`` (which appends those the
    log lacks), then remove that spool. Returns how many spools were recovered. A spool that
    ``chain`` fails on is left in place, and the error raised."""
    recovered = 0
    for path in spool_paths(database):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # recovered meanwhile by another writer
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a living writer's
            if not os.path.exists(path):
                continue  # recovered and removed while this one waited to look
            size = os.fstat(fd).st_size
            records = decode(os.pread(fd, size, 0))
            if records:
                chain(records)
            path.unlink(missing_ok=True)
            recovered += 1
        finally:
            os.close(fd)
    return recovered
