"""``python -m bench.workers``: the full person view through ``unefois serve`` with
``UNEFOIS_WORKERS`` 1 and 2, on PostgreSQL, to see what a second process per machine buys.

Starts the sandbox agencies (every agency answering after ``--latency-ms``), then for each
run a fresh PostgreSQL schema and data directory and ``unefois serve`` (the product's command,
on the real clock, the sandbox describing the previous month). Each run: a warm-up, then
``--requests`` full person queries at concurrency 64, each for a person not asked before in
that run (cache misses: every answer fans out to the agencies). Runs alternate 1, 2, 1, 2 …
(``--rounds``) so that other work on the machine weighs on both. Writes
``bench/results/workers.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg

from bench._catalogue import bench_catalogue
from bench._procs import HOST, Stack, cpu_seconds, free_port, machine
from bench.fanout import Load, Phase, get_token, load_persons
from gateway.clients import ensure_default_clients

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WARMUP = 64
CONCURRENCY = 64
START_TIMEOUT = 600.0  # each worker warms a rules pool; slow on a loaded machine
_STARTED = "Application startup complete."
_LOAD_AVERAGE = re.compile(r"^([0-9.]+) ([0-9.]+) ([0-9.]+)")


def previous_month(now: datetime) -> str:
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def load_average() -> str:
    with open("/proc/loadavg", encoding="ascii") as source:
        found = _LOAD_AVERAGE.match(source.read())
    return found.group(1) if found else "?"


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and every process under it (workers, their rules pools)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += cpu_seconds(current)
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as kids:
                pending += [int(child) for child in kids.read().split()]
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Run:
    workers: int
    phase: Phase
    gateway_cpu_ms: float  # per request, the whole process tree
    load_before: str
    load_after: str


class Gateway:
    """``unefois serve`` on a fresh schema and data directory."""

    def __init__(self, workdir: Path, urls: dict[str, str], workers: int) -> None:
        self.workers = workers
        self.schema = "bench_workers_" + uuid.uuid4().hex[:10]
        self.dir = workdir / f"run-{self.schema}"
        self.dir.mkdir()
        port = free_port()
        self.url = f"http://{HOST}:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("UNEFOIS_")}
        env |= {
            "UNEFOIS_HOST": HOST,
            "UNEFOIS_PORT": str(port),
            "UNEFOIS_DATA_DIR": str(self.dir / "data"),
            "UNEFOIS_CLIENTS_FILE": str(self.dir / "clients.yaml"),
            "UNEFOIS_DATABASE_URL": POSTGRES,
            "UNEFOIS_DATABASE_SCHEMA": self.schema,
            "UNEFOIS_WORKERS": str(workers),
            "UNEFOIS_ELIGIBILITY_WORKERS": "1",  # not asked here
            "UNEFOIS_LOG_LEVEL": "INFO",
            "UNEFOIS_RATE_LIMIT": "1000000",
            "UNEFOIS_RATE_BURST": "1000000",
            "UNEFOIS_POLICIES_DIR": str(bench_catalogue(self.dir)),
        }
        for name, url in urls.items():
            env[f"UNEFOIS_{name.upper()}_URL"] = url
        secret = ensure_default_clients(self.dir / "clients.yaml")
        if secret is None:
            raise RuntimeError("the run's clients file already existed")
        self.secret = secret
        self.log = self.dir / "gateway.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "serve"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"unefois serve exited ({self.process.returncode})")
            text = self.log.read_text(encoding="utf-8", errors="replace")
            if text.count(_STARTED) >= self.workers:
                return
            time.sleep(0.5)
        raise RuntimeError("unefois serve did not start every worker")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


async def drop_schema(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def measure(gateway: Gateway, bodies: Sequence[bytes], requests: int) -> Run:
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        load = Load(session, gateway.url, await get_token(session, gateway.url, gateway.secret))
        fresh = iter(bodies)
        warm = await load.run(itertools.islice(fresh, WARMUP), WARMUP, 16)
        if warm.errors:
            print(f"warm-up errors: {warm.errors} {warm.error_codes}", file=sys.stderr)
        before = load_average()
        cpu_before = tree_cpu(gateway.process.pid)
        phase = await load.run(itertools.islice(fresh, requests), requests, CONCURRENCY)
        cpu = tree_cpu(gateway.process.pid) - cpu_before
        phase.name = f"miss@c{CONCURRENCY}"
    n = max(phase.requests, 1)
    return Run(gateway.workers, phase, cpu * 1000 / n, before, load_average())


def row(run: Run) -> str:
    p = run.phase
    return (
        f"| {run.workers} | {p.requests} | {p.errors} | {p.p50_ms:.0f} | {p.p90_ms:.0f} "
        f"| {p.p99_ms:.0f} | {p.rps:.1f} | {run.gateway_cpu_ms:.1f} "
        f"| {run.load_before} → {run.load_after} |"
    )


HEADER = (
    "| workers | requests | errors | p50 ms | p90 ms | p99 ms | req/s "
    "| gateway CPU ms/req (all its processes) | load average (1 min) before → after |"
)
RULE = "|---:|---:|---:|---:|---:|---:|---:|---:|---|"


def markdown(runs: Sequence[Run], args: argparse.Namespace, month: str, started: datetime) -> str:
    info = machine()
    by_workers: dict[int, list[float]] = {}
    for run in runs:
        by_workers.setdefault(run.workers, []).append(run.phase.rps)
    medians = {w: statistics.median(values) for w, values in sorted(by_workers.items())}
    ratio = medians[2] / medians[1] if medians.get(1) else 0.0
    lines = [
        "# Workers benchmark: the full person view with 1 and 2 processes",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} RAM",
        f"- OS: {info['os']}; Python {info['python']}",
        "- Command: `python -m bench.workers"
        + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
        + "`",
        f"- Sandbox: {args.persons} persons, month {month}, every agency answering after "
        f"{args.latency_ms:g} ms; `unefois serve` on the real clock, PostgreSQL (a fresh schema "
        "per run), log level INFO, audit log on PostgreSQL, one rules worker per process "
        "(not asked here)",
        "- Query: every field of the person view (as `bench.fanout`), one person per request, "
        f"none asked twice in a run (cache misses); {WARMUP} warm-up requests, then "
        f"{args.requests} at concurrency {CONCURRENCY}",
        "- The sandbox, the gateway's processes, PostgreSQL and the load generator share the "
        "two cores. Runs alternate between 1 and 2 workers. The load average shows the other "
        "work on the machine while each run was measured.",
        "",
        HEADER,
        RULE,
        *(row(run) for run in runs),
        "",
        *(
            [
                "First error codes seen: "
                + "; ".join(
                    f"run {i} ({r.workers} worker{'s' if r.workers > 1 else ''}): "
                    + ", ".join(r.phase.error_codes)
                    for i, r in enumerate(runs, start=1)
                    if r.phase.error_codes
                ),
                "",
            ]
            if any(r.phase.error_codes for r in runs)
            else []
        ),
        "Median throughput: "
        + ", ".join(f"{w} worker{'s' if w > 1 else ''} {m:.1f} req/s" for w, m in medians.items())
        + f" (2 workers / 1 worker: {ratio:.2f}).",
        "",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each worker count")
    parser.add_argument("--persons", type=int, default=10_000, help="sandbox population size")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added upstream latency")
    parser.add_argument("--out", type=Path, help="default bench/results/workers.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = datetime.now(UTC)
    month = previous_month(started)
    out: Path = args.out or Path(__file__).parent / "results" / "workers.md"
    workdir = Path(tempfile.mkdtemp(prefix="unefois-bench-workers-"))
    sandbox = Stack(size=args.persons, month=month, latency_ms=args.latency_ms, today="")
    sandbox.workdir = workdir
    runs: list[Run] = []
    try:
        print(f"starting the sandbox ({args.persons} persons, month {month}) …", flush=True)
        sandbox._start_sandbox()
        bodies = asyncio.run(_bodies(sandbox.urls["civil_registry"]))
        if len(bodies) < WARMUP + args.requests:
            raise SystemExit(f"{len(bodies)} usable persons: raise --persons or lower --requests")
        print(HEADER)
        print(RULE, flush=True)
        for workers in [1, 2] * args.rounds:
            gateway = Gateway(workdir, sandbox.urls, workers)
            try:
                gateway.wait_started()
                run = asyncio.run(measure(gateway, bodies, args.requests))
            finally:
                gateway.stop()
                asyncio.run(drop_schema(gateway.schema))
            runs.append(run)
            print(row(run), flush=True)
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # keys and clients files of the runs
    out.write_text(markdown(runs, args, month, started), encoding="utf-8")
    print(f"written: {out}")
    return 0


async def _bodies(registry_url: str) -> list[bytes]:
    async with aiohttp.ClientSession() as session:
        return await load_persons(session, registry_url)


if __name__ == "__main__":
    sys.exit(main())
