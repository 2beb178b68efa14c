"""``python -m bench.policy_step``: the gateway CPU that purpose policies add to one request.

What the policy step does on the request path, measured in process with
``time.process_time`` (so the SQLite driver's thread is counted too):

- ``public task``: the purpose check before any call, the per-field decision for the whole
  person view (17 fields), and the caller's sector handle (AES-SIV) in the answer;
- ``consent``: the same for a purpose resting on consent, plus the consent pseudonym (HMAC)
  and the read of the person's active consents from the store (SQLite, one indexed query).

The figures are committed in ``bench/results/policy_step.md``. Target: under 0.5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench._procs import machine
from connectors import PivotIdentity
from exchange import (
    CONSENT_SECTOR,
    FIELDS,
    AccessContext,
    Client,
    PolicyDecider,
    Pseudonyms,
    Subjects,
)
from policies import Consent, load_catalogue
from store import ConsentStore, connect, migrate

ON = date(2025, 7, 10)
PERSON = PivotIdentity("DUPONT", ("JEAN", "PAUL"), date(1980, 1, 2), "M", "99100", "69123")
TARGET_MS = 0.5


async def _measure(
    decider: PolicyDecider,
    pseudonyms: Pseudonyms,
    caller: Client,
    context: AccessContext,
    rounds: int,
) -> float:
    fields = frozenset(FIELDS)
    subjects = Subjects(PERSON)
    start = time.process_time()
    for _ in range(rounds):
        first = decider.precheck(caller, context, fields, ON)
        verdict = await decider.decide(caller, context, fields, subjects, ON, first)
        assert verdict.request.effect == "allow"
        pseudonyms.handle(PERSON, caller.sector)
    return (time.process_time() - start) / rounds * 1000.0


async def run(rounds: int) -> dict[str, float]:
    catalogue = load_catalogue(known_fields=frozenset(FIELDS))
    pseudonyms = Pseudonyms(b"bench-secret-bench-secret-bench!")
    with tempfile.TemporaryDirectory() as tmp:
        database = await connect(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await migrate(database)
        store = ConsentStore(database)
        await store.grant(
            Consent(
                id="bench-consent",
                person=pseudonyms.pseudonym(PERSON, CONSENT_SECTOR),
                client_id="demo-form-builder",
                purpose=None,
                categories=frozenset(catalogue.categories),
                granted_at=datetime(2025, 7, 1, tzinfo=UTC),
                valid_from=date(2025, 7, 1),
                valid_until=date(2025, 12, 31),
            )
        )
        decider = PolicyDecider(catalogue, store, pseudonyms)
        public = await _measure(
            decider,
            pseudonyms,
            Client("demo-agency-app", frozenset({"person:read"}), "social"),
            AccessContext("rsa_instruction", "13002526500013", "bench"),
            rounds,
        )
        consent = await _measure(
            decider,
            pseudonyms,
            Client("demo-form-builder", frozenset({"person:read"}), "forms"),
            AccessContext("citizen_prefill", "13002526500013", "bench"),
            max(1, rounds // 10),
        )
        await database.aclose()
    return {"public task": public, "consent": consent}


def report(figures: dict[str, float], rounds: int) -> str:
    lines = [
        "# Policy step: gateway CPU added per request",
        "",
        f"Date: {datetime.now(UTC).date().isoformat()} · machine: {machine()}",
        "",
        f"Command: `python -m bench.policy_step --rounds {rounds}`",
        "",
        "| purpose | ms of CPU per request | target |",
        "|---|---:|---|",
    ]
    for name, ms in figures.items():
        verdict = "met" if ms < TARGET_MS else "NOT MET"
        lines.append(f"| {name} | {ms:.4f} | < {TARGET_MS} ms: {verdict} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.policy_step", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/policy_step.md"))
    args = parser.parse_args()
    figures = asyncio.run(run(args.rounds))
    text = report(figures, args.rounds)
    print(text)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
