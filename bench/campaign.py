"""Campaign benchmark: ``unefois campaign run --population --benefit rsa`` over the sandbox.

Starts the sandbox agencies as a subprocess, runs the campaign as another (the real CLI, its
settings from the environment, a fresh data directory), and measures its wall time,
persons/s and peak RSS; then ``unefois campaign report --truth-from-sandbox`` gives the
detection precision and recall. Results go to ``bench/results/campaign.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._procs import HOST, _read_urls, _stop, machine

MONTH = "2025-06"
BENEFIT = "rsa"
RECIPIENT = "13002526500013"
SANDBOX = (sys.executable, "-m", "sandbox")
REPORT = ("campaign", "report", "--campaign")
RESULTS = Path(__file__).parent / "results" / "campaign.md"


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
    """``name value`` pairs, from the summary table's lines or the report's one line."""
    words = text.split()
    return dict(zip(words[::2], words[1::2], strict=False))


def measure(size: int, workdir: Path) -> dict[str, str]:
    log = workdir / "sandbox.log"
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*SANDBOX, "--host", HOST, "--port-base", "0", "--size", str(size), "--month", MONTH],
        stdout=subprocess.PIPE,
        stderr=log.open("w", encoding="utf-8"),
        text=True,
    )
    try:
        urls = _read_urls(sandbox, sandbox.stdout, expected=7, timeout=300.0)
        env = _env(urls, workdir / f"data-{size}")
        campaign_log = workdir / f"campaign-{size}.log"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.monotonic()
        out = _unefois(
            ["campaign", "run", "--population", "--benefit", BENEFIT, "--month", MONTH],
            env,
            campaign_log,
        )
        wall = time.monotonic() - start
        # ru_maxrss of children is the largest of any waited-for child: only meaningful if
        # the campaign is the largest so far, which the check below makes sure of.
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = _pairs(out)
        page = workdir / f"report-{size}.html"
        report = _pairs(
            _unefois(
                [*REPORT, f"{BENEFIT}-{MONTH}", "--truth-from-sandbox", "--output", str(page)],
                env,
                campaign_log,
            )
        )
    finally:
        _stop(sandbox)
    examined = int(summary["examined"])
    return {
        **summary,
        **report,
        "size": str(size),
        "wall_s": f"{wall:.1f}",
        "persons_per_s": f"{examined / wall:.1f}",
        "peak_rss_mib": f"{peak / 1024:.0f}" if peak > before else "n/a",
    }


def _fraction(value: str) -> str:
    return "—" if value == "None" else f"{100 * float(value):.1f} %"


def write(rows: list[dict[str, str]], note: str) -> None:
    m = machine()
    lines = [
        "# Campaign benchmark",
        "",
        f"`python -m bench.campaign` — `unefois campaign run --population --benefit {BENEFIT}"
        f" --month {MONTH}` against the sandbox (subprocess, no injected latency), SQLite store"
        " and audit log in a fresh data directory, real clock.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}.",
        "",
        "| sandbox persons | adults examined | fetched | eligible | offers | errors "
        "| wall (s) | persons/s | peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['examined']} | {r['fetched']} | {r['eligible']} "
            f"| {r['offers_created']} | {r['errors']} | {r['wall_s']} | {r['persons_per_s']} "
            f"| {r['peak_rss_mib']} |"
        )
    lines += [
        "",
        "Messages queued in the outbox (e-mail and SMS to the contact details job seekers gave"
        " France Travail, a letter to the tax address when neither is known):",
        "",
        "| sandbox persons | e-mails | SMS | letters |",
        "|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r.get('emails_enqueued', '—')} | {r.get('sms_enqueued', '—')} "
            f"| {r['letters_enqueued']} |"
        )
    lines += [
        "",
        "Detection against the sandbox's known RSA non-claimants (`truth.rsa_non_claimant`)"
        " among the adults the campaign examined:",
        "",
        "| sandbox persons | true positives | false positives | non-claimants | precision "
        "| recall |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['true_positives']} | {r['false_positives']} "
            f"| {r['non_claimants']} | {_fraction(r['precision'])} | {_fraction(r['recall'])} |"
        )
    lines += ["", note, ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000", help="comma-separated population sizes")
    parser.add_argument("--note", default="", help="a paragraph for the results file")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="unefois-bench-campaign-"))
    rows = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        row = measure(size, workdir)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        rows.append(row)
    if not args.no_write:
        write(rows, args.note)
    with contextlib.suppress(OSError):
        print(f"logs in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
