"""Campaign benchmark: ``unefois campaign run --population --benefit B`` over the sandbox, for
each of the RSA, the prime d'activité, the ASPA and the CSS.

Starts the sandbox agencies as a subprocess (its generated population only: the scenario
households are golden cases, not a population), runs one campaign per benefit as another (the
real CLI, its settings from the environment, one fresh data directory per size), and measures
each run's wall time, persons/s and peak RSS; then one ``unefois campaign report
--truth-from-sandbox`` over the four campaigns gives precision and recall per benefit against
the sandbox's ground truth. Results go to ``bench/results/campaign.md``.
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
BENEFITS = ("rsa", "ppa", "aspa", "css")
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
    """``name value`` pairs, from the summary table's lines or one line of the report."""
    words = text.split()
    return dict(zip(words[::2], words[1::2], strict=False))


def measure(size: int, workdir: Path, benefits: tuple[str, ...]) -> list[dict[str, str]]:
    """One row per benefit: the campaign's summary, timings and detection quality."""
    log = workdir / "sandbox.log"
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            *SANDBOX,
            *("--host", HOST, "--port-base", "0", "--size", str(size), "--month", MONTH),
            *("--scenarios", "none"),
        ],
        stdout=subprocess.PIPE,
        stderr=log.open("w", encoding="utf-8"),
        text=True,
    )
    rows = []
    try:
        urls = _read_urls(sandbox, sandbox.stdout, expected=7, timeout=600.0)
        env = _env(urls, workdir / f"data-{size}")
        campaign_log = workdir / f"campaign-{size}.log"
        for benefit in benefits:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.monotonic()
            out = _unefois(
                ["campaign", "run", "--population", "--benefit", benefit, "--month", MONTH],
                env,
                campaign_log,
            )
            wall = time.monotonic() - start
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
                    "peak_rss_mib": f"{peak / 1024:.0f}" if peak > before else "n/a",
                }
            )
        page = workdir / f"report-{size}.html"
        campaigns = [a for b in benefits for a in ("--campaign", f"{b}-{MONTH}")]
        named = [a for b in benefits for a in ("--benefit", b)]
        output = ("--truth-from-sandbox", "--output", str(page))
        report = _unefois(
            ["campaign", "report", *campaigns, *named, *output],
            env,
            campaign_log,
        )
    finally:
        _stop(sandbox)
    quality = {p["benefit"]: p for p in map(_pairs, report.splitlines()) if "benefit" in p}
    for row in rows:
        row.update({k: v for k, v in quality[row["benefit"]].items() if k != "offers"})
    return rows


def _fraction(value: str) -> str:
    return "—" if value == "None" else f"{100 * float(value):.1f} %"


def write(rows: list[dict[str, str]], note: str) -> None:
    m = machine()
    lines = [
        "# Campaign benchmark",
        "",
        "`python -m bench.campaign` — `unefois campaign run --population --benefit B --month"
        f" {MONTH}` for each benefit B against the sandbox's generated population (subprocess,"
        " no injected latency, `--scenarios none`), SQLite store and audit log in a fresh data"
        " directory per size (the four campaigns share it), real clock.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}.",
        "",
        "| sandbox persons | benefit | adults examined | fetched | eligible | offers "
        "| skipped (receiving) | skipped (incomplete) | errors | wall (s) | persons/s "
        "| peak RSS (MiB) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['benefit']} | {r['examined']} | {r['fetched']} "
            f"| {r['eligible']} | {r['offers_created']} | {r['skipped_receiving']} "
            f"| {r['skipped_incomplete']} | {r['errors']} | {r['wall_s']} "
            f"| {r['persons_per_s']} | {r['peak_rss_mib']} |"
        )
    lines += [
        "",
        "Messages queued in the outbox (e-mail and SMS to the contact details job seekers gave"
        " France Travail, a letter to the tax address when neither is known):",
        "",
        "| sandbox persons | benefit | e-mails | SMS | letters |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['benefit']} | {r.get('emails_enqueued', '—')} "
            f"| {r.get('sms_enqueued', '—')} | {r['letters_enqueued']} |"
        )
    lines += [
        "",
        "Detection per benefit against the sandbox's ground truth (`truth.<benefit>_non_claimant`:"
        " the law, OpenFisca-France over each household's true facts, and the non-take-up"
        " draw; docs/sandbox.md, Ground truth). Recall's denominator is the known"
        " non-claimants among the adults the campaign examined:",
        "",
        "| sandbox persons | benefit | true positives | false positives | non-claimants "
        "| precision | recall |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['benefit']} | {r['true_positives']} | {r['false_positives']} "
            f"| {r['non_claimants']} | {_fraction(r['precision'])} | {_fraction(r['recall'])} |"
        )
    lines += ["", note, ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000", help="comma-separated population sizes")
    parser.add_argument(
        "--benefits", default=",".join(BENEFITS), help="comma-separated benefits, in order"
    )
    parser.add_argument("--note", default="", help="a paragraph for the results file")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="unefois-bench-campaign-"))
    benefits = tuple(b for b in args.benefits.split(",") if b)
    rows = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        for row in measure(size, workdir, benefits):
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            rows.append(row)
    if not args.no_write:
        write(rows, args.note)
    with contextlib.suppress(OSError):
        print(f"logs in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
