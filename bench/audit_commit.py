"""``python -m bench.audit_commit``: what one SQLite commit of one audit entry costs, by mode.

At concurrency 1 every access waits for a commit of its own (group commit has nothing to
group), so this commit is on the path of every answer. This measures it alone, through the
product's own writer (:class:`audit.writer.SqliteWriter`: ``BEGIN IMMEDIATE``, read the head,
insert the entry, move the head, ``COMMIT``, in the writer's thread), on a log migrated by the
product and filled with ``--preload`` entries first so that the indexes have their depth, for
each of these settings of the writer's connection:

- ``TRUNCATE`` + ``FULL``: the product's setting (docs/audit.md): a rollback journal, every
  commit durable across a power cut;
- ``TRUNCATE`` + ``NORMAL``: ``UNEFOIS_AUDIT_SQLITE_SYNC=normal`` (survives the process being
  killed, not a power cut);
- ``PERSIST`` + ``FULL``: the journal kept and its header zeroed instead of truncated;
- ``TRUNCATE`` + ``FULL`` without the entries table's secondary indexes (what fewer indexes
  would save; the auditors' filters would then scan);
- ``TRUNCATE`` + ``OFF``: no sync at all (SQLite's own work and the page writes, without the
  disk's syncs; never a setting of the product);
- ``WAL`` + ``FULL`` and ``WAL`` + ``NORMAL``: for reference only; WAL maps its index into
  memory, which the product refuses (docs/audit.md, "Files that cannot be written").

Each setting runs ``--rounds`` times, in rotated order, on a fresh file; the cells are medians
over rounds of each round's p50 / p90 of one ``append`` as the caller sees it, and of the
process CPU per commit (``time.process_time``: the writer's thread included).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from audit import migrate, open_database
from audit.chain import leaf_hash
from audit.database import AuditDatabase
from audit.ledger import Prepared
from audit.tables import entries
from audit.writer import SqliteWriter
from bench._procs import machine
from bench.audit import _entry


@dataclass(frozen=True)
class Setting:
    label: str
    journal: str
    synchronous: str
    indexes: bool = True


SETTINGS = (
    Setting("product: TRUNCATE, FULL", "TRUNCATE", "FULL"),
    Setting("TRUNCATE, NORMAL", "TRUNCATE", "NORMAL"),
    Setting("PERSIST, FULL", "PERSIST", "FULL"),
    Setting("TRUNCATE, FULL, no secondary index", "TRUNCATE", "FULL", indexes=False),
    Setting("TRUNCATE, OFF (no sync)", "TRUNCATE", "OFF"),
    Setting("WAL, FULL (reference)", "WAL", "FULL"),
    Setting("WAL, NORMAL (reference)", "WAL", "NORMAL"),
)


@dataclass(frozen=True)
class Round:
    p50_ms: float
    p90_ms: float
    cpu_ms: float


class _SettingWriter(SqliteWriter):
    """The product's writer, its connection then set to the setting measured."""

    def __init__(self, db: AuditDatabase, setting: Setting) -> None:
        super().__init__(db, "FULL")
        self._setting = setting

    def _connection(self) -> sqlite3.Connection:
        fresh = self._conn is None
        conn = super()._connection()
        if fresh:
            # Fixed words of this module's own table, never input.
            conn.execute(f"PRAGMA journal_mode={self._setting.journal}")
            conn.execute(f"PRAGMA synchronous={self._setting.synchronous}")
        return conn


def _prepared(n: int) -> Prepared:
    return Prepared.of(_entry(n), leaf_hash)


def _drop_secondary_indexes(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        for index in entries.indexes:
            conn.execute(f'DROP INDEX "{index.name}"')  # our table's own index names
        conn.commit()
    finally:
        conn.close()


async def _round(setting: Setting, preload: int, commits: int) -> Round:
    with tempfile.TemporaryDirectory(prefix="unefois-bench-commit-") as tmp:
        path = Path(tmp) / "audit.db"
        db = await open_database(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate(db)  # the migration writes the chain's empty head
            if not setting.indexes:
                _drop_secondary_indexes(path)
            writer = _SettingWriter(db, setting)
            try:
                for start in range(0, preload, 500):
                    await writer.append([_prepared(n) for n in range(start, start + 500)])
                batches = [[_prepared(preload + n)] for n in range(commits)]
                latencies = []
                cpu = time.process_time()
                for batch in batches:
                    started = time.perf_counter()
                    await writer.append(batch)
                    latencies.append(time.perf_counter() - started)
                cpu = time.process_time() - cpu
            finally:
                await writer.aclose()
        finally:
            await db.aclose()
    latencies.sort()
    return Round(
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p90_ms=latencies[int(len(latencies) * 0.9)] * 1000,
        cpu_ms=cpu / commits * 1000,
    )


async def run(preload: int, commits: int, rounds: int) -> dict[Setting, list[Round]]:
    results: dict[Setting, list[Round]] = {s: [] for s in SETTINGS}
    for r in range(rounds):
        order = SETTINGS[r % len(SETTINGS) :] + SETTINGS[: r % len(SETTINGS)]
        for setting in order:
            results[setting].append(await _round(setting, preload, commits))
            print(f"round {r + 1}/{rounds}: {setting.label} done", flush=True)
    return results


def report(results: dict[Setting, list[Round]], command: str) -> str:
    base = statistics.median(r.p50_ms for r in results[SETTINGS[0]])
    lines = [
        "# Audit log: one SQLite commit of one entry, by journal and sync mode",
        "",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} · machine: {dict(machine())}",
        "",
        f"Command: `{command}` (see the module's docstring for what each row sets)",
        "",
        "| setting | p50 ms | p90 ms | CPU ms/commit | p50 vs the product's |",
        "|---|---:|---:|---:|---:|",
    ]
    for setting, rounds in results.items():
        p50 = statistics.median(r.p50_ms for r in rounds)
        p90 = statistics.median(r.p90_ms for r in rounds)
        cpu = statistics.median(r.cpu_ms for r in rounds)
        lines.append(f"| {setting.label} | {p50:.2f} | {p90:.2f} | {cpu:.2f} | {p50 - base:+.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_commit", description=__doc__)
    parser.add_argument("--preload", type=int, default=20_000, help="entries written first")
    parser.add_argument("--commits", type=int, default=1000, help="single-entry commits timed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/audit_commit.md"))
    parser.add_argument("--quick", action="store_true", help="1 round, 200 commits, no file")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.commits, args.preload = 1, 200, 2000
    results = asyncio.run(run(args.preload, args.commits, args.rounds))
    command = "python -m bench.audit_commit"
    if not args.quick and (args.preload, args.commits, args.rounds) != (20_000, 1000, 3):
        command += f" --preload {args.preload} --commits {args.commits} --rounds {args.rounds}"
    text = report(results, command)
    print(text)
    if not args.quick:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
