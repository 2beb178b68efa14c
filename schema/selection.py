"""Which person fields a query selects, read from the GraphQL document itself.

Walking the AST two levels deep (fragments included) is far cheaper than building
strawberry's ``selected_fields`` tree, and planning needs nothing more.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

from connectors import PivotIdentity
from eligibility.errors import BadMonth
from eligibility.inputs import tax_year
from exchange import MAX_MONTHS, AccessContext, Caller, PersonReference, PersonRequest
from schema.eligibility import (
    ELIGIBILITY_FIELDS,
    HISTORY_MONTHS,
    eligibility_fields,
    period_start,
)
from schema.scopes import ELIGIBILITY_READ

# GraphQL field of Person → catalogue field, for fields that map one to one.
_TOP = {
    "identity": "identity",
    "address": "address",
    "household": "household",
    "resources": "resources",
    "taxHousehold": "taxHousehold",
    "pension": "pension",
    "healthCoverage": "healthCoverage",
    "housing": "housing",
    "contact": "contact",
    "studentStatus": "studentStatus",
    "studentGrant": "studentGrant",
}
# Parents whose children are catalogue fields of their own.
_NESTED = {"benefits", "employment"}
DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Selection:
    fields: frozenset[str]
    months: int
    # The scopes the selected fields need beyond person:read (eligibility: eligibility:read).
    scopes: frozenset[str] = frozenset()
    # Each ``eligibility`` selected, as (its benefits argument, its month); and the fields
    # selected for themselves. What the rules read of someone too young for the ASPA is
    # narrowed once the person is known (``_narrowed``); what is selected stays.
    eligibility: tuple[tuple[Any, str | None], ...] = ()
    selected: frozenset[str] = frozenset()

    @property
    def eligibility_month(self) -> str | None:
        """The month of the last ``eligibility`` selected that names one: its window is
        read (``person { eligibility(month: …) }``)."""
        return next((m for _, m in reversed(self.eligibility) if m), None)

    def request(
        self, caller: Caller, ref: PersonReference, context: AccessContext, on: date
    ) -> PersonRequest:
        """The exchange's request for this selection (``person`` and ``_entities`` alike)."""
        month = self.eligibility_month
        return PersonRequest(
            caller=caller,
            ref=ref,
            context=context,
            fields=self.fields,
            on=on,
            months=self.months,
            period_on=period_start(month) if month else None,
            tax_year=tax_year(month) if month else None,
            narrow=partial(_narrowed, self.selected, self.eligibility)
            if self.eligibility
            else None,
        )


def _narrowed(
    selected: frozenset[str],
    eligibility: tuple[tuple[Any, str | None], ...],
    person: PivotIdentity,
) -> frozenset[str]:
    """The fields still needed once ``person`` is known: those selected, and what each
    eligibility asked reads of someone born on their birth date (``eligibility_fields``)."""
    fields = set(selected)
    for benefits, month in eligibility:
        try:
            fields |= _benefit_fields(benefits, person.birth_date, month)
        except BadMonth:  # the eligibility field itself says so, not the whole person
            fields |= _benefit_fields(benefits)
    return frozenset(fields)


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    on: Collection[str] | None = None,
) -> Iterator[FieldNode]:
    """The fields of a selection set, through its fragments; with ``on``, only through the
    fragments on those types or on none, at any depth (``_entities`` selects ``... on
    Person``, or ``... on _Entity { ... on Person }``: the union, then the type)."""
    if selection_set is None:
        return
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            yield node
        elif isinstance(node, InlineFragmentNode):
            if _applies(node.type_condition, on):
                yield from _fields(node.selection_set, fragments, on)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is not None and _applies(fragment.type_condition, on):
                yield from _fields(fragment.selection_set, fragments, on)


def _applies(condition: NamedTypeNode | None, on: Collection[str] | None) -> bool:
    return on is None or condition is None or condition.name.value in on


def _months(node: FieldNode, variables: Mapping[str, Any]) -> int:
    for arg in node.arguments or ():
        if arg.name.value == "months":
            value = value_from_ast_untyped(arg.value, dict(variables))
            if isinstance(value, int):
                return max(1, min(value, MAX_MONTHS))
    return DEFAULT_MONTHS


def person_selection(
    field_nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    on: Collection[str] | None = None,
) -> Selection:
    """The person fields ``field_nodes`` select; ``on``: only under fragments on those types
    (the entities of a federated query, whose field's type is a union: the union and
    ``Person``)."""
    selected: set[str] = set()
    read: set[str] = set()  # what the eligibility rules read
    months = 0
    eligibility: list[tuple[Any, str | None]] = []
    scopes: set[str] = set()
    for person in field_nodes:
        for node in _fields(person.selection_set, fragments, on):
            name = node.name.value
            if name in _TOP:
                selected.add(_TOP[name])
                if name == "resources":
                    months = max(months, _months(node, variables))
            elif name == "eligibility":
                # The rules of the benefits asked read these fields over their history
                # window: fetch them.
                benefits = _argument(node, "benefits", variables)
                month = _month_argument(node, variables)
                read |= _benefit_fields(benefits)
                eligibility.append((_frozen(benefits), month))
                months = max(months, HISTORY_MONTHS)
                scopes.add(ELIGIBILITY_READ)
            elif name in _NESTED:
                for child in _fields(node.selection_set, fragments):
                    if child.name.value != "__typename":
                        selected.add(f"{name}.{child.name.value}")
    return Selection(
        frozenset(selected | read),
        months or DEFAULT_MONTHS,
        frozenset(scopes),
        tuple(eligibility),
        frozenset(selected),
    )


def _benefit_fields(
    benefits: Any, birth: date | None = None, month: str | None = None
) -> frozenset[str]:
    """What the rules of the benefits an ``eligibility`` field names read (of someone born
    on ``birth``, for ``month``); every field they may read when the argument is absent (the
    resolver then refuses the field)."""
    if benefits is None:
        return ELIGIBILITY_FIELDS
    return eligibility_fields(
        benefits if isinstance(benefits, (list, tuple)) else [benefits], birth, month
    )


def _frozen(value: Any) -> Any:
    """An argument's value kept in a frozen selection: a list as a tuple."""
    return tuple(value) if isinstance(value, list) else value


def _month_argument(node: FieldNode, variables: Mapping[str, Any]) -> str | None:
    value = _argument(node, "month", variables)
    return value if isinstance(value, str) else None


def _argument(node: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    """A field's argument as the document or its variables give it; None when absent."""
    for arg in node.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, dict(variables))
    return None


def coerced_variables(raw_info: Any) -> dict[str, Any]:
    """The request's variables as a resolver's graphql-core info holds them: typed
    ``VariableValues`` (its ``coerced`` dict) by graphql-core, a plain dict as strawberry
    hands it."""
    raw_variables: Any = raw_info.variable_values
    variables: dict[str, Any] = getattr(raw_variables, "coerced", raw_variables)
    return variables
