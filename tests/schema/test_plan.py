"""Which documents compile into a plan (schema.plan); their answers are compared over HTTP in
tests/e2e/test_planned.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError, parse

from exchange.partial import Awaited, NotYet
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


# ── completion ahead, while the reader waits (exchange.partial), against generic ──────────


class _Refusal(GraphQLError):
    pass


def _need(values: Any, key: str) -> Any:
    value = values[key]  # NotYet when not settled
    if isinstance(value, Exception):
        raise value
    return value


@strawberry.type
class _Part:
    _values: strawberry.Private[Any]

    @strawberry.field
    def label(self) -> str | None:
        return _need(self._values, "d")  # type: ignore[no-any-return]

    @strawberry.field
    def code(self) -> str:
        return _need(self._values, "e")  # type: ignore[no-any-return]


@strawberry.type
class _Box:
    _values: strawberry.Private[Any]

    @strawberry.field
    def a(self) -> str | None:
        return _need(self._values, "a")  # type: ignore[no-any-return]

    @strawberry.field
    def b(self) -> list[str] | None:
        return _need(self._values, "b")  # type: ignore[no-any-return]

    @strawberry.field
    def c(self) -> str:
        return _need(self._values, "c")  # type: ignore[no-any-return]

    @strawberry.field
    def part(self) -> _Part:
        return _Part(_values=self._values)

    @strawberry.field
    def count(self) -> int:
        return len(self._values)  # depends on every key: only after the last


_BOX: dict[str, Any] = {}
_ORDER: list[str] = []


@strawberry.type
class _BoxQuery:
    @strawberry.field
    async def box(self) -> _Box | None:
        return _Box(_values=dict(_BOX))


async def _read_box(_context: Any, _arguments: Any, *rest: Any) -> Any:
    early = rest[3]
    if early is not None:
        settled: dict[str, Any] = {}
        for key in _ORDER:
            settled[key] = _BOX[key]
            awaiting = frozenset(_BOX) - settled.keys()
            if awaiting:
                early(_Box(_values=Awaited(settled, awaiting)), frozenset({key}))
    return _Box(_values=dict(_BOX))


_BOXES = strawberry.Schema(query=_BoxQuery)
_BOX_DOCUMENT = "{ box { a b c part { label code } count } }"
_FINE = {"a": "x", "b": ["y", "z"], "c": "w", "d": "v", "e": "u"}


@pytest.mark.parametrize("order", ["abcde", "edcba", "cadeb", "bedac"])
@pytest.mark.parametrize(
    "values",
    [
        {},
        {"a": _Refusal("a refused")},  # a field's error, ahead or after
        {"b": ["y", None]},  # a null in a list of non-null items
        {"c": _Refusal("c refused")},  # a non-null field's error: the box is null
        {"c": None, "d": _Refusal("d refused")},  # two nulls going up: the first wins
        {"d": _Refusal("d refused")},  # an error in an object field's own fields
        {"e": None},  # a non-null field of a non-null object: up through both
        {"e": None, "a": _Refusal("a refused")},
    ],
)
async def test_completion_ahead_is_generic_executions(values: dict[str, Any], order: str) -> None:
    _BOX.clear()
    _BOX.update({**_FINE, **values})
    _ORDER[:] = list(order)
    generic = await _BOXES.execute(_BOX_DOCUMENT)
    plan = Compiler(_BOXES, {"box": _read_box}).compile(parse(_BOX_DOCUMENT), None)
    planned = await plan.run(None, {})
    assert planned is not None
    assert planned.data == generic.data
    box = (planned.data or {}).get("box")
    assert list(box or {}) == list((generic.data or {}).get("box") or {})  # the keys' order
    assert [(e.message, e.path) for e in planned.errors or ()] == [
        (e.message, e.path) for e in map(typed, generic.errors or ())
    ]


def test_a_provisional_mapping_answers_only_what_is_settled() -> None:
    settled: dict[str, int] = {"a": 1}
    view = Awaited(settled, frozenset({"b"}))
    assert view["a"] == 1 and view.get("c") is None and "a" in view
    for read in (lambda: view["b"], lambda: view.get("b"), lambda: "b" in view):
        with pytest.raises(NotYet) as waited:
            read()
        assert waited.value.key == "b"
    for whole in (lambda: list(view), lambda: len(view), lambda: bool(view)):
        with pytest.raises(NotYet):
            whole()
    settled["b"] = 2  # answered later: this mapping still does not have it
    with pytest.raises(NotYet):
        view["b"]
