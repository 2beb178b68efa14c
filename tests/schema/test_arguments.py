"""Arguments converted once per field give what strawberry's conversion gives (schema.arguments)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from strawberry.types.arguments import convert_arguments

from schema import SchemaLimits, build_schema
from schema.arguments import Arguments
from schema.eligibility import Benefit
from schema.inputs import Sex

SCHEMA = build_schema(SchemaLimits())
REGISTRY = SCHEMA.schema_converter.scalar_registry
IDENTITY = {
    "birthName": "MARTIN",
    "givenNames": ["Léa", "Anne"],
    "birthDate": date(1990, 1, 2),
    "sex": Sex.F,
    "birthCountry": "99100",
    "birthPlace": "75056",
}
CONTEXT = {"purpose": "rsa_instruction", "recipient": "13002526500013", "object": "d-1"}


def _field(type_name: str, name: str) -> Any:
    return SCHEMA._schema.get_type(type_name).fields[name].extensions["strawberry-definition"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("type_name", "field_name", "values"),
    [
        ("Query", "person", {"ref": {"identity": IDENTITY}, "context": CONTEXT}),
        (
            "Query",
            "person",
            {"ref": {"identity": {**IDENTITY, "usageName": None}}, "context": CONTEXT},
        ),
        ("Query", "person", {"ref": {"handle": "h", "franceTravailId": "x"}, "context": CONTEXT}),
        ("Query", "person", {"ref": {"franceConnect": True}, "context": CONTEXT}),
        (
            "Query",
            "eligibility",
            {
                "ref": {"identity": IDENTITY},
                "context": CONTEXT,
                "benefits": [Benefit.RSA, Benefit.CSS],
                "month": "2025-06",
            },
        ),
        ("Person", "resources", {"months": 3}),
        ("Person", "resources", {}),
    ],
)
def test_the_same_as_strawberry(type_name: str, field_name: str, values: dict[str, Any]) -> None:
    field = _field(type_name, field_name)
    ours = Arguments(field.arguments, REGISTRY, SCHEMA.config)(values)
    theirs = convert_arguments(values, field.arguments, REGISTRY, SCHEMA.config)
    assert ours == theirs
    assert [type(v) for v in ours.values()] == [type(v) for v in theirs.values()]


def test_a_default_list_is_copied() -> None:
    field = _field("Query", "eligibility")
    benefits = [Benefit.RSA]
    converted = Arguments(field.arguments, REGISTRY, SCHEMA.config)({"benefits": benefits})
    assert converted["benefits"] == benefits and converted["benefits"] is not benefits
