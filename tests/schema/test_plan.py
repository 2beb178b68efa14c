"""Which documents compile into a plan (schema.plan); their answers are compared over HTTP in
tests/e2e/test_planned.py."""

from __future__ import annotations

import pytest
from graphql import parse

from schema import SchemaLimits, build_schema
from schema.plan import Compiler, NotPlannable, Plan
from schema.query import PLANNED_ROOTS

SCHEMA = build_schema(SchemaLimits())
HEAD = "query Q($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) "


def _compile(document: str, operation: str | None = None) -> Plan:
    return Compiler(SCHEMA, PLANNED_ROOTS).compile(parse(document), operation)


@pytest.mark.parametrize(
    "selection",
    [
        "{ identity { birthName } }",
        "{ __typename handle accessId a: identity { birthName } b: address { lines } }",
        "{ ... on Person { identity { birthName } } ...F }",
        "{ resources(months: 2) { months { month } } }",
        "{ benefits { rsa { receiving } css { receiving } } employment { status { registered } } }",
    ],
)
def test_compiles(selection: str) -> None:
    tail = " fragment F on Person { housing { zone } }" if "...F" in selection else ""
    assert isinstance(_compile(HEAD + selection + " }" + tail), Plan)


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (HEAD + '{ eligibility(benefits: [RSA], month: "2025-06") { status } } }', "info"),
        (HEAD + "{ identity @include(if: true) { birthName } } }", "directive"),
        (HEAD + "{ identity { birthName } identity { sex } } }", "key twice"),
        ("{ __schema { types { name } } }", "introspection"),
        ("{ purposes { id } }", "root not planned"),
        ('mutation { revokeConsent(id: "x") { id } }', "mutation"),
    ],
)
def test_does_not_compile(document: str, why: str) -> None:
    with pytest.raises(NotPlannable):
        _compile(document)


def test_the_named_operation_is_compiled() -> None:
    two = HEAD + "{ handle } } query Other { purposes { id } }"
    assert isinstance(_compile(two, "Q"), Plan)
    with pytest.raises(NotPlannable):
        _compile(two, "Other")
    with pytest.raises(NotPlannable):
        _compile(two, None)
