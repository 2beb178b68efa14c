"""One vectorised simulation answers exactly what one simulation per household answers."""

from __future__ import annotations

from typing import Any

from eligibility import BENEFITS, evaluate_population
from eligibility.engine import evaluate_one
from eligibility.golden import load_cases, situation_to_person


def test_population_equals_one_by_one(tbs: Any) -> None:
    cases = [c for c in load_cases() if c.month == "2025-06"]
    people = [situation_to_person(c.situation, c.month) for c in cases]
    together = evaluate_population(people, BENEFITS, "2025-06")
    assert len(together) == len(people)
    for person, answers, case in zip(people, together, cases, strict=True):
        alone = evaluate_one(person, BENEFITS, "2025-06")
        assert answers == alone, case.name


def test_only_the_benefits_asked_in_their_order(tbs: Any) -> None:
    case = load_cases()[0]
    person = situation_to_person(case.situation, case.month)
    [answer] = evaluate_population([person], ["aide_logement", "rsa"], case.month)
    assert [r.benefit for r in answer] == ["aide_logement", "rsa"]
