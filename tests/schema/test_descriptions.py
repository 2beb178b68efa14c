"""The schema describes itself: every type, field, argument, input field and enum value."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    is_introspection_type,
    is_specified_scalar_type,
)

from schema.build import SchemaLimits, build_schema

# Apollo Federation's own definitions (the subgraph specification's `_service`, `_entities`,
# `_Any`, `_Entity`, `_FieldSet`, `_Service` and the link specification's `link__` types):
# their meaning is the specification's, and their SDL comes from the federation library.
EXEMPT = frozenset(
    {
        "_Any",
        "_Entity",
        "_FieldSet",
        "_Service",
        "_Service.sdl",
        "Query._service",
        "Query._entities",
        "Query._entities(representations)",
        "link__Import",
        "link__Purpose",
        "link__Purpose.SECURITY",
        "link__Purpose.EXECUTION",
    }
)


def undescribed(schema: GraphQLSchema) -> list[str]:
    """The coordinates (schema coordinates, GraphQL spec §3.17 style) of every definition
    without a description, built-in scalars and introspection types left out."""
    missing: list[str] = []
    for name, named in sorted(schema.type_map.items()):
        if is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg_name})"
                    for arg_name, arg in field.args.items()
                    if not arg.description
                ]
        elif isinstance(named, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, v in named.fields.items() if not v.description]
        elif isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in named.values.items() if not d.description]
    return missing


def test_everything_in_the_schema_is_described() -> None:
    missing = [c for c in undescribed(build_schema(SchemaLimits())._schema) if c not in EXEMPT]
    assert missing == [], "undescribed: " + ", ".join(missing)


def test_the_walk_finds_what_lacks_a_description() -> None:
    from graphql import build_schema as from_sdl

    schema = from_sdl(
        '"""Q"""\ntype Query {\n  """f"""\n  f(a: Int): E\n  g: Int\n}\n'
        "enum E {\n  X\n}\n"
        '"""I"""\ninput I {\n  """i"""\n  i: Int\n  j: Int\n}\n'
    )
    assert undescribed(schema) == ["E", "E.X", "I.j", "Query.f(a)", "Query.g"]


def test_the_error_codes_descriptions_name_are_codes_a_client_can_get() -> None:
    # A description naming AGENCY_UNAVAILABLE or TIMEOUT sent developers matching on strings
    # that never arrive: every upper-case word with an underscore in the SDL's descriptions is
    # an error code, an enum value or a scope of the gateway.
    import re

    from connectors import ConnectorError
    from gateway.documents import NOT_FOUND as DOCUMENT_NOT_FOUND
    from gateway.documents import REQUIRED as DOCUMENT_REQUIRED
    from schema.errors import CODES

    schema = build_schema(SchemaLimits())._schema
    connector_codes = {str(c.code) for c in _subclasses(ConnectorError)}
    enum_values = {
        v for t in schema.type_map.values() if isinstance(t, GraphQLEnumType) for v in t.values
    }
    known = CODES | connector_codes | enum_values | {DOCUMENT_NOT_FOUND, DOCUMENT_REQUIRED}
    named: set[str] = set()
    for text in _descriptions(schema):
        named |= set(re.findall(r"\b[A-Z]+(?:_[A-Z]+)+\b", text))
    assert named and named <= known, sorted(named - known)


def _subclasses(cls: type) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _subclasses(sub)
    return out


def _descriptions(schema: GraphQLSchema) -> list[str]:
    texts: list[str] = []
    for named in schema.type_map.values():
        if is_introspection_type(named):
            continue
        texts.append(named.description or "")
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field in named.fields.values():
                texts.append(field.description or "")
                texts += [a.description or "" for a in field.args.values()]
    return texts
