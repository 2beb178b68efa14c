"""The gateway's answers against the recomputation's, pair by pair (person × benefit)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from bench._recompute_law import Verdict

TOLERANCE = 1.0  # euros: a difference above it is reported
_MONTH = re.compile(r"\b\d{4}-\d{2}\b")
_WHO = re.compile(r"^adult\d+: ")
GATEWAY_NAMES = {
    "RSA": "rsa",
    "PPA": "ppa",
    "CSS": "css",
    "ASPA": "aspa",
    "AIDE_LOGEMENT": "aide_logement",
}


def reason_kind(reason: str) -> str:
    """A reason without its month or member, for the histogram."""
    return _MONTH.sub("<month>", _WHO.sub("", reason))


@dataclass
class Pair:
    index: int  # the sandbox index of the person asked
    kind: str  # household kind and the adults' situation
    benefit: str
    gateway_status: str
    gateway_amount: float | None
    gateway_missing: list[str]
    law_eligible: bool | None
    law_amount: float | None
    law_reasons: list[str]
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def withheld(self) -> bool:
        """ELIGIBLE without an amount: entitled whatever the missing data (``missing``), the
        amount depending on it. Its verdict is compared, not its amount."""
        return self.gateway_status == "ELIGIBLE" and self.gateway_amount is None

    @property
    def compared(self) -> bool:
        evaluated = self.gateway_status in ("ELIGIBLE", "NOT_ELIGIBLE")
        return evaluated and self.law_amount is not None and not self.withheld

    @property
    def gateway_value(self) -> float:
        if self.gateway_status != "ELIGIBLE":
            return 0.0
        return float(self.gateway_amount or 0.0)

    @property
    def difference(self) -> float | None:
        if not self.compared or self.law_amount is None:
            return None
        return round(self.gateway_value - self.law_amount, 2)

    @property
    def differs(self) -> bool:
        if self.withheld:
            return self.law_amount is not None and not self.law_eligible
        if not self.compared:
            return False
        same_status = (self.gateway_status == "ELIGIBLE") == bool(self.law_eligible)
        return not same_status or abs(self.difference or 0.0) > TOLERANCE


def pairs_of(
    index: int,
    kind: str,
    gateway: list[dict[str, Any]],
    law: dict[str, Verdict],
    inputs: dict[str, Any],
) -> list[Pair]:
    out = []
    for answer in gateway:
        benefit = GATEWAY_NAMES[answer["benefit"]]
        verdict = law[benefit]
        out.append(
            Pair(
                index,
                kind,
                benefit,
                answer["status"],
                answer.get("monthlyAmount"),
                list(answer.get("missing") or []),
                verdict.eligible,
                verdict.amount,
                list(verdict.reasons),
                inputs,
            )
        )
    return out


def composition(pairs: list[Pair]) -> Counter[str]:
    """What the households asked about are: kinds, activities, job seekers, occupancy."""
    seen: dict[int, Pair] = {}
    for p in pairs:
        seen.setdefault(p.index, p)
    counts: Counter[str] = Counter()
    for p in seen.values():
        counts[f"household: {p.kind.split(' ')[0]}"] += 1
        counts[f"occupancy: {p.inputs.get('occupancy')}"] += 1
        for adult in p.inputs.get("adults", []):
            counts[f"adult: {adult['activite']}"] += 1
            if adult["activite"] == "chomeur":
                paid = adult["chomage_net_month"] > 0
                counts[f"job seeker: {'indemnified' if paid else 'not indemnified'}"] += 1
    return counts


def row(p: Pair) -> dict[str, Any]:
    """One pair, without its household's inputs."""
    return {
        "index": p.index,
        "kind": p.kind,
        "benefit": p.benefit,
        "gateway": [p.gateway_status, p.gateway_amount],
        "law": p.law_amount,
        "gateway_missing": p.gateway_missing,
        "law_reasons": p.law_reasons,
    }


@dataclass
class Summary:
    pairs: int
    by_benefit: dict[str, Counter[str]]
    gateway_reasons: Counter[str]
    law_reasons: Counter[str]
    cannot_evaluate: int
    compared: int
    exact: int
    differences: list[Pair]
    rows: list[dict[str, Any]]
    composition: Counter[str]
    unknown_here: int  # pairs the recomputation could not decide
    cannot_evaluate_decidable: int  # gateway CANNOT_EVALUATE where the law had an answer
    withheld: int = 0  # ELIGIBLE without an amount (``Pair.withheld``)
    withheld_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def share(self) -> float:
        return self.cannot_evaluate / self.pairs if self.pairs else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "by_benefit": {b: dict(c) for b, c in self.by_benefit.items()},
            "gateway_reasons": dict(self.gateway_reasons),
            "law_reasons": dict(self.law_reasons),
            "cannot_evaluate": self.cannot_evaluate,
            "cannot_evaluate_share": round(self.share, 4),
            "cannot_evaluate_decidable": self.cannot_evaluate_decidable,
            "eligible_without_amount": self.withheld,
            "compared": self.compared,
            "exact_to_the_cent": self.exact,
            "unknown_to_the_recomputation": self.unknown_here,
            "composition": dict(sorted(self.composition.items())),
            "differences": [{**asdict(p), "difference": p.difference} for p in self.differences],
            "pairs_detail": self.rows,
        }


def summarise(pairs: list[Pair]) -> Summary:
    by_benefit: dict[str, Counter[str]] = {}
    gateway_reasons: Counter[str] = Counter()
    law_reasons: Counter[str] = Counter()
    for p in pairs:
        by_benefit.setdefault(p.benefit, Counter())[p.gateway_status] += 1
        if p.gateway_status == "CANNOT_EVALUATE":
            for kind in {reason_kind(m) for m in p.gateway_missing} or {"(none given)"}:
                gateway_reasons[f"{p.benefit}: {kind}"] += 1
        for kind in {reason_kind(r) for r in p.law_reasons}:
            law_reasons[f"{p.benefit}: {kind}"] += 1
    compared = [p for p in pairs if p.compared]
    return Summary(
        pairs=len(pairs),
        by_benefit=by_benefit,
        gateway_reasons=gateway_reasons,
        law_reasons=law_reasons,
        cannot_evaluate=sum(p.gateway_status == "CANNOT_EVALUATE" for p in pairs),
        compared=len(compared),
        exact=sum(1 for p in compared if abs(p.difference or 0.0) < 0.005 and not p.differs),
        differences=[p for p in pairs if p.differs],
        rows=[row(p) for p in pairs],
        composition=composition(pairs),
        unknown_here=sum(p.law_amount is None for p in pairs),
        cannot_evaluate_decidable=sum(
            p.gateway_status == "CANNOT_EVALUATE" and p.law_amount is not None for p in pairs
        ),
        withheld=sum(p.withheld for p in pairs),
        withheld_reasons=Counter(
            f"{p.benefit}: {reason_kind(r)}" for p in pairs if p.withheld for r in p.gateway_missing
        ),
    )
