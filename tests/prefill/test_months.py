"""Months as a form holds them and as a person writes them."""

from __future__ import annotations

import pytest

from prefill import load_forms, months
from prefill.errors import InvalidValue
from prefill.values import coerce


@pytest.mark.parametrize(
    "typed",
    ["juin 2026", "Juin 2026", " JUIN  2026 ", "06/2026", "6/2026", "6 / 2026", "2026-06"],
)
def test_the_ways_a_person_writes_a_month(typed: str) -> None:
    assert months.parse(typed) == "2026-06"


@pytest.mark.parametrize(
    ("typed", "month"),
    [("février 2026", "2026-02"), ("fevrier 2026", "2026-02"), ("août 2025", "2025-08"),
     ("aout 2025", "2025-08"), ("déc. 2025", "2025-12"), ("sept. 2026", "2026-09"),
     ("juill. 2026", "2026-07")],
)  # fmt: skip
def test_accents_and_abbreviations(typed: str, month: str) -> None:
    assert months.parse(typed) == month


@pytest.mark.parametrize(
    "typed", ["", "juin", "2026", "13/2026", "2026-13", "juni 2026", "06-2026"]
)
def test_what_is_not_a_month_is_not_guessed(typed: str) -> None:
    assert months.parse(typed) is None


def test_words_and_back() -> None:
    for number in range(1, 13):
        month = f"2026-{number:02d}"
        assert months.parse(months.words(month)) == month
    assert months.words("2026-08") == "août 2026"
    with pytest.raises(ValueError):
        months.words("juin 2026")


def test_a_forms_month_column_takes_words_and_refuses_nonsense() -> None:
    table = load_forms()["rsa"].field("ressources_trimestre")
    assert table is not None
    [column] = [c for c in table.children if c.id == "mois"]
    assert column.type == "month"
    assert coerce(column, "juin 2026", from_person=True) == "2026-06"
    with pytest.raises(InvalidValue, match="mois"):
        coerce(column, "le mois dernier", from_person=True, name="ressources_trimestre[0].mois")
