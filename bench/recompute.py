"""``python -m bench.recompute``: the gateway's eligibility against an independent recomputation.

Starts the sandbox agencies and the gateway (``bench._procs.Stack``), draws a sample of sandbox
households whose agencies hold every input the rules read (``bench._recompute_sample``), and
for the person asked in each:

1. asks the gateway's ``eligibility`` for RSA, PPA, CSS, ASPA and AIDE_LOGEMENT under the
   ``eligibility_check`` purpose, as a département's client (``demo-agency-app``);
2. reads the agencies' raw answers itself, over HTTP, in their own protocols
   (``bench._raw_agencies``), builds an OpenFisca-France situation with its own mapping
   (``bench._openfisca_situation``) and runs OpenFisca-France on it, in simulations of up to
   50 households (``bench._recompute_law``). Nothing here imports the product's
   ``eligibility`` package;
3. compares each person × benefit pair (``bench._recompute_compare``).

Results go to ``bench/results/recompute.md`` and ``.json`` beside it (``--out`` elsewhere,
``--no-write`` for nothing). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

from bench._openfisca_situation import Situation, build
from bench._procs import Stack, machine
from bench._raw_agencies import Agencies, RawHousehold, shift
from bench._recompute_compare import Pair, pairs_of, summarise
from bench._recompute_law import run_many, system
from bench._recompute_report import render
from bench._recompute_sample import Sample, draw, listing

RECIPIENT = "13002526500013"
CONTEXT = {"purpose": "eligibility_check", "recipient": RECIPIENT, "object": "recalcul-droits"}
CLIENT_ID = "demo-agency-app"
OUT = Path(__file__).parent / "results" / "recompute.md"
QUERY = """query($ref: PersonRef!, $ctx: AccessContextInput!, $month: String!) {
  eligibility(ref: $ref, context: $ctx, month: $month,
              benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]) {
    benefit status monthlyAmount missing } }"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.recompute", description=__doc__)
    parser.add_argument("--persons", type=int, default=200, help="households asked about")
    parser.add_argument("--size", type=int, default=2000, help="sandbox population")
    parser.add_argument("--month", default="2025-06", help="the month evaluated, YYYY-MM")
    parser.add_argument("--seed", type=int, default=11, help="the sample's seed")
    parser.add_argument("--concurrency", type=int, default=4, help="queries in flight")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser


def identity_input(pivot: dict[str, Any]) -> dict[str, Any]:
    """The sandbox listing's pivot identity → the gateway's GraphQL identity input."""
    ident: dict[str, Any] = {
        "birthName": pivot["nomNaissance"],
        "givenNames": list(pivot["prenoms"]),
        "birthDate": "{:04d}-{:02d}-{:02d}".format(
            int(pivot["anneeDateNaissance"]),
            int(pivot["moisDateNaissance"]),
            int(pivot["jourDateNaissance"]),
        ),
        "sex": pivot["sexeEtatCivil"],
        "birthCountry": pivot["codeCogInseePaysNaissance"],
    }
    if pivot.get("codeCogInseeCommuneNaissance"):
        ident["birthPlace"] = pivot["codeCogInseeCommuneNaissance"]
    return ident


async def _token(http: httpx.AsyncClient, stack: Stack) -> str:
    answer = await http.post(
        stack.gateway_url + "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "person:read eligibility:read"},
        auth=(CLIENT_ID, stack.secret),
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


async def _ask(
    http: httpx.AsyncClient, stack: Stack, token: str, entry: dict[str, Any], month: str
) -> list[dict[str, Any]]:
    ref: dict[str, Any] = {"identity": identity_input(entry["personne"])}
    if entry["identifiant_france_travail"]:
        ref["franceTravailId"] = entry["identifiant_france_travail"]
    body = {"query": QUERY, "variables": {"ref": ref, "ctx": CONTEXT, "month": month}}
    for attempt in range(3):
        try:
            answer = await http.post(
                stack.gateway_url + "/graphql",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            break
        except httpx.TransportError:
            # A kept-alive connection the server closed as it was reused: asking again only
            # adds an audit entry.
            if attempt == 2:
                raise
    payload = answer.json()
    if answer.status_code != 200 or payload.get("errors") or not payload.get("data"):
        code = (payload.get("errors") or [{}])[0].get("extensions", {}).get("code", "?")
        return [
            {"benefit": b, "status": f"ERROR {code}", "monthlyAmount": None, "missing": []}
            for b in ("RSA", "PPA", "CSS", "ASPA", "AIDE_LOGEMENT")
        ]
    results: list[dict[str, Any]] = payload["data"]["eligibility"]
    return results


async def collect(
    stack: Stack, sample: Sample, month: str, concurrency: int
) -> list[tuple[dict[str, Any], list[dict[str, Any]], RawHousehold]]:
    """The gateway's answers and the agencies' raw answers for every person asked."""
    limits = httpx.Limits(max_connections=4 * concurrency)
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as http:
        token = await _token(http, stack)
        agencies = Agencies(stack.urls, RECIPIENT, http)
        gate = asyncio.Semaphore(concurrency)

        async def one(
            entry: dict[str, Any],
        ) -> tuple[dict[str, Any], list[dict[str, Any]], RawHousehold]:
            async with gate:
                gateway = await _ask(http, stack, token, entry, month)
                raw = await agencies.household(entry["personne"], month, sample.job_ids)
            return entry, gateway, raw

        return await asyncio.gather(*(one(e) for e in sample.persons))


def describe(entry: dict[str, Any], situation: Situation, zone: int) -> dict[str, Any]:
    """The inputs that matter to read a difference (no names: the sandbox index only)."""
    month = situation.month
    last3 = [shift(month, -k) for k in (3, 2, 1)]
    people = situation.entities["individus"]
    adults = []
    for key, person in people.items():
        if not key.startswith("adult"):
            continue
        born = date.fromisoformat(person["date_naissance"]["ETERNITY"])
        adults.append(
            {
                "age": month_age(born, month),
                "activite": person["activite"][month],
                "job_seeker_since": person.get("date_debut_chomage", {}).get("ETERNITY"),
                **{
                    f"{v}_last3": [round(person[v][m], 2) for m in last3]
                    for v in ("salaire_net", "chomage_net", "retraite_nette")
                },
                "salaire_net_month": round(person["salaire_net"][month], 2),
                "chomage_net_month": round(person["chomage_net"][month], 2),
            }
        )
    menage = situation.entities["menages"]["menage"]
    return {
        "adults": adults,
        "children": len([k for k in people if k.startswith("child")]),
        "occupancy": menage.get("statut_occupation_logement", {}).get(month),
        "rent": menage.get("loyer", {}).get(month),
        "zone_openfisca": zone,
        "zone_caf": situation.caf_zone,
    }


def month_age(born: date, month: str) -> int:
    on = date(int(month[:4]), int(month[5:7]), 1)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def kind_of(entry: dict[str, Any], situation: Situation) -> str:
    people = situation.entities["individus"]
    activities = [
        p["activite"][situation.month] for k, p in people.items() if k.startswith("adult")
    ]
    return f"{entry['household_kind']} ({', '.join(activities)})"


def recompute(
    collected: list[tuple[dict[str, Any], list[dict[str, Any]], RawHousehold]],
) -> tuple[list[Pair], int]:
    """Every pair, and how many households' CAF zone differs from OpenFisca's."""
    system()
    situations = [build(raw) for _, _, raw in collected]
    pairs: list[Pair] = []
    zones_differ = 0
    results = run_many(situations)
    for (entry, gateway, _), situation, (verdicts, zone) in zip(
        collected, situations, results, strict=True
    ):
        if situation.caf_zone is not None and situation.caf_zone != zone:
            zones_differ += 1
        inputs = describe(entry, situation, zone)
        pairs += pairs_of(entry["index"], kind_of(entry, situation), gateway, verdicts, inputs)
    return pairs, zones_differ


def as_json(body: dict[str, Any]) -> str:
    """Indented, except each pair of ``pairs_detail`` on one line."""
    rows = body.pop("pairs_detail", [])
    text = json.dumps(body, indent=1, ensure_ascii=False)
    lines = ",\n  ".join(json.dumps(r, ensure_ascii=False) for r in rows)
    return text[:-2] + f',\n "pairs_detail": [\n  {lines}\n ]\n}}\n'


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = datetime.now(UTC)
    nxt = shift(args.month, 1)
    stack = Stack(
        size=args.size, month=args.month, latency_ms=0, today=f"{nxt}-10", log_level="WARNING"
    )
    print(f"starting the sandbox ({args.size} persons) and the gateway …", flush=True)
    try:
        with stack:
            sample = draw(listing(stack.urls["civil_registry"]), args.persons, args.seed)
            print(f"{len(sample.persons)} households drawn of {sample.kept} kept", flush=True)
            t0 = time.monotonic()
            collected = asyncio.run(collect(stack, sample, args.month, args.concurrency))
            fetched = time.monotonic() - t0
    finally:
        shutil.rmtree(stack.workdir, ignore_errors=True)
    t0 = time.monotonic()
    pairs, zones_differ = recompute(collected)
    computed = time.monotonic() - t0
    summary = summarise(pairs)
    m = machine()
    facts = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench.recompute " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": f"{m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, "
        f"Python {m['python']}; openfisca-france {version('openfisca-france')}",
        "month": args.month,
        "size": args.size,
        "seed": args.seed,
        "fetch_seconds": round(fetched, 1),
        "recompute_seconds": round(computed, 1),
        "zones_differ": zones_differ,
    }
    text = render(facts, sample, summary)
    print(text)
    if not args.no_write:
        args.out.write_text(text, encoding="utf-8")
        body = {**facts, **summary.as_json(), "excluded": dict(sample.excluded)}
        args.out.with_suffix(".json").write_text(as_json(body), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
