"""Which reading of the household would have made the gateway entitle a false negative.

For the false negatives the campaign's rules answered NOT_ELIGIBLE or CANNOT_EVALUATE
(``bench._explain_misses``), their households are simulated again as the gateway builds
them (``eligibility.engine.plan``: the household and the alternatives of its unknowns), with
inputs the gateway lets OpenFisca compute fed instead as the law's truth has them
(``sandbox.law``):

- ``asf``: the ASF the CAF pays (none unless the person receives it), where OpenFisca gives
  every lone parent the full ASF for each child;
- ``housing_aid``: the housing aid the CAF pays, as its housing record says (none when it
  pays none), where OpenFisca computes the aid the dwelling would give: the RSA, PPA and CSS
  housing flat rates apply to an aid received;
- ``family_base``: the family benefits' resources of year N-2 (the PAJE and the complément
  familial are means-tested on them), where the gateway's resource window starts in year
  N-1 and OpenFisca reads the months before it as no income.

A miss is put under the smallest set of these after which its answer is ELIGIBLE (the
answer the campaign's rules would give, bounds included), else ``none of these``. Counts
only, never an identity.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from eligibility import bounds
from eligibility import months as mo
from eligibility.engine import plan
from eligibility.household import Household
from eligibility.model import PersonData
from eligibility.results import result
from eligibility.simulation import OUTPUTS, column, declare, feed
from eligibility.system import tax_benefit_system
from sandbox import law
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.months import parse_month

FIXES = ("asf", "housing_aid", "family_base")
Feed = Callable[[Any, str], None]


def _paid_aid(data: PersonData) -> float | None:
    housing = data.housing
    if housing is None or not housing.aid_receiving:
        return 0.0
    return housing.aid_monthly  # None: paid, amount not given: left to OpenFisca


def _simulate(
    households: Sequence[Household], benefit: str, feeds: Sequence[Feed]
) -> list[dict[str, float]]:
    """``eligibility.simulation.simulate`` for one benefit, with ``feeds`` applied after the
    gateway's own inputs (one call per month of the window)."""
    month = households[0].month
    simulation = declare(households).build(tax_benefit_system())
    simulation.trace = False
    feed(simulation, households)
    for when in households[0].months:
        for apply in feeds:
            apply(simulation, when)
    columns = {v: column(simulation, v, month) for v in OUTPUTS[benefit]}
    if benefit in bounds.WITNESSES:
        variable, offsets = bounds.WITNESSES[benefit]
        for offset in offsets:
            at = mo.shift(month, offset)
            columns[bounds.witness_key(variable, offset)] = np.asarray(
                simulation.calculate(variable, at)
            )
    return [{k: float(c[i]) for k, c in columns.items()} for i in range(len(households))]


def smallest_fixes(
    benefit: str,
    missed: Sequence[tuple[int, PersonData]],
    persons: list[PersonDraft],
    households: Sequence[HouseholdDraft],
    month: str,
) -> Counter[str]:
    """The misses (person index, what the campaign read) by the smallest set of ``FIXES``
    after which the gateway's rules entitle them."""
    planned = [plan(data, (benefit,), month) for _, data in missed]
    kept = [
        (i, d, h) for (i, d), h in zip(missed, planned, strict=True) if isinstance(h, Household)
    ]
    out: Counter[str] = Counter({"none of these": len(missed) - len(kept)} if missed else {})
    if not kept:
        return out
    group: list[HouseholdDraft] = []
    for index, _, _ in kept:
        draft = households[persons[index].household]
        if draft not in group:
            group.append(draft)
    truth, _ = law._simulation(persons, group, parse_month(month), True)
    rows = [(k, row) for k, (_, _, h) in enumerate(kept) for row in bounds.rows(h)]
    simulated = [row for _, row in rows]
    of_row = np.array([group.index(households[persons[kept[k][0]].household]) for k, _ in rows])
    paid_aid = [_paid_aid(kept[k][1]) for k, _ in rows]
    aid_known = np.array([a is not None for a in paid_aid])
    aid = np.array([a or 0.0 for a in paid_aid], dtype=np.float32)
    computed_aid = _aid(simulated)

    def family_base(simulation: Any, when: str) -> None:
        variable = "prestations_familiales_base_ressources"
        value = np.asarray(truth.calculate(variable, when))[of_row].astype(np.float32)
        simulation.set_input(variable, when, value)

    def asf(simulation: Any, when: str) -> None:
        value = np.asarray(truth.calculate("asf", when))[of_row].astype(np.float32)
        simulation.set_input("asf", when, value)

    def housing_aid(simulation: Any, when: str) -> None:
        value = np.where(aid_known, aid, computed_aid[when]).astype(np.float32)
        simulation.set_input("aide_logement", when, value)

    feeds: dict[str, Feed] = {"asf": asf, "housing_aid": housing_aid, "family_base": family_base}
    found: dict[int, str] = {}
    for size in range(1, len(FIXES) + 1):
        for combo in itertools.combinations(FIXES, size):
            raws = _simulate(simulated, benefit, [feeds[f] for f in combo])
            by_miss: dict[int, list[dict[str, float]]] = {}
            for (k, _), raw in zip(rows, raws, strict=True):
                by_miss.setdefault(k, []).append(raw)
            for k, (_, data, household) in enumerate(kept):
                answer = result(data, household, benefit, by_miss[k])
                if answer.status == "ELIGIBLE" and k not in found:
                    found[k] = " + ".join(combo)
    out.update(found.get(k, "none of these") for k in range(len(kept)))
    return out


def _aid(households: Sequence[Household]) -> dict[str, Any]:
    """The housing aid the gateway's simulation computes, per month of the window."""
    simulation = declare(households).build(tax_benefit_system())
    simulation.trace = False
    feed(simulation, households)
    return {
        when: np.asarray(simulation.calculate("aide_logement", when))
        for when in households[0].months
    }
