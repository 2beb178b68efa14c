"""``unefois worker``: take the batches of campaigns and CSS renewals from the configured
broker and run them.

``--processes N`` starts N worker processes (each its own ``unefois worker --processes 1``,
each with its services opened once), ``--threads`` the batches each runs at once. Start
as many as wanted, on as many machines as share the database and the broker: a batch goes to
one of them, and back to the queue if that one dies. SIGTERM or SIGINT stops them: the batches
they were running go back to the queue.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from types import FrameType


def utc_now() -> datetime:
    return datetime.now(UTC)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser("worker", help="run campaign and renewal batches from the task broker")
    worker.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    worker.add_argument(
        "--threads", type=int, default=2, help="batches each process runs at once (default 2)"
    )


def check(args: argparse.Namespace, broker_url: str | None) -> str | None:
    """Why these arguments cannot start a worker, or None."""
    if args.processes < 1 or args.threads < 1:
        return "--processes and --threads are 1 or more"
    if not broker_url:
        return "no broker: set UNEFOIS_BROKER_URL (amqp://… or redis://…)"
    return None


def _children(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "cli.main", "worker", "--processes", "1"]
    command += ["--threads", str(args.threads)]
    children = [subprocess.Popen(command) for _ in range(args.processes)]  # noqa: S603

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return max((abs(c) for c in codes), default=0)


def run(args: argparse.Namespace) -> int:
    from runtime.settings import load

    settings = load()
    problem = check(args, settings.broker_url)
    if problem is not None:
        print(f"unefois worker: {problem}", file=sys.stderr)
        return 2
    if args.processes > 1:
        return _children(args)
    from cli.worker_process import serve

    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    serve(settings, args.threads, stop, utc_now)
    return 0
