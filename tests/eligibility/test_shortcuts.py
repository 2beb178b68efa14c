"""What the simulation feeds in place of OpenFisca's formulas changes no output.

``eligibility.simulation.SHORTCUTS`` are variables fed as the values their formulas would
give from what is fed (``caah``, ``asi``), and ``boursier`` fed False where no grant is paid.
For every golden situation, with its alternatives as rows as the engine simulates them, the
raw outputs (witnesses included) are those of the same simulation where OpenFisca computes
them: in each month the cases use, with the students in the batch and without them.
"""

from __future__ import annotations

from typing import Any

import pytest

from eligibility import bounds, simulation
from eligibility.engine import plan
from eligibility.golden import load_cases, situation_to_person
from eligibility.household import Household
from eligibility.model import BENEFITS

_CASES = load_cases()
_MONTHS = sorted({c.month for c in _CASES})


def _rows(month: str, students: bool) -> list[Household]:
    rows: list[Household] = []
    for case in _CASES:
        if case.month != month:
            continue
        planned = plan(situation_to_person(case.situation, month), BENEFITS, month)
        if isinstance(planned, Household):
            rows.extend(bounds.rows(planned))
    if not students:
        rows = [r for r in rows if not any(any(m.student) for m in r.members)]
    return rows


def _computed_by_openfisca(rows: list[Household]) -> list[dict[str, float]]:
    fed = simulation.prepare(rows)
    for name in (*simulation.SHORTCUTS, simulation.STUDENT_GRANT):
        fed.delete_arrays(name)
    return simulation.outputs(fed, rows[0].month, BENEFITS)


def _has_students(rows: list[Household]) -> bool:
    return any(any(m.student) for r in rows for m in r.members)


@pytest.mark.parametrize(
    ("month", "students"),
    [(m, s) for m in _MONTHS for s in (True, False) if s is False or _has_students(_rows(m, s))],
)
def test_the_shortcuts_give_what_the_formulas_give(month: str, students: bool, tbs: Any) -> None:
    rows = _rows(month, students)
    assert _has_students(rows) is students
    fed = simulation.prepare(rows)
    fed_as = (*simulation.SHORTCUTS, simulation.STUDENT_GRANT)
    known = {name: bool(fed.get_holder(name).get_known_periods()) for name in fed_as}
    # The grant status is always fed: False where no grant is paid (no golden case has one),
    # which is what OpenFisca's formulas give.
    assert not any(any(m.grant) for r in rows for m in r.members)
    assert known == dict.fromkeys(fed_as, True)
    answers = simulation.simulate(rows, BENEFITS)
    # the housing aid's resources are read
    assert any(a["aide_logement_calcule"] > 0 for a in answers)
    assert answers == _computed_by_openfisca(rows)
