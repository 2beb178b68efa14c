"""Field arguments converted to their Python values by a converter built once per field.

``strawberry.types.arguments.convert_arguments`` works out, for every value of every request,
what kind of type it converts to (optional, list, leaf, enum, input object) and each input
field's GraphQL name. The answer never changes for a field: here it is worked out once, and
the converter keeps only the steps the value needs. Conversions strawberry hands to a type of
its own (``Maybe``, ``from_input`` input types, global ids) keep strawberry's function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import (
    StrawberryArgument,
    _is_leaf_type,
    _is_optional_leaf_type,
    convert_argument,
)
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]
Registry = Mapping[object, Any]


def _same(value: Any) -> Any:
    return value


def _list(value: Any) -> Any:
    # Copied: graphql-core hands every request that omits the value the same default list.
    return value if value is None or value is UNSET else list(value)


def converter(type_: Any, registry: Registry, config: StrawberryConfig) -> Convert:
    """What ``convert_argument(value, type_, …)`` does to a value, decided once."""
    if isinstance(type_, StrawberryMaybe):
        return _generic(type_, registry, config)
    if isinstance(type_, StrawberryOptional):
        return converter(type_.of_type, registry, config)
    if isinstance(type_, StrawberryList):
        item_type = type_.of_type
        skip = (GlobalID,)
        if _is_leaf_type(item_type, registry, skip_classes=skip) or _is_optional_leaf_type(
            item_type, registry, skip_classes=skip
        ):
            return _list
        item = converter(item_type, registry, config)

        def listed(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            return [item(x) for x in value]

        return listed
    if _is_leaf_type(type_, registry):
        return _generic(type_, registry, config) if type_ is GlobalID else _same
    if isinstance(type_, LazyType):
        return converter(type_.resolve_type(), registry, config)
    if has_enum_definition(type_):
        return _same  # graphql-core's enum values are the Python members already
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        if definition.from_input is not None:
            return _generic(type_, registry, config)
        defaults = (
            {
                f.python_name: None
                for f in definition.fields
                if f.default_value is MISSING and f.default_factory is MISSING
            }
            if definition.is_input
            else {}
        )
        fields = [
            (
                config.name_converter.from_field(f),
                f.python_name,
                converter(f.resolve_type(type_definition=definition), registry, config),
            )
            for f in definition.fields
        ]
        cls = type_

        def built(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(defaults)
            for graphql_name, python_name, convert in fields:
                if graphql_name in value:
                    kwargs[python_name] = convert(value[graphql_name])
            return cls(**kwargs)

        return built
    return _generic(type_, registry, config)


def _generic(type_: Any, registry: Registry, config: StrawberryConfig) -> Convert:
    return lambda value: convert_argument(value, type_, registry, config)


class Arguments:
    """A field's arguments: GraphQL values by GraphQL name → Python values by Python name."""

    def __init__(
        self, arguments: Sequence[StrawberryArgument], registry: Registry, config: StrawberryConfig
    ) -> None:
        self._arguments = [
            (
                config.name_converter.from_argument(a),
                a.python_name,
                converter(a.type, registry, config),
            )
            for a in arguments
        ]

    def __call__(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {
            python_name: convert(values[name])
            for name, python_name, convert in self._arguments
            if name in values
        }
