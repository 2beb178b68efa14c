from __future__ import annotations

from datetime import date

import pytest

from exchange import InvalidRequest, Window, shift_month


def test_shift_month_crosses_years() -> None:
    assert shift_month("2025-01", -1) == "2024-12"
    assert shift_month("2024-12", 1) == "2025-01"
    assert shift_month("2025-06", -23) == "2023-07"


def test_window_ends_the_month_before_the_reference_date() -> None:
    w = Window.ending_before(date(2025, 7, 15), 18)
    assert (w.first, w.last) == ("2024-01", "2025-06")


def test_income_year_follows_the_assessment_calendar() -> None:
    assert Window.ending_before(date(2025, 7, 1), 1).income_year == 2023
    assert Window.ending_before(date(2025, 9, 1), 1).income_year == 2024


@pytest.mark.parametrize("months", [0, -1, 25])
def test_window_bounds(months: int) -> None:
    with pytest.raises(InvalidRequest):
        Window.ending_before(date(2025, 7, 1), months)
