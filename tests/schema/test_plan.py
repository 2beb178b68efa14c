"""Which documents compile into a plan (schema.plan); their answers are compared over HTTP in
tests/e2e/test_planned.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import parse

from schema import SchemaLimits, build_schema
from schema.errors import typed
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


# ── completion, against generic execution, on a schema of its own ─────────────────────


@strawberry.type
class _Thing:
    name: str
    flag: bool
    ident: strawberry.ID
    count: int
    maybe: str | None
    items: list[str]


_THINGS: dict[str, Any] = {}


@strawberry.type
class _Query:
    @strawberry.field
    async def thing(self, key: str) -> _Thing | None:
        return _THINGS[key]  # type: ignore[no-any-return]


async def _read_thing(_context: Any, arguments: dict[str, Any], *_rest: Any) -> Any:
    return _THINGS[arguments["key"]]


_SMALL = strawberry.Schema(query=_Query)
_COERCED = {"name": 5, "flag": 1, "ident": 7, "maybe": True}
_DOCUMENT = "query($k: String!) { thing(key: $k) { name flag ident count maybe items } }"


def _thing(**values: Any) -> Any:
    base: dict[str, Any] = {
        "name": "a",
        "flag": True,
        "ident": "i",
        "count": 1,
        "maybe": None,
        "items": ["x"],
    }
    return SimpleNamespace(**{**base, **values})


@pytest.mark.parametrize(
    "values",
    [
        {},  # every value of its own type: returned as is
        _COERCED,  # coerced, as generic does
        {"name": None},  # null in a non-null field: an error, and the null bubbles up
        {"items": ["x", None]},  # null in a list of non-null items: up through the list
        {"count": 2**31},  # out of Int's range: an error
        {"flag": "yes"},  # not a Boolean: an error
    ],
)
async def test_completion_is_generic_executions(values: dict[str, Any]) -> None:
    _THINGS["k"] = _thing(**values)
    variables = {"k": "k"}
    generic = await _SMALL.execute(_DOCUMENT, variable_values=variables)
    plan = Compiler(_SMALL, {"thing": _read_thing}).compile(parse(_DOCUMENT), None)
    planned = await plan.run(None, variables)
    assert planned is not None
    assert planned.data == generic.data
    # The product's schema types errors in an extension (schema.errors): here, by hand.
    assert [(e.message, e.path, e.extensions) for e in planned.errors or ()] == [
        (t.message, t.path, t.extensions) for t in map(typed, generic.errors or ())
    ]
    assert bool(planned.errors) == (values not in ({}, _COERCED))
