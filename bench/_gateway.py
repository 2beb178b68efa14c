"""``python -m bench._gateway``: the gateway as the benchmarks run it.

The product's own server (``gateway.server``) with two differences: a fixed clock (the
sandbox data describe a fixed month, so "today" must not move with the calendar) and, with
``--profile FILE``, the whole process runs under ``cProfile`` and the statistics are written
to ``FILE`` on exit.
Settings come from the environment, as for ``unefois serve``.
"""

from __future__ import annotations

import argparse
import cProfile
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from audit import AuditEntry, Receipt
from gateway.app import build_app
from gateway.observability import configure_logging
from gateway.server import server_for, tune_gc
from runtime.settings import load


class Discard:
    """An audit sink that keeps nothing: the baseline the audit log's cost is measured from.
    Never a product setting: a gateway that does not record accesses must not serve them."""

    async def append(self, entry: AuditEntry) -> Receipt:
        return Receipt(seq=0, leaf=b"")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench._gateway", description=__doc__)
    parser.add_argument("--today", default="2025-07-10", help="the fixed date, YYYY-MM-DD")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics to this file")
    parser.add_argument(
        "--no-audit",
        action="store_true",
        help="send audit entries nowhere: only to measure what the audit log costs",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load()
    configure_logging(settings.log_level)
    day = datetime.fromisoformat(args.today)
    fixed = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)

    def clock() -> datetime:
        return fixed

    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    sink = Discard() if args.no_audit else None
    server = server_for(build_app(settings, clock=clock, audit_sink=sink), settings)
    tune_gc()
    # uvicorn re-raises the stop signal once it has shut down; with the default handler that
    # would end the process before the profile is written.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run()
    finally:
        if profiler is not None and args.profile is not None:
            profiler.disable()
            profiler.dump_stats(str(args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
