"""Which sandbox persons the recomputation asks about: households whose agencies hold all the
data the rules read, told apart from the sandbox's listing (``/_sandbox/persons``).

A household is kept when, for every member, the listing shows none of the sandbox's edge
cases that leave data out or unreachable, and for every adult none of the situations whose
inputs the agencies do not serve:

- no member deceased, unknown to the CAF, a homonym or the person a homonym copies (every
  agency answers 404 for an identity it cannot tell apart);
- no adult with a month GIP-MDS has not declared (``missing_months``);
- no adult receiving the AAH (the CAF serves the status, not the amount the rules need);
- no self-employed adult (GIP-MDS serves a micro-entrepreneur's monthly turnover, but no
  agency serves the taxable profit of year N-2 that the housing aid reads);
- at most one adult registered at France Travail, and then they are the person asked:
  France Travail is asked by its identifier, which only the request about a person carries.

The person asked is that job seeker, or else one adult drawn at random; households are drawn
at random among those kept (seeded, so a run is repeatable).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import httpx

Entry = dict[str, Any]

RULES = (
    ("deceased", "a member is deceased"),
    ("unknown_to_caf", "a member is unknown to the CAF"),
    ("homonym", "a member is a homonym, or has one"),
    ("missing_months", "an adult has months GIP-MDS has not declared"),
    ("aah", "an adult receives the AAH (amount not served)"),
    ("self_employed", "an adult is self-employed (housing aid's N-2 taxable profit not served)"),
    ("two_job_seekers", "two adults registered at France Travail"),
)


@dataclass(frozen=True)
class Sample:
    persons: list[Entry]  # one adult per household, the person asked
    households: int  # households in the sandbox
    kept: int  # households that pass every rule
    excluded: Counter[str]  # households left out, by the first rule they fail
    job_ids: dict[str, str]  # France Travail identifiers, by birth name|birth date


def listing(url: str) -> list[Entry]:
    """Every person of the sandbox, from an agency's ``/_sandbox/persons``."""
    persons: list[Entry] = []
    with httpx.Client(timeout=60.0) as client:
        offset = 0
        while True:
            page = client.get(url + "/_sandbox/persons", params={"offset": offset, "limit": 1000})
            page.raise_for_status()
            body = page.json()
            persons += body["data"]
            offset += 1000
            if offset >= body["meta"]["total"]:
                return persons


def _key(entry: Entry) -> str:
    p = entry["personne"]
    born = "{:04d}-{:02d}-{:02d}".format(
        int(p["anneeDateNaissance"]), int(p["moisDateNaissance"]), int(p["jourDateNaissance"])
    )
    return f"{p['nomNaissance']}|{born}"


def _failed(members: list[Entry], copied: set[int]) -> str | None:
    adults = [m for m in members if m["role"] == "adult"]
    if any(m["deceased"] for m in members):
        return "deceased"
    if any(m["unknown_to_caf"] for m in members):
        return "unknown_to_caf"
    if any(m["homonym_of"] is not None or m["index"] in copied for m in members):
        return "homonym"
    if any(m["missing_months"] for m in adults):
        return "missing_months"
    if any("aah" in m["rights"] for m in adults):
        return "aah"
    if any(m["activity"] == "independant" for m in adults):
        return "self_employed"
    if sum(1 for m in adults if m["identifiant_france_travail"]) > 1:
        return "two_job_seekers"
    return None


def draw(persons: list[Entry], count: int, seed: int) -> Sample:
    """``count`` households drawn among those kept, one adult asked about in each."""
    households: dict[int, list[Entry]] = defaultdict(list)
    for entry in persons:
        households[entry["household"]].append(entry)
    copied = {e["homonym_of"] for e in persons if e["homonym_of"] is not None}
    excluded: Counter[str] = Counter()
    kept: list[list[Entry]] = []
    for household in sorted(households):
        members = households[household]
        reason = _failed(members, copied)
        if reason is None:
            kept.append(members)
        else:
            excluded[reason] += 1
    rng = random.Random(seed)
    chosen = rng.sample(kept, min(count, len(kept)))
    asked = []
    for members in chosen:
        adults = [m for m in members if m["role"] == "adult"]
        seekers = [m for m in adults if m["identifiant_france_travail"]]
        asked.append(seekers[0] if seekers else rng.choice(adults))
    job_ids = {
        _key(e): e["identifiant_france_travail"] for e in persons if e["identifiant_france_travail"]
    }
    return Sample(asked, len(households), len(kept), excluded, job_ids)
