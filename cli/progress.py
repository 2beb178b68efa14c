"""Progress bars for the long commands: a total, a rate and an estimated time left, on the
standard error stream, and nothing at all when that stream is not a terminal (CI, a log
file, a pipe), so that the output a script reads stays the counts the command prints.

Counts only: a bar says how many persons or messages are done, never which.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from store import Database, OutboxStore

T = TypeVar("T")


class Bar:
    """One task's bar: ``done`` out of ``total`` (None: not known, no estimate), with a short
    text of counts after it. Use it as a context manager; it draws only on a terminal."""

    def __init__(self, description: str, total: int | None, stream: TextIO) -> None:
        self.enabled = stream.isatty()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("restant"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=Console(file=stream, force_terminal=self.enabled),
            disable=not self.enabled,
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(description, total=total, counts="")

    def __enter__(self) -> Bar:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, done: int, counts: str = "") -> None:
        self._progress.update(self._task, completed=done, counts=counts)

    def advance(self, step: int = 1) -> None:
        self._progress.advance(self._task, step)

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, the bar advancing as each one is taken."""
        for item in items:
            yield item
            self.advance()


class CountedOutbox(OutboxStore):
    """The outbox, advancing ``bar`` once per message the dispatcher settles: each one is
    marked sent or failed exactly once per pass."""

    def __init__(self, database: Database, bar: Bar) -> None:
        super().__init__(database)
        self._bar = bar

    async def mark_sent(self, message_id: str, at: datetime) -> None:
        await super().mark_sent(message_id, at)
        self._bar.advance()

    async def mark_failed(
        self, message_id: str, error_kind: str, next_attempt_at: datetime, dead: bool
    ) -> None:
        await super().mark_failed(message_id, error_kind, next_attempt_at, dead)
        self._bar.advance()
