"""``python -m bench.eligibility``: OpenFisca eligibility latency, micro-batching, campaigns.

Three phases on synthetic households for 2025-06 (see ``bench/README.md``):

1. one household × 5 benefits, one request at a time, through a warm ``EligibilityService``
   (2 worker processes): p50 / p99 latency;
2. 64 concurrent requests (a closed loop of 64 clients) through the same service: households
   per second, with the micro-batches the service formed;
3. campaigns: ``evaluate_population`` over 10,000 and 100,000 households, in a fresh
   process each (peak RSS from ``resource.getrusage``), then split over 2 processes (2 cores).

Results go to ``bench/results/eligibility.md``; ``--quick`` runs small sizes and writes
nothing unless given ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench._procs import machine
from connectors.records import (
    CivilStatus,
    FamilyQuotient,
    HouseholdMember,
    Housing,
    MonthlyRent,
    MonthlyResources,
    Payment,
    Pension,
    Provenance,
    Resources,
    Retirement,
)
from eligibility import BENEFITS, EligibilityService, PersonData, evaluate_population
from eligibility.months import shift, span

MONTH = "2025-06"
COMMUNES = (("69123", 2), ("75056", 1), ("13055", 2), ("33063", 2), ("23096", 3))
OUT = Path(__file__).parent / "results" / "eligibility.md"


def _prov(agency: str) -> Provenance:
    return Provenance(agency, "bench", date(2025, 6, 1), datetime(2025, 6, 1, tzinfo=UTC))


def _member(name: str, born: date) -> HouseholdMember:
    return HouseholdMember(name, None, name, born, None)


def synthetic(count: int, seed: int) -> list[PersonData]:
    """A mix of situations: no income, earners, unemployed, pensioners, couples, children."""
    rng = random.Random(seed)
    window = span(shift(MONTH, -24), shift(MONTH, -1))
    people = []
    for i in range(count):
        kind = rng.choices(("none", "salary", "unemployment", "pension"), (3, 4, 1, 2))[0]
        age = rng.randint(66, 85) if kind == "pension" else rng.randint(20, 60)
        born = date(2025 - age, rng.randint(1, 12), rng.randint(1, 28))
        payments: tuple[Payment, ...] = ()
        retirement = None
        if kind == "salary":
            net = round(rng.uniform(400, 2600), 2)
            payments = (Payment("1", "employer", "salary", net, round(net * 1.03, 2)),)
        elif kind == "unemployment":
            net = round(rng.uniform(500, 1400), 2)
            payments = (Payment("2", "unemployment", "unemployment_benefit", net, net * 1.06),)
        elif kind == "pension":
            net = round(rng.uniform(500, 1900), 2)
            payments = (Payment("3", "pension", "pension", net, round(net * 1.05, 2)),)
            gross = round(net * 1.1, 2)
            pension = Pension("CNAV", "own_right", gross, net, date(2015, 1, 1))
            retirement = Retirement((pension,), False, None, None, _prov("CNAV"))
        months = tuple(MonthlyResources(m, payments) for m in window)
        resources = Resources(months, (), _prov("GIP-MDS"))
        couple = kind != "pension" and rng.random() < 0.3
        claimants = [_member(f"P{i}", born)]
        if couple:
            claimants.append(_member(f"Q{i}", date(born.year + rng.randint(-3, 3), 6, 1)))
        children = tuple(
            _member(f"C{i}_{c}", date(rng.randint(2008, 2024), rng.randint(1, 12), 1))
            for c in range(rng.choice((0, 0, 1, 2, 3)) if kind != "pension" else 0)
        )
        commune, zone = rng.choice(COMMUNES)
        occupancy = rng.choices(("tenant", "owner", "free_lodging"), (6, 3, 1))[0]
        rent = round(rng.uniform(350, 900)) if occupancy == "tenant" else None
        housing = Housing(
            occupancy, rent, None, commune, zone,
            tuple(MonthlyRent(m, rent, 0.0) for m in window) if rent else (),
            False, None, None, _prov("CNAF"),
        )  # fmt: skip
        people.append(
            PersonData(
                civil=CivilStatus(
                    f"P{i}", None, ("X",), "F", born, None, "FRANCE", None, _prov("INSEE")
                ),
                resources=resources,
                household=FamilyQuotient(
                    "CNAF", 0, 2025, 6, tuple(claimants), children, None, _prov("CNAF")
                ),
                tax=None,
                housing=housing,
                retirement=retirement,
                receiving={b: False for b in BENEFITS},
                partner_resources=Resources(
                    tuple(MonthlyResources(m, ()) for m in window), (), _prov("GIP-MDS")
                )
                if couple
                else None,
                # What the CAF answers about a partner's AAH, read with their resources.
                partner_receiving_aah=False if couple else None,
            )
        )
    return people


def _campaign(count: int, seed: int) -> tuple[float, int, int]:
    """In a fresh worker: (seconds in evaluate_population, households answered, peak RSS MiB).

    The worker is warmed first, as a pool worker would be: the tax-benefit system is built
    and one small campaign fills OpenFisca's per-process caches (parameters by instant).
    """
    evaluate_population(synthetic(8, seed + 1000), BENEFITS, MONTH)
    people = synthetic(count, seed)
    started = time.perf_counter()
    answers = evaluate_population(people, BENEFITS, MONTH)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return elapsed, len(answers), peak


def campaign(count: int, processes: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    share = count // processes
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        started = time.perf_counter()
        runs = list(pool.map(_campaign, [share] * processes, range(processes)))
        wall = time.perf_counter() - started
    compute = max(r[0] for r in runs)
    answered = sum(r[1] for r in runs)
    return {
        "households": answered,
        "seconds": compute,
        "per_s": answered / compute,
        "wall_with_spawn_and_generation": wall,
        "peak_rss_mib": max(r[2] for r in runs),
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def online(single: int, concurrent_total: int) -> dict[str, Any]:
    people = synthetic(max(single, concurrent_total), seed=42)
    service = EligibilityService(workers=2)
    started = time.perf_counter()
    await service.start()
    startup = time.perf_counter() - started
    try:
        for person in people[:4]:  # warm-up: first calls of a worker fill its caches
            await service.evaluate(person, BENEFITS, MONTH)
        latencies = []
        for person in people[:single]:
            t0 = time.perf_counter()
            await service.evaluate(person, BENEFITS, MONTH)
            latencies.append(time.perf_counter() - t0)
        queue = list(people[:concurrent_total])
        waits: list[float] = []

        async def client() -> None:
            while queue:
                person = queue.pop()
                t0 = time.perf_counter()
                await service.evaluate(person, BENEFITS, MONTH)
                waits.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(64)))
        wall = time.perf_counter() - t0
    finally:
        await service.aclose()
    return {
        "startup_s": startup,
        "single_n": single,
        "p50": statistics.median(latencies),
        "p99": _pct(latencies, 0.99),
        "c64_n": concurrent_total,
        "c64_per_s": concurrent_total / wall,
        "c64_p50": statistics.median(waits),
        "c64_p99": _pct(waits, 0.99),
    }


def report(on: dict[str, Any], camps: dict[str, dict[str, float]], command: str) -> str:
    box = machine()
    lines = [
        "# Eligibility (OpenFisca-France) — latency, micro-batching, campaigns",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
        f"Machine: {box['cpu']}, {box['cores']} cores, {box['memory']} RAM, {box['os']}, "
        f"Python {box['python']}; openfisca-france {version('openfisca-france')}, "
        f"openfisca-core {version('openfisca-core')}, numpy {version('numpy')}.",
        "",
        "| phase | figure | target | |",
        "|---|---:|---:|---|",
        f"| pool start (2 workers build the system, warm-up) | {on['startup_s']:.1f} s | | |",
        f"| one household × 5 benefits, p50 ({on['single_n']} requests) | "
        f"{on['p50'] * 1000:.0f} ms | ≤ 1,500 ms | {_ok(on['p50'] <= 1.5)} |",
        f"| one household × 5 benefits, p99 | {on['p99'] * 1000:.0f} ms | | |",
        f"| 64 concurrent ({on['c64_n']} requests) | {on['c64_per_s']:.0f} households/s "
        f"(p50 {on['c64_p50'] * 1000:.0f} ms, p99 {on['c64_p99'] * 1000:.0f} ms) | ≥ 50/s | "
        f"{_ok(on['c64_per_s'] >= 50)} |",
    ]
    for name, c in camps.items():
        target = " ≥ 1,500/s" if "2 processes" in name else ""
        verdict = _ok(c["per_s"] >= 1500) if target else ""
        lines.append(
            f"| campaign {name} | {c['per_s']:,.0f} households/s ({c['seconds']:.1f} s, "
            f"peak RSS {c['peak_rss_mib']:,.0f} MiB per process) |{target} | {verdict} |"
        )
    lines += [
        "",
        "Campaign seconds are those of `evaluate_population` itself (adapter, simulation,",
        "results), timed in each worker after a warm-up (the system built, one 8-household",
        "campaign run), as in a pool worker; generating the synthetic records and spawning the",
        "processes are excluded. With 2 processes each takes half of the households.",
        "",
        *FIXED_COST,
    ]
    return "\n".join(lines)


# Measured in-process (warm, 5 benefits): the first rows while building the engine (one
# household, min of 3), the last three on 2026-12-03 in one sitting.
FIXED_COST = [
    "## Where a simulation's fixed cost went",
    "",
    "One household, five benefits, warm process: ~54,000 `calculate` calls at first (11,000",
    "for 3,751 variable-months now), spread evenly over OpenFisca's machinery (period",
    "arithmetic, holder look-ups), so the main lever is fewer formulas evaluated. Measured",
    "in-process with this release:",
    "",
    "| change | one household | 2,000 households |",
    "|---|---:|---:|",
    "| only the variables of the benefits asked, `trace=False` | 1,044 ms | 1,479 ms |",
    "| `ass` fed as 0 (France Travail pays it; already in `chomage_*`) | 621 ms | 1,229 ms |",
    "| every income variable fed, zeros included, from 60 months before the window "
    "(else rebuilt from gross through the CSG formulas) | 343 ms | 749 ms |",
    "| `aah` fed as 0 (no disability rate: OpenFisca computes 0 anyway) | 276 ms | 660 ms |",
    "| (2026-12-03: the same code with the job-seeker, bounds and turnover inputs since) "
    "| 495 ms | 1,318 ms |",
    "| `caah` and `asi` fed as the zeros OpenFisca computes from the inputs (no incapacity "
    "rate, invalidity pension or disability flag), `boursier` as False in a simulation "
    "without a student; inputs put straight into the holders | 251 ms | 673 ms |",
    "| parameters indexed by an array looked up once per distinct key, not per element "
    "| 247 ms | 492 ms |",
    "",
    "The last three rows were measured in one sitting, alternating, minimum of 5 (one",
    "household) and 3 (2,000) runs; at 10,000 households: 4,954 ms, 2,550 ms, 1,890 ms.",
    "`caah` alone was ~40 % of a small simulation: computing it evaluates the housing aid",
    "of each of the twelve months the CSS reads. `tests/eligibility/test_shortcuts.py`",
    "compares every golden situation's raw outputs with OpenFisca computing those variables,",
    "`tests/eligibility/test_grouped_lookups.py` the look-ups with element-wise ones. What",
    "is left is spread over OpenFisca's machinery (period arithmetic, holder look-ups, role",
    "projections). Simulation arrays are released as soon as a chunk is answered",
    "(simulation and populations reference each other: left to the cyclic collector,",
    "100,000 households peaked at 5.4 GB instead of 2.0 GB).",
    "",
]


def _ok(passed: bool) -> str:
    return "met" if passed else "**not met**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, writes nothing")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    single, c64, sizes = (20, 128, (2_000,)) if args.quick else (100, 640, (10_000, 100_000))
    on = asyncio.run(online(single, c64))
    print(on, flush=True)
    camps: dict[str, dict[str, float]] = {}
    for size in sizes:
        for processes in (1, 2):
            label = f"{size:,} households, {processes} process{'es' if processes > 1 else ''}"
            camps[label] = campaign(size, processes)
            print(label, camps[label], flush=True)
    out = args.out or (None if args.quick else OUT)
    if out is not None:
        command = "python -m bench.eligibility" + (" --quick" if args.quick else "")
        out.write_text(report(on, camps, command), encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
