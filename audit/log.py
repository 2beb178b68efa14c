"""The append side of the audit log, with group commit.

Fail-closed (DESIGN §2 step 5): :meth:`AuditLog.append` returns only once its entry is
committed, and raises :class:`AuditUnavailable` otherwise, so the caller releases nothing.
Waiting for a commit per access would cost one transaction (and on SQLite one fsync) per
request; instead concurrent callers put their entries on a queue and one writer task appends
whatever has gathered, up to ``max_batch``, in one transaction, then wakes every caller of
that batch. Under load batches grow on their own; alone, a caller waits for one commit.

If a batch fails, every entry of it fails, and none is written: the transaction is rolled
back whole. A commit whose outcome is unknown (connection lost during COMMIT) is reported as
a failure: the entry may then exist for an answer that was never released, which is the safe
side of the doubt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from audit.chain import leaf_hash
from audit.checkpoint import Checkpoint, CheckpointSigner
from audit.database import AuditDatabase
from audit.entry import AuditEntry
from audit.errors import AuditError, AuditUnavailable
from audit.ledger import Prepared, latest_checkpoint_size, read_head, write_checkpoint
from audit.witness import Witness
from audit.writer import BatchWriter, Synchronous, open_writer

logger = logging.getLogger("audit")

# One caller's entries, committed together, and the future of their receipts.
_Item = tuple[list[Prepared], "asyncio.Future[list[Receipt]]"]


@dataclass(frozen=True)
class Receipt:
    """Where an entry landed: its 1-based position in the chain and its leaf hash."""

    seq: int
    leaf: bytes


class AuditLog:
    """Appends entries to the chain; one instance per process, shared by all requests."""

    def __init__(
        self,
        db: AuditDatabase,
        signer: CheckpointSigner,
        origin: str,
        *,
        clock: Callable[[], datetime],
        checkpoint_every: int = 1000,
        checkpoint_interval: float = 60.0,
        max_batch: int = 500,
        sqlite_synchronous: Synchronous = "FULL",
        witnesses: Sequence[Witness] = (),
    ) -> None:
        self._witnesses = tuple(witnesses)
        self._synchronous: Synchronous = sqlite_synchronous
        if checkpoint_every < 1 or max_batch < 1 or checkpoint_interval <= 0:
            raise ValueError("checkpoint_every, max_batch and checkpoint_interval are positive")
        self._db = db
        self._signer = signer
        self._origin = origin
        self._clock = clock
        self._every = checkpoint_every
        self._interval = checkpoint_interval
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._writer: BatchWriter | None = None
        self._closing = False
        # The chain as this process last wrote it, and the size of the last checkpoint.
        self._written: tuple[int, bytes] | None = None
        self._checkpointed = 0
        self._checkpointed_at = 0.0
        self.batches = 0  # transactions committed: group commit makes this far below appended
        self.appended = 0

    async def start(self) -> None:
        """Start the writer task. Raises :class:`AuditUnavailable` if the database is down."""
        if self._task is not None:
            raise RuntimeError("the audit log is already started")
        self._checkpointed = await latest_checkpoint_size(self._db)
        async with self._db.connection() as conn:
            size, head = await read_head(conn)
        if size > 0:
            # Entries a crash left without a checkpoint, or a log whose witnesses never saw
            # its head (a first start with witnesses): signed and witnessed now, before any
            # new entry, so that the recovered entries do not wait for the next checkpoint.
            await self._checkpoint((size, head))
        self._checkpointed_at = asyncio.get_running_loop().time()
        self._writer = open_writer(self._db, self._synchronous)
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def append(self, entry: AuditEntry) -> Receipt:
        """Log ``entry``; return once it is committed. :class:`AuditUnavailable` if it was not,
        :class:`~audit.errors.InvalidEntry` if it cannot be logged at all."""
        if self._task is None or self._closing or self._task.done():
            raise AuditUnavailable("the audit log is not running")
        (receipt,) = await self.append_many([entry])
        return receipt

    async def append_many(self, entries: Sequence[AuditEntry]) -> list[Receipt]:
        """Log ``entries`` in one transaction, in this order, each chained after the one
        before exactly as separate appends would; return once they are committed. All or
        none: :class:`AuditUnavailable` if the transaction failed."""
        if self._task is None or self._closing or self._task.done():
            raise AuditUnavailable("the audit log is not running")
        if not entries:
            return []
        # Hashing here, in the caller, keeps the writer's critical section to chaining.
        prepared = [Prepared.of(entry, leaf_hash) for entry in entries]
        future: asyncio.Future[list[Receipt]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((prepared, future))
        return await future

    async def checkpoint(self) -> Checkpoint:
        """Sign and store a checkpoint of the chain as the database holds it now, and send it
        to the witnesses."""
        checkpoint = await write_checkpoint(self._db, self._signer, self._origin, self._clock())
        await self._witness(checkpoint)
        return checkpoint

    async def aclose(self) -> None:
        """Write what is queued, checkpoint it, and stop the writer."""
        if self._task is None or self._closing:
            return
        self._closing = True
        self._queue.put_nowait(None)
        await self._task
        if self._writer is not None:
            await self._writer.aclose()

    async def _run(self) -> None:
        try:
            stop = False
            while not stop:
                try:
                    first = await self._wait()
                except TimeoutError:
                    await self._checkpoint_if_due(on_time=True)
                    continue
                batch, stop = self._drain(first)
                await self._commit(batch)
                await self._checkpoint_if_due(on_time=False)
            if self._written is not None and self._written[0] > self._checkpointed:
                await self._checkpoint(self._written)
        finally:
            self._fail_queued()

    async def _wait(self) -> _Item | None:
        """The next queued item (``None``: stop); TimeoutError when a periodic checkpoint
        may be due."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        remaining = self._interval - (asyncio.get_running_loop().time() - self._checkpointed_at)
        return await asyncio.wait_for(self._queue.get(), timeout=max(remaining, 0.001))

    def _drain(self, first: _Item | None) -> tuple[list[_Item], bool]:
        if first is None:
            return [], True
        # Whole groups only: the entries of one ``append_many`` share one transaction, even
        # when that group alone is larger than ``max_batch``.
        batch = [first]
        count = len(first[0])
        while count < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is None:
                return batch, True
            batch.append(item)
            count += len(item[0])
        return batch, False

    async def _commit(self, batch: list[_Item]) -> None:
        if not batch:
            return
        entries = [prepared for group, _ in batch for prepared in group]
        try:
            assert self._writer is not None
            size, head = await self._writer.append(entries)
        except Exception as error:
            # The error's text can quote the statement's values: only its kind is logged.
            logger.error(
                "audit batch of %d entries not written (%s)", len(entries), type(error).__name__
            )
            for _, future in batch:
                if not future.done():
                    # One exception per caller: a shared one would collect their tracebacks.
                    future.set_exception(AuditUnavailable("the audit entry was not written"))
            return
        except BaseException:
            # Cancelled mid-commit: the outcome is unknown, so nobody may release.
            for _, future in batch:
                if not future.done():
                    future.set_exception(AuditUnavailable("the audit log was stopped"))
            raise
        seq = size - len(entries) + 1
        for group, future in batch:
            receipts = [Receipt(seq + offset, p.leaf) for offset, p in enumerate(group)]
            seq += len(group)
            # A caller that gave up (cancelled) leaves a done future; its entries stay written.
            if not future.done():
                future.set_result(receipts)
        self._written = (size, head)
        self.batches += 1
        self.appended += len(entries)

    async def _checkpoint_if_due(self, *, on_time: bool) -> None:
        if self._written is None or self._written[0] <= self._checkpointed:
            if on_time:
                self._checkpointed_at = asyncio.get_running_loop().time()
            return
        elapsed = asyncio.get_running_loop().time() - self._checkpointed_at
        if self._written[0] - self._checkpointed >= self._every or elapsed >= self._interval:
            await self._checkpoint(self._written)

    async def _checkpoint(self, known: tuple[int, bytes]) -> None:
        self._checkpointed_at = asyncio.get_running_loop().time()
        try:
            checkpoint = await write_checkpoint(
                self._db, self._signer, self._origin, self._clock(), known
            )
        except Exception as error:
            # The entries are committed already; the next checkpoint will cover them.
            logger.warning(
                "audit checkpoint at size %d not written (%s)", known[0], type(error).__name__
            )
            return
        self._checkpointed = known[0]
        await self._witness(checkpoint)

    async def _witness(self, checkpoint: Checkpoint) -> None:
        for witness in self._witnesses:
            try:
                await witness.add(checkpoint)
            except AuditError as error:
                # Logged for the operators' alerts; the next checkpoint is sent again.
                logger.warning("audit checkpoint at size %d: %s", checkpoint.size, error)
            except Exception as error:
                # The writer task must outlive a witness's bug; its text may hold anything.
                logger.warning(
                    "audit checkpoint at size %d not witnessed (%s)",
                    checkpoint.size,
                    type(error).__name__,
                )

    def _fail_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if item is not None and not item[1].done():
                item[1].set_exception(AuditUnavailable("the audit log is not running"))
