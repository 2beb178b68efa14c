"""Persons without any resource history (every month unknown, evaluated at its bounds), and
deceased persons (answered without running the rules)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from eligibility import BENEFITS, EligibilityService, PersonData, evaluate_population
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.months import history

SITUATION = {
    "person": {"birth_date": "1990-01-15"},
    "resources": {"months": 24, "payments": []},
    "housing": {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24},
}


def _without_history(released: bool) -> PersonData:
    person = situation_to_person(SITUATION, "2025-06")
    if not released:
        return dataclasses.replace(person, resources=None)
    # The agency answered, but with no month of the window declared.
    assert person.resources is not None
    return dataclasses.replace(
        person,
        resources=dataclasses.replace(
            person.resources, months=(), missing_months=history("2025-06")
        ),
    )


def _died(on: date) -> PersonData:
    person = situation_to_person(SITUATION, "2025-06")
    return dataclasses.replace(person, civil=dataclasses.replace(person.civil, death_date=on))


@pytest.mark.parametrize("released", [False, True])
def test_no_history_names_every_missing_month(released: bool) -> None:
    person = _without_history(released)
    expected = tuple(f"resources {m}" for m in history("2025-06"))
    assert expected[0] == "resources 2023-12" and expected[-1] == "resources 2025-05"
    for answers in (
        evaluate_one(person, BENEFITS, "2025-06"),
        evaluate_population([person], BENEFITS, "2025-06")[0],
    ):
        assert [a.benefit for a in answers] == list(BENEFITS)
        # The ASPA at 35 needs no resource: no month can open it (test_decisive.py).
        aspa = answers[3]
        assert aspa.benefit == "aspa" and aspa.status == "NOT_ELIGIBLE" and aspa.missing == ()
        for answer in answers[:3] + answers[4:]:
            assert answer.status == "CANNOT_EVALUATE", answer
            assert answer.missing == expected and answer.monthly_amount is None
            assert not answer.non_take_up and answer.criteria


def test_no_history_keeps_the_model_s_own_gaps() -> None:
    # From 2026-04 the CSS ceiling has no sourced value: still named with the resources.
    [css] = evaluate_one(_without_history(False), ["css"], "2026-05")
    assert css.status == "CANNOT_EVALUATE"
    assert css.missing[:18] == tuple(f"resources {m}" for m in history("2026-05"))
    assert any("CSS resource ceiling" in m for m in css.missing[18:])


@pytest.mark.parametrize("died", [date(2025, 6, 1), date(2025, 6, 30), date(2024, 2, 29)])
def test_deceased_on_or_before_the_month_is_not_evaluated(died: date) -> None:
    person = _died(died)
    for answers in (
        evaluate_one(person, BENEFITS, "2025-06"),
        evaluate_population([person], BENEFITS, "2025-06")[0],
    ):
        assert [a.benefit for a in answers] == list(BENEFITS)
        for answer in answers:
            assert answer.status == "DECEASED", answer
            assert answer.monthly_amount is None and not answer.non_take_up
            assert answer.missing == ()
            [why] = answer.criteria
            assert died.isoformat() in why.text and why.href.startswith("https://")
            [used] = answer.inputs
            assert (used.name, used.value) == ("date_deces", died.isoformat())
            assert used.agency == person.civil.provenance.agency


def test_deceased_without_history_is_deceased() -> None:
    person = dataclasses.replace(_without_history(False), civil=_died(date(2024, 1, 3)).civil)
    assert {a.status for a in evaluate_one(person, BENEFITS, "2025-06")} == {"DECEASED"}


def test_a_death_after_the_month_does_not_stop_the_evaluation(tbs: Any) -> None:
    alive = evaluate_one(situation_to_person(SITUATION, "2025-06"), BENEFITS, "2025-06")
    later = evaluate_one(_died(date(2025, 7, 1)), BENEFITS, "2025-06")
    assert later == alive
    assert {a.benefit: a.status for a in later}["rsa"] == "ELIGIBLE"


def test_a_campaign_mixes_answered_and_simulated_persons(tbs: Any) -> None:
    alive = situation_to_person(SITUATION, "2025-06")
    answers = evaluate_population(
        [_died(date(2025, 5, 2)), alive, _without_history(True), alive], ["rsa"], "2025-06"
    )
    assert [a[0].status for a in answers] == [
        "DECEASED",
        "ELIGIBLE",
        "CANNOT_EVALUATE",
        "ELIGIBLE",
    ]


async def test_the_service_answers_without_its_workers() -> None:
    # Nothing to simulate: the answer needs no worker, not even a started pool.
    service = EligibilityService()
    [rsa] = await service.evaluate(_died(date(2025, 6, 15)), ["rsa"], "2025-06")
    assert rsa.status == "DECEASED"
