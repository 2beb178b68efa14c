"""Verification of the whole log: every entry, the chain, the head row and every checkpoint.

Reads one snapshot of the database (see :meth:`AuditDatabase.snapshot`) in seq order, in
chunks, so memory stays flat on millions of entries; checkpoints (one per thousand entries by
default) are loaded whole. What each check catches, by the position it reports:

- an altered entry: its bytes no longer hash to its leaf, or are not canonical, or a filter
  column disagrees with them → that entry;
- a dropped entry (gap in seq) → the first missing seq;
- an inserted, reordered or renumbered entry: the stored head no longer chains → the first
  entry whose head breaks; an entry inserted with a consistent head of its own is named as
  such, because the entry after it still chains onto the one before it;
- an altered entry whose leaf and every later head were recomputed: the chain is consistent
  again, but not with the signed head of the next checkpoint → the first entry after the last
  checkpoint that still matches (the alteration is somewhere from there to that checkpoint);
- truncation: a checkpoint beyond the last entry, or a head row beyond it;
- a forged checkpoint: a bad signature or a key not in ``public_keys``.

Everything above is checked against checkpoints stored in the database itself, so whoever can
rewrite the database can delete them, rewrite entries and recompute the chain, and the log
verifies again. ``trusted`` checkpoints come from outside (a witness file, a cosigning
witness, an auditor's copy): the log must reproduce each one's head at its size, and with
``grace`` set no more than that many entries may follow the last trusted one. Only these
catch a rewrite by someone who holds the database.

On SQLite the walk reads in short transactions, one per chunk, up to the head read at the
start: the rollback journal makes a writer wait for every reader (see
:mod:`audit.database`), and one transaction over millions of entries would hold the gateway's
appends past their busy timeout. Entries are only ever appended, and those appended during
the walk are beyond the size it checks. PostgreSQL reads one snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import tables
from audit.chain import GENESIS, leaf_hash, next_head
from audit.checkpoint import Checkpoint, verify_checkpoint
from audit.database import AuditDatabase
from audit.entry import AuditEntry
from audit.errors import InvalidEntry
from audit.ledger import checkpoint_from_row, read_head

CHUNK = 2000
_COLUMNS = (
    "id", "time", "kind", "client", "purpose", "object", "recipient", "person", "outcome",
    "denials", "corrects",
)  # fmt: skip


@dataclass(frozen=True)
class Report:
    """``size``: entries checked and found good (the log's size when ``ok``);
    ``position``: 1-based seq of the first bad entry, if one can be named;
    ``witnessed``: the size of the largest trusted checkpoint the log reproduced."""

    ok: bool
    size: int
    checked_checkpoints: int
    position: int | None
    problem: str | None
    witnessed: int = 0


class _Problem(Exception):
    def __init__(self, position: int | None, problem: str) -> None:
        super().__init__(problem)
        self.position = position
        self.problem = problem
        self.walk: _Walk | None = None


class _Walk:
    """The state of the walk along the chain."""

    def __init__(self, checkpoints: list[Checkpoint], trusted: Sequence[Checkpoint]) -> None:
        self.at_size = {cp.size: cp for cp in checkpoints}
        self.trusted_at: dict[int, list[Checkpoint]] = {}
        for cp in trusted:
            self.trusted_at.setdefault(cp.size, []).append(cp)
        self.witnessed = 0
        self.size = 0
        self.head = GENESIS
        self.before = GENESIS  # the head one entry back: to recognise an inserted entry
        self.trusted = 0  # the size of the last checkpoint the chain matched
        self.checked = 0
        self._match_checkpoint()

    def step(self, row: Any) -> None:
        seq = int(row.seq)
        expected = self.size + 1
        if seq != expected:
            raise _Problem(expected, f"entry {expected} is missing (the next one is {seq})")
        canonical = bytes(row.canonical)
        leaf = leaf_hash(canonical)
        if leaf != bytes(row.leaf):
            raise _Problem(seq, f"entry {seq} was altered: its content does not match its leaf")
        _check_content(seq, canonical, row)
        head = next_head(self.head, leaf)
        if head != bytes(row.head):
            if seq > 1 and next_head(self.before, leaf) == bytes(row.head):
                raise _Problem(
                    seq - 1, f"entry {seq - 1} was inserted: entry {seq} chains onto {seq - 2}"
                )
            raise _Problem(
                seq, f"the chain breaks at entry {seq} (an entry removed, inserted or moved)"
            )
        self.before, self.head, self.size = self.head, head, seq
        self._match_checkpoint()

    def _match_checkpoint(self) -> None:
        for outside in self.trusted_at.get(self.size, ()):
            if outside.head != self.head:
                raise _Problem(
                    self.witnessed + 1,
                    f"the log does not reproduce the trusted checkpoint at size {self.size}: "
                    f"entries {self.witnessed + 1} to {self.size} were altered, removed, "
                    "inserted or moved",
                )
            self.witnessed = self.size
        checkpoint = self.at_size.get(self.size)
        if checkpoint is None:
            return
        if checkpoint.head != self.head:
            raise _Problem(
                self.trusted + 1,
                f"entries {self.trusted + 1} to {self.size} do not match the signed checkpoint "
                f"at size {self.size}: they were altered and their hashes recomputed",
            )
        self.trusted = self.size
        self.checked += 1


def _check_content(seq: int, canonical: bytes, row: Any) -> None:
    try:
        entry = AuditEntry.from_canonical(canonical)
    except InvalidEntry:
        raise _Problem(seq, f"entry {seq} is not a valid entry") from None
    if entry.canonical() != canonical:
        raise _Problem(seq, f"entry {seq} is not in canonical form")
    for column in _COLUMNS:
        stored = getattr(row, column)
        expected = entry.denials if column == "denials" else getattr(entry, column)
        if stored != expected:
            raise _Problem(seq, f"entry {seq} was altered: its {column} column disagrees")


async def verify(
    db: AuditDatabase,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    trusted: Sequence[Checkpoint] = (),
    grace: int | None = None,
    chunk: int = CHUNK,
) -> Report:
    """Check the whole log; the first problem found, or ``ok``.

    ``trusted``: checkpoints kept outside the database, each of which the log must reproduce;
    ``grace``: how many entries may follow the largest of them (``None``: any number).
    """
    walk: _Walk | None = None
    try:
        _check_signed(trusted, public_keys, "trusted checkpoint")
        if db.backend == "postgresql":
            async with db.snapshot() as conn:
                walk = await _walk(_Reads(lambda: _same(conn), True), public_keys, trusted, chunk)
        else:
            walk = await _walk(_Reads(db.snapshot, False), public_keys, trusted, chunk)
        _check_witnessed(walk, trusted, grace)
    except _Problem as found:
        walk = found.walk or walk
        good = 0 if walk is None else walk.size
        if found.position is not None:
            good = min(good, found.position - 1)
        checked = 0 if walk is None else walk.checked
        witnessed = 0 if walk is None else walk.witnessed
        return Report(False, good, checked, found.position, found.problem, witnessed)
    return Report(True, walk.size, walk.checked, None, None, walk.witnessed)


@dataclass(frozen=True)
class _Reads:
    """How the walk reads: ``open`` gives one read transaction; ``one_snapshot``: all of them
    are the same one."""

    open: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    one_snapshot: bool


async def _walk(
    reads: _Reads,
    public_keys: Mapping[str, Ed25519PublicKey],
    trusted: Sequence[Checkpoint],
    chunk: int,
) -> _Walk:
    columns = [tables.entries.c[name] for name in ("seq", *_COLUMNS, "canonical", "leaf", "head")]
    async with reads.open() as conn:
        stored = select(tables.checkpoints).order_by(tables.checkpoints.c.size)
        checkpoints = [checkpoint_from_row(r) for r in (await conn.execute(stored)).all()]
        head_size, head = await read_head(conn)
    # A forged checkpoint is a problem whatever the entries say: checked first.
    _check_signed(checkpoints, public_keys, "checkpoint")
    walk = _Walk(checkpoints, trusted)
    try:
        while True:
            query = (
                select(*columns)
                .where(tables.entries.c.seq > walk.size)
                .order_by(tables.entries.c.seq)
                .limit(chunk)
            )
            if not reads.one_snapshot:
                # Entries appended since the head was read are not this walk's.
                query = query.where(tables.entries.c.seq <= head_size)
            async with reads.open() as conn:
                rows = (await conn.execute(query)).all()
            for row in rows:
                walk.step(row)
            if len(rows) < chunk:
                break
        if not reads.one_snapshot:
            async with reads.open() as conn:
                now_size, _ = await read_head(conn)
                last = (await conn.execute(select(func.max(tables.entries.c.seq)))).scalar()
            if int(last or 0) > max(now_size, walk.size):
                raise _Problem(
                    now_size + 1, f"entries after {now_size} are not covered by the head of the log"
                )
        _check_end(walk, checkpoints, head_size, head)
    except _Problem as found:
        found.walk = walk
        raise
    return walk


@asynccontextmanager
async def _same(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    yield conn


def _check_signed(
    checkpoints: Sequence[Checkpoint], keys: Mapping[str, Ed25519PublicKey], what: str
) -> None:
    for checkpoint in checkpoints:
        if not verify_checkpoint(checkpoint, keys):
            raise _Problem(
                None,
                f"the {what} at size {checkpoint.size} is forged: bad signature or unknown key",
            )


def _check_witnessed(walk: _Walk, trusted: Sequence[Checkpoint], grace: int | None) -> None:
    beyond = [cp.size for cp in trusted if cp.size > walk.size]
    if beyond:
        raise _Problem(
            walk.size + 1,
            f"the trusted checkpoint at size {max(beyond)} is beyond the last entry "
            f"{walk.size}: the log was truncated",
        )
    if grace is not None and walk.size - walk.witnessed > grace:
        raise _Problem(
            walk.witnessed + 1,
            f"entries {walk.witnessed + 1} to {walk.size} are not covered by a trusted "
            f"checkpoint (more than the grace of {grace}): they cannot be told from a "
            "rewritten log",
        )


def _check_end(walk: _Walk, checkpoints: list[Checkpoint], head_size: int, head: bytes) -> None:
    last = walk.size
    beyond = [cp.size for cp in checkpoints if cp.size > last]
    if beyond:
        raise _Problem(
            last + 1,
            f"the checkpoint at size {max(beyond)} is beyond the last entry {last}: "
            "the log was truncated",
        )
    if head_size > last:
        raise _Problem(
            last + 1, f"entries {last + 1} to {head_size} are missing at the end of the log"
        )
    if head_size < last:
        raise _Problem(
            head_size + 1, f"entries after {head_size} are not covered by the head of the log"
        )
    if head != walk.head:
        raise _Problem(None, "the head of the log does not match its last entry")
