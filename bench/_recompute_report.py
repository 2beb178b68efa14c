"""The recomputation's results as Markdown (``bench/results/recompute.md``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench._recompute_compare import Summary
from bench._recompute_sample import RULES, Sample

_STATUSES = ("ELIGIBLE", "NOT_ELIGIBLE", "CANNOT_EVALUATE", "DECEASED")
_BENEFITS = ("rsa", "ppa", "css", "aspa", "aide_logement")
TARGET_SHARE = 0.02


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def render(facts: dict[str, Any], sample: Sample, summary: Summary) -> str:
    lines = [
        "# Eligibility against an independent recomputation",
        "",
        f"Measured {facts['started']} with `{facts['command'].strip()}`: month "
        f"{facts['month']}, sandbox of {facts['size']:,} persons, seed {facts['seed']}.",
        "",
        f"Machine: {facts['machine']}.",
        "",
        "The gateway's `eligibility` (purpose `eligibility_check`, client `demo-agency-app`, "
        "the person's France Travail identifier in the reference when they have one) against "
        "OpenFisca-France run by the bench itself on the agencies' raw answers, read over "
        "HTTP with its own mapping (`bench/_openfisca_situation.py`), never importing "
        "`eligibility/`. Amounts are the household's (RSA, PPA, ASPA, housing aid: the family's; "
        "CSS: the participation the household pays, 0 when free).",
        "",
        "## Sample",
        "",
        f"{len(sample.persons)} households drawn (one adult asked about in each) among the "
        f"{sample.kept:,} of {sample.households:,} sandbox households whose agencies hold every "
        "input the rules read. Households left out, by the first rule they fail:",
        "",
        "| rule | households left out |",
        "|---|---:|",
    ]
    for key, text in RULES:
        lines.append(f"| {text} | {sample.excluded.get(key, 0):,} |")
    lines += [
        "",
        "What the households drawn are (adults' activity in the month evaluated; a job seeker "
        "is indemnified when GIP-MDS declares an unemployment benefit that month):",
        "",
        "| | count |",
        "|---|---:|",
    ]
    for key, count in sorted(summary.composition.items()):
        lines.append(f"| {key} | {count} |")
    lines += [
        "",
        "## The gateway's answers",
        "",
        "| benefit | " + " | ".join(_STATUSES) + " | other |",
        "|---|" + "---:|" * (len(_STATUSES) + 1),
    ]
    for benefit in _BENEFITS:
        counts: Counter[str] = summary.by_benefit.get(benefit, Counter())
        other = sum(v for k, v in counts.items() if k not in _STATUSES)
        cells = " | ".join(str(counts.get(s, 0)) for s in _STATUSES)
        lines.append(f"| {benefit} | {cells} | {other} |")
    met = "met" if summary.share <= TARGET_SHARE else "not met"
    lines += [
        "",
        f"**CANNOT_EVALUATE: {summary.cannot_evaluate} of {summary.pairs} pairs "
        f"({100 * summary.share:.1f} %; target ≤ {100 * TARGET_SHARE:.0f} %: {met})**, of "
        f"which {summary.cannot_evaluate_decidable} the recomputation could answer.",
        "",
        "Reasons the gateway gave (`missing`, months folded), in pairs:",
        "",
        "| benefit: missing | pairs |",
        "|---|---:|",
    ]
    for reason, count in summary.gateway_reasons.most_common():
        lines.append(f"| {reason} | {count} |")
    if not summary.gateway_reasons:
        lines.append("| (none) | 0 |")
    decidable = [
        r for r in summary.rows if r["gateway"][0] == "CANNOT_EVALUATE" and r["law"] is not None
    ]
    if decidable:
        lines += [
            "",
            "CANNOT_EVALUATE pairs the recomputation answered from the same agencies:",
            "",
            "| sandbox index | household (adults' activity) | benefit | law | gateway's missing |",
            "|---:|---|---|---:|---|",
        ]
        for r in decidable:
            missing = "; ".join(r["gateway_missing"])
            lines.append(
                f"| {r['index']} | {r['kind']} | {r['benefit']} | {_money(r['law'])} | {missing} |"
            )
    lines += [
        "",
        f"Pairs the recomputation itself could not decide: {summary.unknown_here}.",
        "",
        "| benefit: reason | pairs |",
        "|---|---:|",
    ]
    for reason, count in summary.law_reasons.most_common():
        lines.append(f"| {reason} | {count} |")
    if not summary.law_reasons:
        lines.append("| (none) | 0 |")
    diffs = summary.differences
    target = "met" if not diffs else "not met"
    lines += [
        "",
        "## Differences",
        "",
        f"Pairs both sides answered: {summary.compared}; exact to the cent: {summary.exact}. "
        f"**Differences above 1 € (or a different verdict): {len(diffs)} "
        f"(target 0: {target}).**",
        "",
        f"`ELIGIBLE` without an amount (entitled whatever the data missing, the amount "
        f"depending on it; the verdict is compared, not the amount): {summary.withheld} "
        f"pairs"
        + (
            ", missing: "
            + "; ".join(f"{r} ({n})" for r, n in summary.withheld_reasons.most_common())
            if summary.withheld
            else ""
        )
        + ".",
        "",
        f"Housing zones: the CAF's record and OpenFisca's table for the commune differ for "
        f"{facts['zones_differ']} of {len(sample.persons)} households.",
        "",
    ]
    if diffs:
        lines += [
            "| sandbox index | household (adults' activity) | benefit | gateway | law "
            "| difference |",
            "|---:|---|---|---|---:|---:|",
        ]
        for p in diffs:
            gateway = f"{p.gateway_status} {_money(p.gateway_amount)}"
            lines.append(
                f"| {p.index} | {p.kind} | {p.benefit} | {gateway} | {_money(p.law_amount)} "
                f"| {_money(p.difference)} |"
            )
        lines += ["", "Inputs of each household with a difference (the JSON has them all):", ""]
        seen: set[int] = set()
        for p in diffs:
            if p.index in seen:
                continue
            seen.add(p.index)
            lines.append(f"- {p.index}: `{p.inputs}`")
    lines += [
        "",
        f"Fetching (gateway and agencies, {facts['fetch_seconds']} s) and recomputing "
        f"({facts['recompute_seconds']} s) are not performance figures: the sandbox, the "
        "gateway and the bench share the machine's cores.",
        "",
    ]
    return "\n".join(lines)
