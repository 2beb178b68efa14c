from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from connectors import PivotIdentity
from exchange import AccessContext, Client, PersonReference
from schema.selection import DEFAULT_MONTHS, Selection, person_selection

CALLER = Client("demo-agency-app", frozenset({"person:read", "eligibility:read"}), "social")
CONTEXT = AccessContext("css_instruction", "13002526500013", "case-42")
REF = PersonReference(handle="h")


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


def _selection(query: str) -> Selection:
    doc = parse(query)
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    person = [s for s in op.selection_set.selections if isinstance(s, FieldNode)]
    return person_selection(person, {}, {})


def _born(year: int) -> PivotIdentity:
    return PivotIdentity("DUPONT", ("JEANNE",), date(year, 1, 2), "F", "99100", "69123")


def test_eligibility_under_person_narrows_what_only_its_rules_read_once_the_person_is_known() -> (
    None
):
    """The CNAV's record is read for the CSS's rules only of someone of the ASPA's age;
    selected for itself, it is read whatever the age."""
    request = _selection(
        '{ person { identity { familyName } eligibility(benefits: [CSS], month: "2025-06") '
        "{ status } } }"
    ).request(CALLER, REF, CONTEXT, date(2025, 6, 1))
    assert "pension" in request.fields  # before the person is known: may be needed
    assert request.narrow is not None
    young = request.narrow(_born(1990))
    assert "pension" not in young and {"identity", "benefits.css"} <= young
    assert "pension" in request.narrow(_born(1955))
    selected = _selection(
        '{ person { pension { annee } eligibility(benefits: [CSS], month: "2025-06") { status } } }'
    ).request(CALLER, REF, CONTEXT, date(2025, 6, 1))
    assert selected.narrow is not None and "pension" in selected.narrow(_born(1990))
    # Without eligibility, nothing depends on the person.
    plain = _selection("{ person { identity { familyName } } }")
    assert plain.request(CALLER, REF, CONTEXT, date(2025, 6, 1)).narrow is None


def test_a_bad_month_is_left_to_its_own_eligibility_field() -> None:
    """Narrowing reads every eligibility's month; a malformed one keeps what its rules may
    read (the field itself answers BAD_USER_INPUT), and fails nothing else."""
    request = _selection(
        '{ person { a: eligibility(benefits: [CSS], month: "2025-13") { status } '
        'b: eligibility(benefits: [CSS], month: "2025-06") { status } } }'
    ).request(CALLER, REF, CONTEXT, date(2025, 6, 1))
    assert request.narrow is not None and "pension" in request.narrow(_born(1990))
