"""Paths over records and the closed set of transforms."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from prefill import TRANSFORMS
from prefill.paths import Every, Index, PathSyntaxError, Slice, Where, parse, read_steps, view_of
from prefill.transforms import apply
from tests.prefill.records import person_records


def read(text: str) -> Any:
    path = parse(text)
    return read_steps(view_of(path.root, person_records()[path.root]), path.steps)


def test_the_longest_root_wins() -> None:
    path = parse("benefits.housingAid.monthly_amount")
    assert path.root == "benefits.housingAid"
    assert [s.attr for s in path.steps] == ["monthly_amount"]


def test_selectors_parse() -> None:
    path = parse("resources.months[-3:].payments[nature=salary].net_social")
    assert [s.selector for s in path.steps] == [
        Slice(-3, None),
        Where("nature", "salary"),
        None,
    ]
    assert parse("household.children[]").steps[0].selector == Every()
    assert parse("household.children[-1]").steps[0].selector == Index(-1)


@pytest.mark.parametrize("bad", ["nobody.name", "identity.Birth", "identity.birth_name[a b]"])
def test_bad_paths_do_not_parse(bad: str) -> None:
    with pytest.raises(PathSyntaxError):
        parse(bad)


def test_reading_records() -> None:
    assert read("identity.given_names") == ("CLAIRE", "MARIE")
    assert read("address.city") == "LYON"
    assert read("household.children[0].given_names") == "LÉA"
    assert read("household.children[5].given_names") is None  # out of range: unknown
    assert read("household.children[].birth_date") == [date(2015, 9, 1), date(2018, 2, 20)]
    assert read("resources.months[-2:].month") == ["2025-05", "2025-06"]
    assert read("resources.months[-1].net_social") == 900.0
    assert read("resources.months[].payments[nature=unemployment_benefit].net_social") == [
        300.0,
        950.5,
        500.0,
    ]
    assert read("benefits.aspa.monthly_amount") == 310.0
    assert read("benefits.housingAid.kind") == "APL"
    assert read("pension.pensions[].kind") == ["own_right", "survivor"]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("join_space", ("JEAN", "PIERRE"), "JEAN PIERRE"),
        ("join_space", "JEAN", "JEAN"),
        ("join_space", (), None),
        ("join_lines", ("1 RUE", "", "BAT A"), "1 RUE\nBAT A"),
        ("upper", "Dupont", "DUPONT"),
        ("title", "JEAN-MARIE", "Jean-Marie"),
        ("iso_date", date(2020, 2, 29), "2020-02-29"),
        ("sum", [0.1, 0.2, None], 0.3),
        ("sum", [], 0),
        ("average", [100.0, 200.0, 301.0], 200.33),
        ("average", [], None),
        ("first", ["a", "b"], "a"),
        ("last", ["a", "b"], "b"),
        ("last", [], None),
        ("count", [1, 2, 3], 3),
        ("any", [False, True], True),
        ("civility", "M", "M."),
        ("civility", "F", "Mme"),
        ("civility", "X", None),
        ("yes_no", True, "oui"),
        ("yes_no", False, "non"),
        ("round2", 10.005001, 10.01),
        ("occupancy_fr", "tenant_furnished", "locataire_meuble"),
        ("pension_kind_fr", "own_right", "droit_propre"),
    ],
)
def test_transforms(name: str, value: Any, expected: Any) -> None:
    assert apply(name, value) == expected


def test_unknown_stays_unknown_through_any_transform() -> None:
    assert all(apply(name, None) is None for name in TRANSFORMS)


def test_every_transform_is_documented() -> None:
    assert all(t.doc for t in TRANSFORMS.values())
