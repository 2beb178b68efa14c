"""What a value of each field type looks like, and turning input into it.

One function serves two callers: the filler (values read from records, normalised to JSON)
and the submission (what the person typed, which may come as strings from a web form). The
person's input is held to more: an amount they declare cannot be negative, while an agency
may report a negative regularisation, which the person then sees and confirms or corrects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from prefill import months, nir
from prefill.errors import InvalidValue, UnknownField
from prefill.model import FieldDef

MAX_TEXT = 500
MAX_ROWS = 50
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = {"true", "oui", "yes", "1"}
_FALSE = {"false", "non", "no", "0"}


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue(name, "expected text")
    text: str = value.strip()
    if len(text) > MAX_TEXT:
        raise InvalidValue(name, f"longer than {MAX_TEXT} characters")
    return text


def _date(name: str, value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise InvalidValue(name, "expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidValue(name, f"{value!r} is not a date") from None


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise InvalidValue(name, "expected a number")
    if isinstance(value, str):
        try:
            # A French web form writes "1 234,56".
            value = float(value.strip().replace("\u202f", "").replace(" ", "").replace(",", "."))
        except ValueError:
            raise InvalidValue(name, "expected a number") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValue(name, "expected a number")
    return value


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidValue(name, "expected true or false")


def _rows(field: FieldDef, name: str, value: Any, from_person: bool) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        raise InvalidValue(name, "expected a list of rows")
    if len(value) > MAX_ROWS:
        raise InvalidValue(name, f"more than {MAX_ROWS} rows")
    columns = {c.id: c for c in field.children}
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, Mapping):
            raise InvalidValue(f"{name}[{i}]", "expected an object")
        for key in row:
            if key not in columns:
                raise UnknownField(f"{name}[{i}].{key}")
        rows.append(
            {
                c.id: coerce(c, row.get(c.id), from_person=from_person, name=f"{name}[{i}].{c.id}")
                for c in field.children
            }
        )
    return rows


def coerce(field: FieldDef, value: Any, *, from_person: bool, name: str | None = None) -> Any:
    """``value`` as the JSON value of ``field``'s type, or ``InvalidValue`` naming the field."""
    name = name or field.id
    if value is None:
        if from_person and field.required:
            raise InvalidValue(name, "a value is required")
        return None
    kind = field.type
    if kind == "text":
        return _text(name, value)
    if kind == "nir":
        return nir.normalized(name, _text(name, value))
    if kind == "date":
        return _date(name, value)
    if kind == "month":
        month = months.parse(_text(name, value))
        if month is None:
            raise InvalidValue(name, "expected a month: « juin 2026 », 06/2026 or 2026-06")
        return month
    if kind in ("number", "money"):
        number = _number(name, value)
        if kind == "money":
            if from_person and number < 0:
                raise InvalidValue(name, "an amount cannot be negative")
            return round(float(number), 2)
        return number
    if kind == "boolean":
        return _boolean(name, value)
    if kind == "choice":
        text = _text(name, value)
        if text not in field.choices:
            raise InvalidValue(name, f"{text!r} is not one of {', '.join(field.choices)}")
        return text
    return _rows(field, name, value, from_person)
