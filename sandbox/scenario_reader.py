"""A strict reader for the scenario YAML: every key known, every value checked, errors located.

A golden case that silently ignores a misspelt key tests something other than what its author
wrote, so unknown keys are errors, and every error names the file and the key path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date

from sandbox.months import parse_month


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message starts with ``file: key.path:``."""


class Fields:
    """One YAML mapping being read; ``close()`` rejects the keys nobody asked for."""

    def __init__(self, raw: object, source: str, path: str) -> None:
        self.source = source
        self.path = path
        if not isinstance(raw, Mapping):
            raise self.error(None, "expected a mapping")
        self.raw: Mapping[object, object] = raw
        self.seen: set[str] = set()

    def where(self, key: str | None) -> str:
        if key is None:
            return self.path or "(top level)"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {self.where(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str) -> object:
        self.seen.add(key)
        return self.raw.get(key)

    def close(self) -> None:
        unknown = sorted(str(k) for k in self.raw if k not in self.seen)
        if unknown:
            raise self.error(unknown[0], "unknown key")

    # --- scalars --------------------------------------------------------------------------

    def maybe_text(self, key: str, pattern: re.Pattern[str] | None = None) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "expected a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise self.error(key, f"{value!r} is not valid here")
        return value

    def text(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.maybe_text(key, pattern)
        if value is None:
            raise self.error(key, "required")
        return value

    def choice(self, key: str, options: Sequence[str], default: str | None = None) -> str:
        value = self.maybe_text(key)
        if value is None:
            if default is None:
                raise self.error(key, "required")
            return default
        if value not in options:
            raise self.error(key, f"{value!r} is not one of {', '.join(options)}")
        return value

    def maybe_number(self, key: str, low: float = 0.0) -> float | None:
        value = self.get(key)
        if value is None:
            return None
        # bool is an int in Python; "yes" for an amount is a mistake, not 1 €.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, "expected a number")
        if value < low:
            raise self.error(key, f"must be at least {low:g}")
        return round(float(value), 2)

    def number(self, key: str, default: float | None = None, low: float = 0.0) -> float:
        value = self.maybe_number(key, low)
        if value is None:
            if default is None:
                raise self.error(key, "required")
            return default
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, f"expected an integer between {low} and {high}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, "expected true or false")
        return value

    def maybe_day(self, key: str) -> date | None:
        value = self.get(key)
        if value is None:
            return None
        # YAML reads an unquoted 1990-01-15 as a date and a quoted one as a string.
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(key, "expected a date YYYY-MM-DD")

    def day(self, key: str) -> date:
        value = self.maybe_day(key)
        if value is None:
            raise self.error(key, "required")
        return value

    def maybe_month(self, key: str) -> int | None:
        value = self.get(key)
        return None if value is None else self.month_value(key, value)

    def month_value(self, key: str, value: object) -> int:
        try:
            return parse_month(value if isinstance(value, str) else "")
        except ValueError:
            raise self.error(key, "expected a month YYYY-MM (quoted)") from None

    # --- containers -----------------------------------------------------------------------

    def maybe_mapping(self, key: str) -> Fields | None:
        value = self.get(key)
        return None if value is None else Fields(value, self.source, self.where(key))

    def entries(self, key: str) -> Iterator[tuple[str, object]]:
        """The pairs of a mapping whose keys are data (months, years), not field names."""
        value = self.get(key)
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise self.error(key, "expected a mapping")
        for name, item in value.items():
            yield str(name), item

    def items(self, key: str, required: bool = False) -> list[Fields]:
        value = self.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            raise self.error(key, "expected a non-empty list" if required else "expected a list")
        return [Fields(v, self.source, f"{self.where(key)}[{i}]") for i, v in enumerate(value)]

    def texts(self, key: str, pattern: re.Pattern[str], low: int, high: int) -> tuple[str, ...]:
        value = self.get(key)
        if not isinstance(value, list) or not low <= len(value) <= high:
            raise self.error(key, f"expected a list of {low} to {high} strings")
        for item in value:
            if not isinstance(item, str) or not pattern.match(item):
                raise self.error(key, f"{item!r} is not valid here")
        return tuple(value)
