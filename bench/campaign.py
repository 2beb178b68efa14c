"""Campaign benchmark: ``unefois campaign run --population --benefit B`` over the sandbox, for
each of the RSA, the prime d'activité, the ASPA and the CSS.

Starts the sandbox agencies as a subprocess (its generated population only: the scenario
households are golden cases, not a population), runs one campaign per benefit as another (the
real CLI, its settings from the environment, one fresh data directory per size), and measures
each run's wall time, adults examined per second, CPU per adult (the campaign process and the
sandbox's) and peak RSS; then one ``unefois campaign report
--truth-from-sandbox`` over the four campaigns gives precision and recall per benefit against
the sandbox's ground truth. Results go to ``bench/results/campaign.md``.

With ``--workers N,…`` each campaign runs on the engine instead: N ``unefois worker``
processes on a PostgreSQL schema and RabbitMQ namespace of its own, the coordinator
``campaign run`` enqueuing and waiting (``bench/_campaign_workers.py``); results go to
``bench/results/campaign-workers.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._campaign_workers import engine
from bench._procs import HOST, _read_urls, _stop, machine

MONTH = "2025-06"
BENEFITS = ("rsa", "ppa", "aspa", "css")
RECIPIENT = "13002526500013"
SANDBOX = (sys.executable, "-m", "sandbox")
REPORT = ("campaign", "report", "--campaign")
RESULTS = Path(__file__).parent / "results" / "campaign.md"
WORKERS_RESULTS = RESULTS.with_name("campaign-workers.md")


def _env(urls: dict[str, str], data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "UNEFOIS_DATA_DIR": str(data_dir),
        "UNEFOIS_CAMPAIGN_RECIPIENT": RECIPIENT,
        "UNEFOIS_LOG_LEVEL": "WARNING",
    }
    for name, url in urls.items():
        env[f"UNEFOIS_{name.upper()}_URL"] = url
    return env


def _unefois(args: list[str], env: dict[str, str], log: Path) -> str:
    command = [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())"]
    with log.open("a", encoding="utf-8") as errors:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*command, *args], env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
    if done.returncode != 0:
        raise RuntimeError(f"unefois {args[0]} {args[1]} exited with {done.returncode}")
    return done.stdout


def _pairs(text: str) -> dict[str, str]:
    """``name value`` pairs, from the summary table's lines or one line of the report."""
    words = text.split()
    return dict(zip(words[::2], words[1::2], strict=False))


def _cpu_seconds(pid: int) -> float:
    """User and system CPU a running process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _report(
    size: int, benefits: tuple[str, ...], env: dict[str, str], workdir: Path, log: Path
) -> str:
    """``campaign report --truth-from-sandbox`` over the benefits' campaigns: its output."""
    page = workdir / f"report-{size}.html"
    campaigns = [a for b in benefits for a in ("--campaign", f"{b}-{MONTH}")]
    named = [a for b in benefits for a in ("--benefit", b)]
    output = ("--truth-from-sandbox", "--output", str(page))
    return _unefois(["campaign", "report", *campaigns, *named, *output], env, log)


def measure(
    size: int,
    workdir: Path,
    benefits: tuple[str, ...],
    latency_ms: float = 0.0,
    workers: int = 0,
    threads: int = 2,
    batch: int | None = None,
) -> list[dict[str, str]]:
    """One row per benefit: the campaign's summary, timings and detection quality. With
    ``workers`` (1 or more), the campaign's batches go to that many ``unefois worker``
    processes on PostgreSQL and RabbitMQ; else it runs in its own process on SQLite."""
    log = workdir / "sandbox.log"
    faults = workdir / "faults.yaml"
    faults.write_text(f'"*":\n  latency_ms: {latency_ms}\n', encoding="utf-8")
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            *SANDBOX,
            *("--host", HOST, "--port-base", "0", "--size", str(size), "--month", MONTH),
            *("--scenarios", "none", "--faults", str(faults)),
        ],
        stdout=subprocess.PIPE,
        stderr=log.open("w", encoding="utf-8"),
        text=True,
    )
    rows = []
    reports = []
    try:
        urls = _read_urls(sandbox, sandbox.stdout, expected=7, timeout=600.0)
        env = _env(urls, workdir / f"data-{size}")
        batching = ["--batch", str(batch)] if batch else []
        campaign_log = workdir / f"campaign-{size}.log"
        for benefit in benefits:
            with contextlib.ExitStack() as stack:
                running = None
                if workers:
                    # Fresh workers, schema and data directory per campaign: a worker keeps
                    # the agencies' answers in its cache, which would answer the next
                    # campaign's calls.
                    where = workdir / benefit
                    where.mkdir()
                    running = stack.enter_context(
                        engine(where, _env(urls, where / "data"), workers, threads)
                    )
                    env = running.env
                workers_cpu = running.cpu() if running is not None else 0.0
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                sandbox_cpu = _cpu_seconds(sandbox.pid)
                start = time.monotonic()
                out = _unefois(
                    [
                        *("campaign", "run", "--population", "--benefit", benefit),
                        *("--month", MONTH, *batching),
                    ],
                    env,
                    campaign_log,
                )
                wall = time.monotonic() - start
                sandbox_cpu = _cpu_seconds(sandbox.pid) - sandbox_cpu
                workers_cpu = running.cpu() - workers_cpu if running is not None else 0.0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                # The campaign process and the evaluation processes it started.
                campaign_cpu = (after.ru_utime + after.ru_stime) - (
                    children.ru_utime + children.ru_stime
                )
                # ru_maxrss of children is the largest of any waited-for child: only meaningful
                # if this campaign is the largest so far, which the check below makes sure of.
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                summary = _pairs(out)
                examined = int(summary["examined"])
                rows.append(
                    {
                        **summary,
                        "benefit": benefit,
                        "size": str(size),
                        "wall_s": f"{wall:.1f}",
                        "persons_per_s": f"{examined / wall:.1f}",
                        "latency_ms": f"{latency_ms:g}",
                        "campaign_cpu_ms": f"{1000 * campaign_cpu / max(examined, 1):.2f}",
                        "sandbox_cpu_ms": f"{1000 * sandbox_cpu / max(examined, 1):.2f}",
                        "workers": str(workers) if workers else "in-process",
                        "threads": str(threads) if workers else "—",
                        "workers_cpu_ms": f"{1000 * workers_cpu / max(examined, 1):.2f}"
                        if workers
                        else "—",
                        "peak_rss_mib": f"{peak / 1024:.0f}" if peak > before else "n/a",
                    }
                )
                if running is not None:
                    reports.append(_report(size, (benefit,), env, where, campaign_log))
        if not workers:
            reports.append(_report(size, benefits, env, workdir, campaign_log))
    finally:
        _stop(sandbox)
    report = "\n".join(reports)
    quality = {p["benefit"]: p for p in map(_pairs, report.splitlines()) if "benefit" in p}
    for row in rows:
        row.update({k: v for k, v in quality[row["benefit"]].items() if k != "offers"})
    return rows


def _fraction(value: str) -> str:
    return "—" if value == "None" else f"{100 * float(value):.1f} %"


def write(rows: list[dict[str, str]], note: str, output: Path = RESULTS) -> None:
    m = machine()
    lines = [
        "# Campaign benchmark",
        "",
        "`python -m bench.campaign` — `unefois campaign run --population --benefit B --month"
        f" {MONTH}` for each benefit B against the sandbox's generated population (subprocess,"
        " `--latency-ms` added by the sandbox to every agency answer, `--scenarios none`),"
        " SQLite store and audit log in a fresh data"
        " directory per size (the four campaigns share it), real clock.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}.",
        "",
        "| sandbox persons | latency (ms) | benefit | adults examined | skipped (age, unread) "
        "| fetched | eligible | offers | skipped (receiving) | skipped (incomplete) | errors "
        "| wall (s) | adults/s | CPU ms/adult (campaign) | CPU ms/adult (sandbox) "
        "| peak RSS (MiB) |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['latency_ms']} | {r['benefit']} | {r['examined']} "
            f"| {r.get('skipped_age', '0')} "
            f"| {r['fetched']} | {r['eligible']} | {r['offers_created']} "
            f"| {r['skipped_receiving']} | {r['skipped_incomplete']} | {r['errors']} "
            f"| {r['wall_s']} | {r['persons_per_s']} | {r['campaign_cpu_ms']} "
            f"| {r['sandbox_cpu_ms']} | {r['peak_rss_mib']} |"
        )
    lines += [
        "",
        "Messages queued in the outbox (e-mail and SMS to the contact details job seekers gave"
        " France Travail, a letter to the tax address when neither is known):",
        "",
        "| sandbox persons | latency (ms) | benefit | e-mails | SMS | letters |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['latency_ms']} | {r['benefit']} "
            f"| {r.get('emails_enqueued', '—')} "
            f"| {r.get('sms_enqueued', '—')} | {r['letters_enqueued']} |"
        )
    lines += [
        "",
        "Detection per benefit against the sandbox's ground truth (`truth.<benefit>_non_claimant`:"
        " the law, OpenFisca-France over each household's true facts, and the non-take-up"
        " draw; docs/sandbox.md, Ground truth). Recall's denominator is the known"
        " non-claimants among the adults the campaign examined:",
        "",
        "| sandbox persons | latency (ms) | benefit | true positives | false positives "
        "| non-claimants | precision | recall |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['latency_ms']} | {r['benefit']} | {r['true_positives']} "
            f"| {r['false_positives']} "
            f"| {r['non_claimants']} | {_fraction(r['precision'])} | {_fraction(r['recall'])} |"
        )
    lines += ["", note, ""]
    output.write_text("\n".join(lines), encoding="utf-8")


def write_workers(rows: list[dict[str, str]], note: str, output: Path) -> None:
    m = machine()
    lines = [
        "# Campaign benchmark: in-process and on engine workers",
        "",
        "`python -m bench.campaign --workers N,…` — `unefois campaign run --population --benefit B"
        f" --month {MONTH}` against the sandbox's generated population (subprocess,"
        " `--latency-ms` added to every agency answer, `--scenarios none`). With N workers: a"
        " fresh PostgreSQL schema, RabbitMQ namespace and data directory per campaign, N `unefois"
        " worker --processes 1` processes started (and consuming) before the coordinator, which"
        " plans, enqueues and"
        " waits; wall time from the coordinator's start to its end. In-process: SQLite, one"
        " process, as `bench/results/campaign.md`.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}.",
        "",
        "| sandbox persons | latency (ms) | benefit | workers | threads | adults examined "
        "| eligible | offers | errors | wall (s) | adults/s "
        "| CPU ms/adult (coordinator or in-process) "
        "| CPU ms/adult (workers) | CPU ms/adult (sandbox) | precision | recall |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['latency_ms']} | {r['benefit']} | {r['workers']} "
            f"| {r['threads']} | {r['examined']} | {r['eligible']} | {r['offers_created']} "
            f"| {r['errors']} | {r['wall_s']} | {r['persons_per_s']} | {r['campaign_cpu_ms']} "
            f"| {r['workers_cpu_ms']} | {r['sandbox_cpu_ms']} "
            f"| {_fraction(r['precision'])} | {_fraction(r['recall'])} |"
        )
    lines += ["", note, ""]
    output.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000", help="comma-separated population sizes")
    parser.add_argument(
        "--benefits", default=",".join(BENEFITS), help="comma-separated benefits, in order"
    )
    parser.add_argument(
        "--latency-ms",
        default="0",
        help="comma-separated latencies (ms) the sandbox adds to every agency answer",
    )
    parser.add_argument(
        "--workers",
        default="",
        help="comma-separated numbers of `unefois worker` processes (0: in-process); results"
        f" to {WORKERS_RESULTS.name}",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process")
    parser.add_argument("--batch", type=int, help="persons per batch (default: the product's)")
    parser.add_argument("--note", default="", help="a paragraph for the results file")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", type=Path, help="the results file")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C: workers stopped, schema and queues removed, sandbox stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    workdir = Path(tempfile.mkdtemp(prefix="unefois-bench-campaign-"))
    benefits = tuple(b for b in args.benefits.split(",") if b)
    rows = []
    latencies = [float(x) for x in args.latency_ms.split(",") if x]
    counts = [int(n) for n in args.workers.split(",") if n] or [0]
    for size in sorted(int(s) for s in args.sizes.split(",")):
        for latency in latencies:
            for workers in counts:
                where = workdir / f"latency-{latency:g}-workers-{workers}"
                where.mkdir()
                done = measure(size, where, benefits, latency, workers, args.threads, args.batch)
                for row in done:
                    print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
                    print(
                        f"{row['benefit']}: {row['persons_per_s']} adults/s at {latency:g} ms,"
                        f" workers {row['workers']}",
                        file=sys.stderr,
                        flush=True,
                    )
                    rows.append(row)
                # Written after each run: a long bench cut short keeps what it measured.
                if not args.no_write:
                    if args.workers:
                        write_workers(rows, args.note, args.output or WORKERS_RESULTS)
                    else:
                        write(rows, args.note, args.output or RESULTS)
    with contextlib.suppress(OSError):
        print(f"logs in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
