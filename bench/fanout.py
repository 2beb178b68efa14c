"""``python -m bench.fanout``: the full person view over all agencies, with upstream latency.

Starts the sandbox agencies (every agency answering after ``--latency-ms``) and the gateway,
each as its own process on loopback, then measures four phases: cache miss and cache hit, at
concurrency 1 and 64. For each: latency percentiles, requests per second, errors, and the CPU
the gateway process spent per request. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import pstats
import re
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench._catalogue import PURPOSE
from bench._procs import Stack, cpu_seconds, machine
from gateway.server import graphql_identity
from sandbox import AGENCIES

_FIELDS = """
 identity { birthName usageName givenNames sex birthDate birthPlace birthCountry deathDate
  provenance { agency source asOf retrievedAt cached } }
 address { lines postalCode city cogCommune country provenance { agency asOf } }
 household { regime familyQuotient year month claimants { birthName givenNames birthDate sex }
  children { birthName givenNames birthDate } address { lines city }
  provenance { agency source asOf cached } }
 resources(months: 3) { months { month netSocial netTaxable
  payments { payerSiret payerKind nature netSocial netTaxable } } missingMonths
  provenance { agency asOf } }
 taxHousehold { incomeYear referenceTaxIncome taxShares maritalStatus dependants
  declarants { birthName givenNames } address { lines city } provenance { agency asOf } }
 benefits {
  rsa { benefit receiving since withIncrease provenance { agency source } }
  primeActivite { receiving since provenance { agency } }
  aah { receiving provenance { agency } }
  asf { receiving provenance { agency } }
  css { receiving withParticipation since until provenance { agency } }
  aspa { receiving monthlyAmount since provenance { agency } }
  housingAid { receiving kind monthlyAmount provenance { agency } } }
 pension { pensions { scheme kind monthlyGross monthlyNet since } provenance { agency } }
 healthCoverage { fundCode fundLabel cssReceiving cssWithParticipation cssSince
  cssRenewalDate provenance { agency } }
 housing { occupancy monthlyRent monthlyCharges cogCommune zone
  rentHistory { month rent charges } aidReceiving aidKind aidMonthly provenance { agency asOf } }
"""
_EMPLOYMENT = """
 employment {
  status { identifier registered registeredSince categoryCode categoryLabel
   provenance { agency } }
  payments { identifier payments { date gross kind } provenance { agency } } }
"""
_OPEN = "query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {"
# Every field of the person view. France Travail is asked by its identifier only, so the
# employment block goes to the persons registered there; the others get the rest.
FULL_QUERY = _OPEN + _FIELDS + _EMPLOYMENT + "} }"
QUERY_WITHOUT_EMPLOYMENT = _OPEN + _FIELDS + "} }"
RECIPIENT = "13002526500013"
DEMO_CLIENT = "demo-agency-app"
HIT_SET = 128  # persons warmed for the cache-hit phases
WARMUP = 32  # requests before measuring: connection pools, upstream tokens, parser caches

TARGETS = {
    "p50_c1_over_upstream_ms": 5.0,
    # The peer comparison's (bench/README.md): at concurrency 1, what the gateway adds to
    # each request's own slowest agency call (its Server-Timing header), at the median.
    "p50_c1_added_ms": 3.0,
    "cpu_miss_ms": 4.0,
    "cpu_hit_ms": 1.5,
}


# ── the persons ───────────────────────────────────────────────────────────────────────


def person_variables(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``ref`` variable of a person from the sandbox's ``/_sandbox/persons`` entry."""
    identity = graphql_identity(entry["personne"])
    ref: dict[str, Any] = {"identity": identity}
    if entry.get("identifiant_france_travail"):
        ref["franceTravailId"] = entry["identifiant_france_travail"]
    return ref


def usable(entry: dict[str, Any]) -> bool:
    """Adults every agency knows unambiguously: the view is complete, with no typed error.

    Children (no tax household, no address of their own), homonyms, deceased persons and
    persons unknown to the CAF rightly answer partial data with typed errors; they would count
    as errors here, so they are left out.
    """
    return entry["role"] == "adult" and not (
        entry["deceased"] or entry["unknown_to_caf"] or entry["homonym_of"] is not None
    )


async def usable_persons(
    session: aiohttp.ClientSession, registry_url: str
) -> list[tuple[int, dict[str, Any]]]:
    """Every usable sandbox person's entry, with its number in the sandbox's order."""
    found: list[tuple[int, dict[str, Any]]] = []
    offset = 0
    while True:
        url = f"{registry_url}/_sandbox/persons?offset={offset}&limit=1000"
        async with session.get(url) as answer:
            answer.raise_for_status()
            page = await answer.json()
        data = page["data"]
        found += [(n, entry) for n, entry in enumerate(data, start=offset) if usable(entry)]
        offset += len(data)
        if not data or offset >= page["meta"]["total"]:
            return found


async def load_persons(session: aiohttp.ClientSession, registry_url: str) -> list[bytes]:
    """Every usable sandbox person, each as a ready request body (sandbox order)."""
    bodies: list[bytes] = []
    for number, entry in await usable_persons(session, registry_url):
        variables = {
            "ref": person_variables(entry),
            "ctx": {"purpose": PURPOSE, "recipient": RECIPIENT, "object": f"b-{number}"},
        }
        query = FULL_QUERY if entry.get("identifiant_france_travail") else QUERY_WITHOUT_EMPLOYMENT
        bodies.append(orjson.dumps({"query": query, "variables": variables}))
    return bodies


# ── the load ──────────────────────────────────────────────────────────────────────────


@dataclass
class Phase:
    name: str
    cache: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    error_codes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    rps: float = 0.0
    gateway_cpu_ms: float = 0.0  # per request
    sandbox_cpu_ms: float = 0.0  # per request
    loadgen_cpu_ms: float = 0.0  # per request
    upstream_ms: dict[str, float] = field(default_factory=dict)  # mean source call, per agency
    source_calls: float = 0.0  # successful source calls per request
    # Per request, from its Server-Timing header: its slowest agency call, and the answer's
    # latency beyond it (what the gateway adds on the request's path); medians and p90.
    slowest_p50_ms: float = 0.0
    added_p50_ms: float = 0.0
    added_p90_ms: float = 0.0


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


_CODE = re.compile(rb'"code"\s*:\s*"([^"]+)"')


def _error_codes(status: int, body: bytes) -> list[str]:
    if status != 200:
        return [f"HTTP {status}"]
    if b'"errors"' not in body:
        return []
    document = orjson.loads(body)
    if not document.get("errors"):
        return []
    codes = []
    for error in document["errors"]:
        extensions = error.get("extensions") or {}
        codes.append(str(extensions.get("code") or error.get("message", "?"))[:80])
    return codes or ["?"]


class Load:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session = session
        self.url = base + "/graphql"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def one(self, body: bytes) -> tuple[float, float, list[str]]:
        """One request: its latency, its slowest agency call (seconds; 0 when the answer
        names none) and its error codes."""
        start = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=self.headers) as answer:
            content = await answer.read()
            status = answer.status
            timing = answer.headers.get("server-timing", "")
        elapsed = time.perf_counter() - start
        return elapsed, slowest_agency(timing), _error_codes(status, content)

    async def run(self, bodies: Iterator[bytes], count: int, concurrency: int) -> Phase:
        latencies: list[float] = []
        slowest: list[float] = []
        added: list[float] = []
        phase = Phase("", "", concurrency)

        async def worker() -> None:
            for body in bodies:
                elapsed, agencies, codes = await self.one(body)
                latencies.append(elapsed)
                slowest.append(agencies)
                added.append(elapsed - agencies)
                if codes:
                    phase.errors += 1
                    for code in codes:
                        if code not in phase.error_codes and len(phase.error_codes) < 8:
                            phase.error_codes.append(code)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        phase.seconds = time.perf_counter() - start
        ordered = sorted(latencies)
        phase.requests = len(ordered)
        phase.p50_ms = percentile(ordered, 50) * 1000
        phase.p90_ms = percentile(ordered, 90) * 1000
        phase.p99_ms = percentile(ordered, 99) * 1000
        phase.max_ms = ordered[-1] * 1000 if ordered else 0.0
        phase.rps = phase.requests / phase.seconds if phase.seconds else 0.0
        phase.slowest_p50_ms = percentile(sorted(slowest), 50) * 1000
        added.sort()
        phase.added_p50_ms = percentile(added, 50) * 1000
        phase.added_p90_ms = percentile(added, 90) * 1000
        return phase


_SLOWEST = re.compile(r"(?:^|,)\s*agencies;dur=([0-9.]+)")


def slowest_agency(header: str) -> float:
    """The slowest agency call (seconds) a ``Server-Timing`` header names; 0 without one."""
    found = _SLOWEST.search(header)
    return float(found.group(1)) / 1000 if found else 0.0


async def get_token(session: aiohttp.ClientSession, base: str, secret: str) -> str:
    basic = base64.b64encode(f"{DEMO_CLIENT}:{secret}".encode()).decode()
    async with session.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ) as answer:
        document = await answer.json()
        if answer.status != 200:
            raise RuntimeError(f"no token: HTTP {answer.status} {document}")
        return str(document["access_token"])


_UPSTREAM = re.compile(
    r'^unefois_upstream_call_duration_seconds_(sum|count)\{agency="([^"]+)",outcome="([^"]+)"\}'
    r" ([0-9.eE+-]+)$"
)


async def upstream_totals(
    session: aiohttp.ClientSession, base: str
) -> dict[str, tuple[float, float]]:
    """Per agency, the gateway's total (seconds, calls) of successful source calls.

    A source call is one field group asked of one agency (an answer from the cache counts too,
    in about no time); it may take more than one HTTP exchange.
    """
    async with session.get(base + "/metrics") as answer:
        text = await answer.text()
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        match = _UPSTREAM.match(line)
        if match is None:
            continue
        kind, agency, outcome, value = match.groups()
        if outcome != "ok":
            continue
        target = sums if kind == "sum" else counts
        target[agency] = target.get(agency, 0.0) + float(value)
    return {agency: (sums.get(agency, 0.0), counts.get(agency, 0.0)) for agency in counts}


# ── the run ───────────────────────────────────────────────────────────────────────────


@dataclass
class Settings:
    requests: int
    requests_c1: int
    size: int
    latency_ms: float
    month: str
    today: str
    log_level: str
    profile: Path | None
    audit: str = "full"
    latencies: dict[str, float] = field(default_factory=dict)  # by agency, beyond latency_ms

    @property
    def slowest_ms(self) -> float:
        """The latency of the slowest agency, as configured."""
        return max([self.latency_ms, *self.latencies.values()])


async def measure(stack: Stack, settings: Settings) -> tuple[list[Phase], int, float]:
    assert stack.gateway is not None and stack.sandbox is not None
    gateway_pid, sandbox_pid = stack.gateway.pid, stack.sandbox.pid
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        persons = await load_persons(session, stack.urls["civil_registry"])
        miss_needed = WARMUP + settings.requests_c1 + settings.requests + HIT_SET
        if len(persons) < miss_needed:
            raise SystemExit(
                f"{len(persons)} usable persons for {miss_needed} distinct ones: "
                "raise --persons or lower --requests"
            )
        used = persons[:miss_needed]
        employment_share = sum(b"employment" in body for body in used) / len(used)
        fresh = iter(persons)
        hit_set = [next(fresh) for _ in range(HIT_SET)]
        token = await get_token(session, stack.gateway_url, stack.secret)
        load = Load(session, stack.gateway_url, token)

        # Warm-up: connection pools, the agencies' OAuth tokens, the parser cache.
        warm = await load.run(itertools.islice(fresh, WARMUP), WARMUP, 8)
        if warm.errors:
            print(f"warm-up errors: {warm.errors} {warm.error_codes}", file=sys.stderr)

        plan = [
            ("miss", 1, settings.requests_c1),
            ("miss", 64, settings.requests),
            ("hit", 1, settings.requests_c1),
            ("hit", 64, settings.requests),
        ]
        phases: list[Phase] = []
        for cache, concurrency, count in plan:
            if cache == "hit" and not any(p.cache == "hit" for p in phases):
                await load.run(iter(hit_set), len(hit_set), 16)  # fill the cache: not measured
            if cache == "miss":
                bodies: Iterator[bytes] = itertools.islice(fresh, count)
            else:
                bodies = itertools.islice(itertools.cycle(hit_set), count)
            load = Load(
                session,
                stack.gateway_url,
                await get_token(session, stack.gateway_url, stack.secret),
            )
            before_up = await upstream_totals(session, stack.gateway_url)
            gateway_before, sandbox_before = cpu_seconds(gateway_pid), cpu_seconds(sandbox_pid)
            own_before = time.process_time()
            phase = await load.run(bodies, count, concurrency)
            own = time.process_time() - own_before
            gateway = cpu_seconds(gateway_pid) - gateway_before
            sandbox = cpu_seconds(sandbox_pid) - sandbox_before
            after_up = await upstream_totals(session, stack.gateway_url)
            phase.name = f"{cache}@c{concurrency}"
            phase.cache = cache
            n = max(phase.requests, 1)
            phase.gateway_cpu_ms = gateway * 1000 / n
            phase.sandbox_cpu_ms = sandbox * 1000 / n
            phase.loadgen_cpu_ms = own * 1000 / n
            for agency, (total, calls) in after_up.items():
                prior_total, prior_calls = before_up.get(agency, (0.0, 0.0))
                phase.source_calls += (calls - prior_calls) / n
                if calls > prior_calls:
                    phase.upstream_ms[agency] = (total - prior_total) / (calls - prior_calls) * 1000
            phases.append(phase)
            print(row(phase), flush=True)
        return phases, len(persons), employment_share


# ── the report ────────────────────────────────────────────────────────────────────────

HEADER = (
    "| phase | requests | errors | p50 ms | p90 ms | p99 ms | max ms | req/s "
    "| gateway CPU ms/req | sandbox CPU ms/req |"
)
RULE = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"


def row(p: Phase) -> str:
    return (
        f"| {p.name} | {p.requests} | {p.errors} | {p.p50_ms:.1f} | {p.p90_ms:.1f} "
        f"| {p.p99_ms:.1f} | {p.max_ms:.1f} | {p.rps:.0f} | {p.gateway_cpu_ms:.2f} "
        f"| {p.sandbox_cpu_ms:.2f} |"
    )


def verdicts(phases: Sequence[Phase], latency_ms: float) -> list[tuple[str, str, bool]]:
    by_name = {p.name: p for p in phases}
    miss1 = by_name["miss@c1"]
    slowest = max(miss1.upstream_ms.values(), default=latency_ms)
    bound = latency_ms + TARGETS["p50_c1_over_upstream_ms"]
    out = [
        (
            "p50 at concurrency 1 (cache miss) within "
            f"{TARGETS['p50_c1_over_upstream_ms']:.0f} ms of the slowest upstream "
            f"({latency_ms:g} ms of latency for the slowest: at most {bound:g} ms)",
            f"{miss1.p50_ms:.1f} ms; slowest agency as the gateway timed it: {slowest:.1f} ms mean",
            miss1.p50_ms <= bound,
        ),
        (
            "at concurrency 1 (cache miss), the answer at most "
            f"{TARGETS['p50_c1_added_ms']:.0f} ms after the request's own slowest agency call "
            "(median over requests, from each answer's Server-Timing)",
            f"{miss1.added_p50_ms:.1f} ms (p90 {miss1.added_p90_ms:.1f}); the slowest call "
            f"itself {miss1.slowest_p50_ms:.1f} ms at the median",
            miss1.added_p50_ms <= TARGETS["p50_c1_added_ms"],
        ),
    ]
    for cache, key in (("miss", "cpu_miss_ms"), ("hit", "cpu_hit_ms")):
        worst = max((p for p in phases if p.cache == cache), key=lambda p: p.gateway_cpu_ms)
        figures = ", ".join(f"{p.name} {p.gateway_cpu_ms:.2f}" for p in phases if p.cache == cache)
        out.append(
            (
                f"gateway CPU per cache-{cache} query at most {TARGETS[key]} ms",
                f"{figures} ms",
                worst.gateway_cpu_ms <= TARGETS[key],
            )
        )
    errors = sum(p.errors for p in phases)
    out.append(("zero errors", f"{errors} errors", errors == 0))
    return out


def markdown(
    phases: Sequence[Phase],
    settings: Settings,
    command: str,
    usable_persons: int,
    employment_share: float,
    started: datetime,
) -> str:
    info = machine()
    lines = [
        "# Fan-out benchmark: the full person view",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} RAM",
        f"- OS: {info['os']}; Python {info['python']}",
        f"- Command: `{command}`",
        f"- Sandbox: {settings.size} persons ({usable_persons} usable: adults, not deceased, "
        f"not homonyms, known to the CAF), month {settings.month}, every agency answering after "
        f"{settings.latency_ms:g} ms{_other_latencies(settings.latencies)}; gateway clock "
        f"fixed at {settings.today}; gateway log "
        f"level {settings.log_level}; audit log: "
        + {
            "full": "SQLite, synchronous=FULL (every batch fsynced)",
            "normal": "SQLite, synchronous=NORMAL",
            "off": "entries discarded (baseline only)",
        }[settings.audit],
        "- Query: every field of the person view, each request for one person; the employment "
        f"block (France Travail, asked by identifier) for the {employment_share:.0%} of them "
        "registered there.",
        "- Gateway, sandbox and load generator share the machine's cores; each is one process.",
        "",
        HEADER,
        RULE,
        *(row(p) for p in phases),
        "",
        "Mean source call per agency as the gateway timed it (ms; a source call is one field "
        "group asked of one agency, from the cache in the hit phases), and source calls per "
        "request:",
        "",
    ]
    agencies = sorted({a for p in phases for a in p.upstream_ms})
    if agencies:
        lines += [
            "| phase | " + " | ".join(agencies) + " | calls/req |",
            "|---|" + "---:|" * (len(agencies) + 1),
        ]
        for p in phases:
            cells = [f"{p.upstream_ms[a]:.1f}" if a in p.upstream_ms else "–" for a in agencies]
            lines.append(f"| {p.name} | " + " | ".join(cells) + f" | {p.source_calls:.1f} |")
    lines += [
        "",
        "Per request, from its `Server-Timing` header: its slowest agency call, and the answer's "
        "latency beyond it — what the gateway adds on the request's path (ms):",
        "",
        "| phase | slowest agency call p50 | added p50 | added p90 |",
        "|---|---:|---:|---:|",
        *(
            f"| {p.name} | {p.slowest_p50_ms:.1f} | {p.added_p50_ms:.1f} | {p.added_p90_ms:.1f} |"
            for p in phases
        ),
    ]
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for target, measured, met in verdicts(phases, settings.slowest_ms):
        lines.append(f"| {target} | {measured} | {'met' if met else 'not met'} |")
    errors = [f"{p.name}: {', '.join(p.error_codes)}" for p in phases if p.error_codes]
    if errors:
        lines += ["", "First error codes seen: " + "; ".join(errors)]
    lines += [
        "",
        "Load-generator CPU per request (same machine, for context): "
        + ", ".join(f"{p.name} {p.loadgen_cpu_ms:.2f} ms" for p in phases),
        "",
    ]
    return "\n".join(lines)


def print_profile(path: Path, top: int = 25) -> None:
    stats = pstats.Stats(str(path))
    stats.strip_dirs()
    print(f"\n── gateway profile: top {top} by cumulative time ──")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"── gateway profile: top {top} by own time ──")
    stats.sort_stats("tottime").print_stats(top)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests per phase at concurrency 64"
    )
    parser.add_argument(
        "--requests-c1", type=int, default=1000, help="requests per phase at concurrency 1"
    )
    parser.add_argument("--persons", type=int, default=10_000, help="sandbox population size")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added upstream latency")
    parser.add_argument(
        "--agency-latency",
        action="append",
        default=[],
        type=_agency_latency,
        metavar="AGENCY=MS",
        help="another latency for one sandbox agency (repeatable): agencies that do not all "
        "answer at the same time",
    )
    parser.add_argument("--month", default="2025-06", help="sandbox reference month")
    parser.add_argument("--today", default="2025-07-10", help="the gateway's fixed date")
    parser.add_argument("--log-level", default="INFO", help="gateway log level")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 persons, 100/200 requests"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the gateway under cProfile and print its top entries (figures inflated)",
    )
    parser.add_argument(
        "--audit",
        choices=("full", "normal", "off"),
        default="full",
        help="audit log: SQLite synchronous=FULL (default), NORMAL, or entries discarded "
        "(a baseline only)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results file (.md; a .json beside it); default bench/results/fanout.md, "
        "none with --quick or --profile",
    )
    return parser


def _other_latencies(latencies: dict[str, float]) -> str:
    if not latencies:
        return ""
    return " but " + ", ".join(f"{name} ({ms:g} ms)" for name, ms in latencies.items())


def _agency_latency(text: str) -> tuple[str, float]:
    name, _, ms = text.partition("=")
    if name not in AGENCIES:
        raise argparse.ArgumentTypeError(f"{name!r} is not a sandbox agency: {', '.join(AGENCIES)}")
    try:
        return name, float(ms)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{ms!r} is not a latency in ms") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    if args.quick:
        args.persons, args.requests, args.requests_c1 = 2000, 200, 100
    out: Path | None = args.out
    if out is None and not (args.quick or args.profile):
        name = "fanout.md" if args.audit == "full" else f"fanout-audit-{args.audit}.md"
        out = Path(__file__).parent / "results" / name
    started = datetime.now(UTC)
    stack = Stack(
        size=args.persons,
        month=args.month,
        latency_ms=args.latency_ms,
        today=args.today,
        log_level=args.log_level.upper(),
        audit=args.audit,
        latencies=dict(args.agency_latency),
    )
    if args.profile:
        stack.profile = stack.workdir / "gateway.prof"
    settings = Settings(
        requests=args.requests,
        requests_c1=args.requests_c1,
        size=args.persons,
        latency_ms=args.latency_ms,
        month=args.month,
        today=args.today,
        log_level=args.log_level.upper(),
        profile=stack.profile,
        audit=args.audit,
        latencies=dict(args.agency_latency),
    )
    print(f"starting the sandbox ({args.persons} persons) and the gateway …", flush=True)
    try:
        return _run(stack, settings, argv, started, out)
    finally:
        # The work directory holds the gateway's signing key and clients file.
        shutil.rmtree(stack.workdir, ignore_errors=True)


def _run(
    stack: Stack,
    settings: Settings,
    argv: list[str],
    started: datetime,
    out: Path | None,
) -> int:
    try:
        with stack:
            print(HEADER)
            print(RULE, flush=True)
            phases, usable_persons, share = asyncio.run(measure(stack, settings))
    except (RuntimeError, aiohttp.ClientError, OSError) as exc:
        print(f"fanout: {exc}", file=sys.stderr)
        for name in ("gateway", "sandbox"):
            tail = stack.log_tail(name)
            if tail:
                print(f"── {name} log (end) ──\n{tail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fanout: interrupted; subprocesses stopped", file=sys.stderr)
        return 130
    command = " ".join(["python -m bench.fanout", *argv])
    report = markdown(phases, settings, command, usable_persons, share, started)
    print()
    for target, measured, met in verdicts(phases, settings.slowest_ms):
        print(f"{'met    ' if met else 'NOT MET'}  {target}: {measured}")
    if stack.profile is not None and stack.profile.exists():
        print_profile(stack.profile)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        document = {
            "date": started.isoformat(timespec="seconds"),
            "machine": dict(machine()),
            "command": command,
            "settings": {k: v for k, v in asdict(settings).items() if k != "profile"},
            "phases": [asdict(p) for p in phases],
            "targets": [
                {"target": t, "measured": m, "met": ok}
                for t, m, ok in verdicts(phases, settings.slowest_ms)
            ],
        }
        out.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n", "utf-8")
        print(f"\nwrote {out} and {out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
