"""The closed set of transforms a form field may apply to the value its path reads.

Closed on purpose: a form file is data written by form builders, so it names a transform
and never carries code. Each transform takes ``None`` to ``None`` (nothing known stays
unknown) except the aggregates, for which an empty list is a real answer (no salary paid in
those months sums to 0, not to "unknown").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any


def _seq(value: Any) -> Sequence[Any]:
    if isinstance(value, list | tuple):
        return value
    raise TypeError(f"expected a list, got {type(value).__name__}")


def _numbers(value: Any) -> list[float]:
    return [float(v) for v in _seq(value) if v is not None]


def _join(sep: str) -> Callable[[Any], Any]:
    def join(value: Any) -> Any:
        if isinstance(value, str):
            return value
        return sep.join(str(v) for v in _seq(value) if v not in (None, "")) or None

    return join


def _upper(value: Any) -> Any:
    return str(value).upper()


def _title(value: Any) -> Any:
    # str.title() would turn "d'ARC" into "D'Arc" and "jean-marie" right: good enough for
    # names, which the person confirms or corrects anyway.
    return str(value).title()


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)).isoformat()


def _sum(value: Any) -> Any:
    return round(sum(_numbers(value)), 2)


def _average(value: Any) -> Any:
    numbers = _numbers(value)
    return round(sum(numbers) / len(numbers), 2) if numbers else None


def _first(value: Any) -> Any:
    items = _seq(value)
    return items[0] if items else None


def _last(value: Any) -> Any:
    items = _seq(value)
    return items[-1] if items else None


def _count(value: Any) -> Any:
    return len(_seq(value))


def _any(value: Any) -> Any:
    return any(bool(v) for v in _seq(value))


def _civility(value: Any) -> Any:
    return {"M": "M.", "F": "Mme"}.get(str(value))


def _yes_no(value: Any) -> Any:
    return "oui" if value else "non"


def _round2(value: Any) -> Any:
    return round(float(value), 2)


def _table(table: dict[str, str]) -> Callable[[Any], Any]:
    def translate(value: Any) -> Any:
        return table.get(str(value))

    return translate


# Record codes are English (connectors translate the agencies' French); official forms speak
# French, so these give back the form's choice codes.
OCCUPANCY_FR = {
    "tenant": "locataire",
    "tenant_furnished": "locataire_meuble",
    "owner": "proprietaire",
    "free_lodging": "heberge_gratuit",
    "homeless": "sans_domicile",
}
PENSION_KIND_FR = {"own_right": "droit_propre", "survivor": "reversion"}


@dataclass(frozen=True)
class Transform:
    apply: Callable[[Any], Any]
    aggregate: bool  # reads a list (what a path with [] or a slice yields)
    doc: str


TRANSFORMS: dict[str, Transform] = {
    "join_space": Transform(_join(" "), True, "list of strings → one string, space-separated"),
    "join_lines": Transform(_join("\n"), True, "list of strings → one string, one per line"),
    "upper": Transform(_upper, False, "UPPER CASE"),
    "title": Transform(_title, False, "Title Case"),
    "iso_date": Transform(_iso_date, False, "date → YYYY-MM-DD"),
    "sum": Transform(_sum, True, "sum of the numbers, rounded to the cent; [] → 0"),
    "average": Transform(_average, True, "mean of the numbers, rounded to the cent; [] → none"),
    "first": Transform(_first, True, "first element; [] → none"),
    "last": Transform(_last, True, "last element (records list months oldest first)"),
    "count": Transform(_count, True, "number of elements"),
    "any": Transform(_any, True, "true if any element is true"),
    "civility": Transform(_civility, False, 'sex M/F → "M."/"Mme"'),
    "yes_no": Transform(_yes_no, False, 'boolean → "oui"/"non"'),
    "round2": Transform(_round2, False, "number rounded to the cent"),
    "occupancy_fr": Transform(_table(OCCUPANCY_FR), False, "housing occupancy → French code"),
    "pension_kind_fr": Transform(_table(PENSION_KIND_FR), False, "pension kind → French code"),
}


def apply(name: str | None, value: Any) -> Any:
    if name is None:
        return value
    transform = TRANSFORMS[name]
    if value is None:
        return None
    return transform.apply(value)
