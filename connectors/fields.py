"""Hand-written checks of decoded JSON answers (cheaper than a schema library on a hot path).

Each reader takes the object and a key, and returns the typed value or raises
:class:`Malformed` naming the field, which the caller turns into ``UpstreamInvalid``.
Field names are the agency's schema, never personal values, so they are safe in messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class Malformed(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class WrongPerson(Exception):
    """The answer is about someone else than the person asked."""


def obj(d: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = d.get(key)
    if not isinstance(value, dict):
        raise Malformed(key)
    return value


def opt_obj(d: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Malformed(key)
    return value


def objects(d: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = d.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Malformed(key)
    return value


def string(d: Mapping[str, Any], key: str) -> str:
    value = d.get(key)
    if not isinstance(value, str):
        raise Malformed(key)
    return value


def opt_string(d: Mapping[str, Any], key: str) -> str | None:
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise Malformed(key)
    return value


def strings(d: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = d.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Malformed(key)
    return tuple(value)


def boolean(d: Mapping[str, Any], key: str) -> bool:
    value = d.get(key)
    if not isinstance(value, bool):
        raise Malformed(key)
    return value


def opt_boolean(d: Mapping[str, Any], key: str) -> bool | None:
    value = d.get(key)
    if value is not None and not isinstance(value, bool):
        raise Malformed(key)
    return value


def integer(d: Mapping[str, Any], key: str) -> int:
    value = d.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(key)
    return value


def opt_integer(d: Mapping[str, Any], key: str) -> int | None:
    return None if d.get(key) is None else integer(d, key)


def number(d: Mapping[str, Any], key: str) -> float:
    value = d.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise Malformed(key)
    return float(value)


def opt_number(d: Mapping[str, Any], key: str) -> float | None:
    return None if d.get(key) is None else number(d, key)


def parse_day(value: object, key: str) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise Malformed(key)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Malformed(key) from None


def day(d: Mapping[str, Any], key: str) -> date:
    return parse_day(d.get(key), key)


def opt_day(d: Mapping[str, Any], key: str) -> date | None:
    value = d.get(key)
    return None if value is None else parse_day(value, key)


def partial_day(d: Mapping[str, Any], key: str) -> date | None:
    """A birth date where the CAF writes an unknown day or month as ``00`` (``2020-00-00``)."""
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, str) and _DAY.fullmatch(value) and ("-00" in value[4:]):
        return None
    return parse_day(value, key)


def month(d: Mapping[str, Any], key: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise Malformed(key)
    return value


def choice(d: Mapping[str, Any], key: str, names: Mapping[str, T]) -> T:
    """An enumerated value, translated to our own name."""
    value = d.get(key)
    if not isinstance(value, str) or value not in names:
        raise Malformed(key)
    return names[value]
