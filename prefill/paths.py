"""Person-view paths: ``<field>.<attribute>[selector].<attribute>…`` over connector records.

A path starts with a person-view field name (the exchange catalogue's: ``identity``,
``benefits.rsa``…), then attribute names of that field's record in snake_case. An attribute
holding a tuple takes a selector:

- ``[]`` every element, ``[i]`` one element (negative counts from the end: records list
  months oldest first), ``[a:b]`` a slice, ``[attr=value]`` the elements whose ``attr`` is
  ``value`` (``payments[nature=salary]``).

After ``[]``, a slice or a filter the path reads *each* element, and the answer is a list
(aggregated by a transform such as ``sum``). Paths are checked when a form loads, against the
record dataclasses' type hints, so a typo fails at start rather than reading ``None``.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors import records as r


@dataclass(frozen=True)
class AspaView:
    """``benefits.aspa`` as the person view shows it (the CNAV answer holds it)."""

    receiving: bool
    monthly_amount: float | None
    since: date | None


@dataclass(frozen=True)
class HousingAidView:
    """``benefits.housingAid`` as the person view shows it (the housing answer holds it)."""

    receiving: bool
    kind: str | None
    monthly_amount: float | None


@dataclass(frozen=True)
class Root:
    record: type  # what the exchange returns for the field
    view: type  # what paths read (the record itself, or the part the person view shows)
    project: Callable[[Any], Any]


def _same(record: Any) -> Any:
    return record


# Person-view field → its record. Kept here, not imported from the exchange: prefill reads
# only connector records; a test checks the names against the exchange catalogue.
ROOTS: dict[str, Root] = {
    "identity": Root(r.CivilStatus, r.CivilStatus, _same),
    "address": Root(r.TaxHousehold, r.PostalAddress, lambda t: t.address),
    "household": Root(r.FamilyQuotient, r.FamilyQuotient, _same),
    "resources": Root(r.Resources, r.Resources, _same),
    "taxHousehold": Root(r.TaxHousehold, r.TaxHousehold, _same),
    "benefits.rsa": Root(r.BenefitStatus, r.BenefitStatus, _same),
    "benefits.primeActivite": Root(r.BenefitStatus, r.BenefitStatus, _same),
    "benefits.aah": Root(r.BenefitStatus, r.BenefitStatus, _same),
    "benefits.asf": Root(r.BenefitStatus, r.BenefitStatus, _same),
    "benefits.css": Root(r.CssStatus, r.CssStatus, _same),
    "benefits.aspa": Root(
        r.Retirement,
        AspaView,
        lambda t: AspaView(t.aspa_receiving, t.aspa_monthly, t.aspa_since),
    ),
    "benefits.housingAid": Root(
        r.Housing,
        HousingAidView,
        lambda h: HousingAidView(h.aid_receiving, h.aid_kind, h.aid_monthly),
    ),
    "employment.status": Root(r.JobSeekerStatus, r.JobSeekerStatus, _same),
    "employment.payments": Root(r.UnemploymentPayments, r.UnemploymentPayments, _same),
    "contact": Root(r.Contact, r.Contact, _same),
    "studentStatus": Root(r.StudentStatus, r.StudentStatus, _same),
    "studentGrant": Root(r.StudentGrant, r.StudentGrant, _same),
    "pension": Root(r.Retirement, r.Retirement, _same),
    "healthCoverage": Root(r.HealthInsurance, r.HealthInsurance, _same),
    "housing": Root(r.Housing, r.Housing, _same),
}


@dataclass(frozen=True)
class Every:
    pass


@dataclass(frozen=True)
class Index:
    at: int


@dataclass(frozen=True)
class Slice:
    start: int | None
    stop: int | None


@dataclass(frozen=True)
class Where:
    attr: str
    value: str


Selector = Every | Index | Slice | Where


@dataclass(frozen=True)
class Step:
    attr: str
    selector: Selector | None


@dataclass(frozen=True)
class Path:
    text: str
    root: str
    steps: tuple[Step, ...]


class PathSyntaxError(ValueError):
    pass


_STEP = re.compile(r"([a-z_][a-z0-9_]*)(?:\[([^\]]*)\])?")
_INT = re.compile(r"-?\d+")


def _selector(text: str | None) -> Selector | None:
    if text is None:
        return None
    text = text.strip()
    if text == "":
        return Every()
    if _INT.fullmatch(text):
        return Index(int(text))
    if ":" in text:
        start, _, stop = text.partition(":")
        if (start and not _INT.fullmatch(start)) or (stop and not _INT.fullmatch(stop)):
            raise PathSyntaxError(f"bad slice [{text}]")
        return Slice(int(start) if start else None, int(stop) if stop else None)
    attr, eq, value = text.partition("=")
    if not eq or not re.fullmatch(r"[a-z_][a-z0-9_]*", attr.strip()) or not value.strip():
        raise PathSyntaxError(f"bad selector [{text}]")
    return Where(attr.strip(), value.strip())


def parse_steps(text: str) -> tuple[Step, ...]:
    """``a[0].b[]`` → its steps; ``""`` → no step."""
    if text == "":
        return ()
    steps = []
    for part in text.split("."):
        m = _STEP.fullmatch(part)
        if m is None:
            raise PathSyntaxError(f"bad step {part!r}")
        steps.append(Step(m.group(1), _selector(m.group(2))))
    return tuple(steps)


def parse(text: str) -> Path:
    # Root names contain dots (``benefits.rsa``): the longest one the path starts with wins.
    roots = sorted((n for n in ROOTS if text == n or text.startswith(n + ".")), key=len)
    if not roots:
        head = text.split(".")[0].split("[")[0]
        raise PathSyntaxError(f"{head!r} is not a person-view field")
    root = roots[-1]
    return Path(text, root, parse_steps(text[len(root) + 1 :]))


# --- static check against the record types --------------------------------------------------


def _strip_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _element(hint: Any) -> Any | None:
    """The element type of ``tuple[X, ...]``, else None."""
    hint = _strip_optional(hint)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return _strip_optional(args[0])
    return None


def _attribute(cls: Any, attr: str) -> Any:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise PathSyntaxError(f"cannot read {attr!r} of a {getattr(cls, '__name__', cls)}")
    hints = typing.get_type_hints(cls)
    if attr in hints:
        return _strip_optional(hints[attr])
    prop = getattr(cls, attr, None)
    if isinstance(prop, property) and prop.fget is not None:
        return _strip_optional(typing.get_type_hints(prop.fget).get("return"))
    raise PathSyntaxError(f"{cls.__name__} has no attribute {attr!r}")


@dataclass(frozen=True)
class Shape:
    """What a path yields: the type of its value(s), and whether it is a list of them."""

    type: Any
    many: bool  # a list made by a selector, or a tuple attribute read as a whole


def check_steps(start: type, steps: tuple[Step, ...]) -> Shape:
    cls: Any = start
    many = False
    for i, step in enumerate(steps):
        hint = _attribute(cls, step.attr)
        element = _element(hint)
        if step.selector is None:
            if element is not None and i < len(steps) - 1:
                raise PathSyntaxError(f"{step.attr!r} is a list: select from it ([], [0], [-3:])")
            # A list read whole (identity.given_names, household.children) yields many.
            cls, many = (hint, many) if element is None else (element, True)
            continue
        if element is None:
            raise PathSyntaxError(f"{step.attr!r} is not a list: it takes no selector")
        if isinstance(step.selector, Where):
            _attribute(element, step.selector.attr)
        cls = element
        many = many or not isinstance(step.selector, Index)
    return Shape(cls, many)


def check(path: Path) -> Shape:
    return check_steps(ROOTS[path.root].view, path.steps)


# --- reading a record -------------------------------------------------------------------------


def _select(step: Step, obj: Any) -> tuple[Any, bool]:
    """One step on one object → (value, whether it is a list of values to read each of)."""
    value = getattr(obj, step.attr)
    sel = step.selector
    if sel is None or value is None:
        return value, False
    items = list(value)
    if isinstance(sel, Index):
        return (items[sel.at] if -len(items) <= sel.at < len(items) else None), False
    if isinstance(sel, Slice):
        return items[sel.start : sel.stop], True
    if isinstance(sel, Where):
        return [e for e in items if str(getattr(e, sel.attr)) == sel.value], True
    return items, True


def read_steps(start: Any, steps: tuple[Step, ...]) -> Any:
    """The value of ``steps`` from ``start``: a list once a selector fanned out, else one."""
    current: Any = start
    many = False
    for step in steps:
        if not many:
            if current is None:
                return None
            current, many = _select(step, current)
            continue
        out: list[Any] = []
        for item in current:
            if item is None:
                continue
            value, fanned = _select(step, item)
            if fanned:
                out.extend(value)
            else:
                out.append(value)
        current = out
    return current


def view_of(root: str, record: object) -> Any:
    return ROOTS[root].project(record)
