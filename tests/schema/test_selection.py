from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.selection import DEFAULT_MONTHS, person_selection


def _select(query: str, variables: dict[str, Any] | None = None) -> tuple[frozenset[str], int]:
    doc = parse(query)
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    person = [s for s in op.selection_set.selections if isinstance(s, FieldNode)]
    sel = person_selection(person, fragments, variables or {})
    return sel.fields, sel.months


def test_top_level_and_nested_fields() -> None:
    fields, months = _select(
        "{ person { identity { birthName } benefits { rsa { receiving } aspa { receiving } "
        "__typename } employment { status { registered } } } }"
    )
    assert fields == {"identity", "benefits.rsa", "benefits.aspa", "employment.status"}
    assert months == DEFAULT_MONTHS


def test_fragments_and_inline_fragments_count() -> None:
    fields, _ = _select(
        "{ person { ...F ... on Person { housing { occupancy } } } } "
        "fragment F on Person { pension { pensions { scheme } } benefits { ...B } } "
        "fragment B on Benefits { css { receiving } }"
    )
    assert fields == {"pension", "housing", "benefits.css"}


def test_an_empty_parent_selects_nothing() -> None:
    fields, _ = _select("{ person { benefits { __typename } } }")
    assert fields == frozenset()


@pytest.mark.parametrize(
    ("query", "variables", "months"),
    [
        ("{ person { resources(months: 18) { missingMonths } } }", None, 18),
        ("query($m: Int) { person { resources(months: $m) { missingMonths } } }", {"m": 6}, 6),
        (
            "{ person { a: resources(months: 3) { missingMonths } "
            "b: resources(months: 20) { missingMonths } } }",
            None,
            20,
        ),
        ("{ person { resources(months: 99) { missingMonths } } }", None, 24),
    ],
)
def test_months_window(query: str, variables: dict[str, Any] | None, months: int) -> None:
    assert _select(query, variables)[1] == months


def test_eligibility_selects_what_the_rules_of_the_benefits_asked_read() -> None:
    """Data minimisation: the CSS alone reads no other benefit's payments; the ASPA reads no
    housing and no student status."""
    css, months = _select(
        '{ person { eligibility(benefits: [CSS], month: "2025-06") { status } } }'
    )
    assert {"benefits.css", "resources", "housing"} <= css and months == 18
    assert not css & {"benefits.rsa", "benefits.primeActivite"}
    aspa, _ = _select(
        'query($b: [Benefit!]!) { person { eligibility(benefits: $b, month: "2025-06") '
        "{ status } } }",
        {"b": ["ASPA"]},
    )
    assert {"pension", "benefits.aspa"} <= aspa and not aspa & {"housing", "studentStatus"}
    both, _ = _select(
        '{ person { a: eligibility(benefits: [CSS], month: "2025-06") { status } '
        'b: eligibility(benefits: [RSA], month: "2025-06") { status } } }'
    )
    assert {"benefits.css", "benefits.rsa", "studentStatus"} <= both


def test_an_unreadable_benefits_argument_selects_every_field_the_rules_may_read() -> None:
    fields, _ = _select('{ person { eligibility(benefits: [NOPE], month: "2025-06") { status } } }')
    assert {"benefits.css", "benefits.rsa", "studentStatus", "pension"} <= fields
