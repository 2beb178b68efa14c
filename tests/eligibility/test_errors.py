"""Bad inputs get typed errors with a BAD_USER_INPUT code."""

from __future__ import annotations

import pytest

from eligibility import (
    BENEFITS,
    EligibilityError,
    MonthOutOfRange,
    UnknownBenefit,
    evaluate_population,
    required_history,
)
from eligibility.engine import evaluate_one
from eligibility.errors import BadMonth
from eligibility.golden import situation_to_person

SITUATION = {
    "person": {"birth_date": "1990-01-15"},
    "resources": {"months": 24, "payments": []},
    "housing": {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24},
}


def test_required_history_is_the_18_months_before() -> None:
    assert required_history("2025-06") == ("2023-12", "2025-05")
    assert required_history("2019-01") == ("2017-07", "2018-12")


@pytest.mark.parametrize("month", ["2018-12", "2027-01", "1999-06"])
def test_month_out_of_range(month: str) -> None:
    with pytest.raises(MonthOutOfRange) as caught:
        required_history(month)
    assert caught.value.code == "BAD_USER_INPUT"
    person = situation_to_person(SITUATION, "2025-06")
    with pytest.raises(MonthOutOfRange):
        evaluate_one(person, BENEFITS, month)


@pytest.mark.parametrize("month", ["2025-6", "2025-13", "june", ""])
def test_bad_month(month: str) -> None:
    with pytest.raises(BadMonth) as caught:
        required_history(month)
    assert caught.value.code == "BAD_USER_INPUT"


def test_unknown_benefit() -> None:
    person = situation_to_person(SITUATION, "2025-06")
    with pytest.raises(UnknownBenefit) as caught:
        evaluate_one(person, ["rsa", "apl"], "2025-06")
    assert caught.value.code == "BAD_USER_INPUT"
    assert isinstance(caught.value, EligibilityError)
    with pytest.raises(UnknownBenefit):
        evaluate_population([person], ["nope"], "2025-06")
