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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from audit import tables
from audit.chain import GENESIS, leaf_hash, next_head
from audit.checkpoint import Checkpoint, verify_checkpoint
from audit.database import AuditDatabase
from audit.entry import AuditEntry
from audit.errors import InvalidEntry
from audit.ledger import checkpoint_from_row, read_head

CHUNK = 2000
_COLUMNS = ("id", "time", "kind", "client", "purpose", "object", "person", "outcome", "denials")


@dataclass(frozen=True)
class Report:
    """``size``: entries checked and found good (the log's size when ``ok``);
    ``position``: 1-based seq of the first bad entry, if one can be named."""

    ok: bool
    size: int
    checked_checkpoints: int
    position: int | None
    problem: str | None


class _Problem(Exception):
    def __init__(self, position: int | None, problem: str) -> None:
        super().__init__(problem)
        self.position = position
        self.problem = problem


class _Walk:
    """The state of the walk along the chain."""

    def __init__(self, checkpoints: list[Checkpoint]) -> None:
        self.at_size = {cp.size: cp for cp in checkpoints}
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
    db: AuditDatabase, public_keys: Mapping[str, Ed25519PublicKey], *, chunk: int = CHUNK
) -> Report:
    """Check the whole log; the first problem found, or ``ok``."""
    columns = [tables.entries.c[name] for name in ("seq", *_COLUMNS, "canonical", "leaf", "head")]
    walk: _Walk | None = None
    try:
        async with db.snapshot() as conn:
            stored = select(tables.checkpoints).order_by(tables.checkpoints.c.size)
            checkpoints = [checkpoint_from_row(r) for r in (await conn.execute(stored)).all()]
            # A forged checkpoint is a problem whatever the entries say: checked first.
            for checkpoint in checkpoints:
                if not verify_checkpoint(checkpoint, public_keys):
                    raise _Problem(
                        None,
                        f"the checkpoint at size {checkpoint.size} is forged: bad signature "
                        "or unknown key",
                    )
            walk = _Walk(checkpoints)
            head_size, head = await read_head(conn)
            while True:
                query = (
                    select(*columns)
                    .where(tables.entries.c.seq > walk.size)
                    .order_by(tables.entries.c.seq)
                    .limit(chunk)
                )
                rows = (await conn.execute(query)).all()
                for row in rows:
                    walk.step(row)
                if len(rows) < chunk:
                    break
        _check_end(walk, checkpoints, head_size, head)
    except _Problem as found:
        good = 0 if walk is None else walk.size
        if found.position is not None:
            good = min(good, found.position - 1)
        checked = 0 if walk is None else walk.checked
        return Report(False, good, checked, found.position, found.problem)
    return Report(True, walk.size, walk.checked, None, None)


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
