"""Filling a form from the person's records: value, provenance and state of every field."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from connectors import records
from prefill import paths, transforms
from prefill.errors import DefinitionError, InvalidValue, RecordMismatch
from prefill.forms import row_steps
from prefill.model import (
    CONSENT_REQUIRED,
    Failure,
    FieldDef,
    FilledField,
    FormDef,
    MissingSource,
    PrefilledForm,
    Provenance,
    State,
)
from prefill.values import coerce


def _provenance(record: object) -> Provenance | None:
    p = getattr(record, "provenance", None)
    if not isinstance(p, records.Provenance):
        return None
    return Provenance(p.agency, p.source, p.as_of)


def _record(root: str, got: Mapping[str, object]) -> object | None:
    record = got.get(root)
    expected = paths.ROOTS[root].record
    if record is not None and not isinstance(record, expected):
        # The exchange and prefill disagree on what a field holds: a defect, not data.
        raise RecordMismatch(f"{root}: expected {expected.__name__}, got {type(record).__name__}")
    return record


def _typed(form: FormDef, field: FieldDef, raw: Any) -> Any:
    """The transformed value as JSON of the field's type.

    A record value that does not fit the field's type is the form's mistake (a path or a
    transform that reads the wrong thing), told as such rather than as the person's.
    """
    try:
        value = transforms.apply(field.transform, raw)
        return coerce(field, list(value) if isinstance(value, tuple) else value, from_person=False)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(form.source_file, f"fields.{field.id}", str(exc)) from None
    except InvalidValue as exc:
        raise DefinitionError(form.source_file, f"fields.{field.id}", exc.message) from None


def _rows(form: FormDef, field: FieldDef, items: Any) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        row: dict[str, Any] = {}
        for child in field.children:
            if child.source is None:
                row[child.id] = None
                continue
            raw = paths.read_steps(item, row_steps(field, child))
            row[child.id] = _typed(form, child, raw)
        rows.append(row)
    return rows


def _state(field: FieldDef, value: Any) -> State:
    if value is None or value == "":
        return "TO_PROVIDE"
    return "TO_CONFIRM" if field.confirm else "KNOWN"


# What a failure given as a bare field name (no code) is told as.
UNAVAILABLE = Failure("UNAVAILABLE", "the source gave no value")


def _failures(failures: Mapping[str, Failure] | Collection[str]) -> Mapping[str, Failure]:
    if isinstance(failures, Mapping):
        return failures
    return {name: UNAVAILABLE for name in failures}


def _categories(root: str, categories: Mapping[str, str]) -> tuple[str, ...]:
    category = categories.get(root)
    return () if category is None else (category,)


def _withheld(field: FieldDef, failure: Failure, categories: tuple[str, ...]) -> FilledField:
    state: State = "CONSENT_REQUIRED" if failure.code == CONSENT_REQUIRED else "TO_PROVIDE"
    return FilledField(field.id, field.label, None, None, state, failure.code, categories)


def fill_field(
    form: FormDef,
    field: FieldDef,
    got: Mapping[str, object],
    failures: Mapping[str, Failure],
    categories: Mapping[str, str],
) -> FilledField:
    if field.source is None:
        return FilledField(field.id, field.label, None, None, "TO_PROVIDE")
    path = paths.parse(field.source)
    failure = failures.get(path.root)
    if failure is not None:
        return _withheld(field, failure, _categories(path.root, categories))
    record = _record(path.root, got)
    if record is None:
        return FilledField(field.id, field.label, None, None, "TO_PROVIDE")
    raw = paths.read_steps(paths.view_of(path.root, record), path.steps)
    if field.type == "repetition":
        value: Any = None if raw is None else _rows(form, field, raw)
    else:
        value = _typed(form, field, raw)
    state = _state(field, value)
    provenance = _provenance(record) if state != "TO_PROVIDE" else None
    return FilledField(field.id, field.label, value, provenance, state)


def prefill(
    form: FormDef,
    records: Mapping[str, object],
    failures: Mapping[str, Failure] | Collection[str] = (),
    categories: Mapping[str, str] | None = None,
) -> PrefilledForm:
    """Every field of ``form`` from ``records`` (person-view field → connector record).

    ``failures`` are the person-view fields that were denied or failed, with why (a bare
    collection of names is told as ``UNAVAILABLE``): their form fields are ``TO_PROVIDE``
    with the failure's code as ``reason`` — ``CONSENT_REQUIRED`` when the person has not
    consented to the field's category — and each is listed in ``missing_sources`` with the
    form fields it leaves empty, so the form tells the person why they have to type them.
    ``categories`` (person-view field → data category, the policy catalogue's) says what a
    consent would have to cover.
    """
    failed = _failures(failures)
    category_of = categories or {}
    filled = tuple(fill_field(form, f, records, failed, category_of) for f in form.fields)
    left: dict[str, list[str]] = {}
    for f in form.fields:
        if f.source is not None:
            root = paths.parse(f.source).root
            if root in failed:
                left.setdefault(root, []).append(f.id)
    missing = tuple(
        MissingSource(
            source=root,
            code=failed[root].code,
            message=failed[root].message,
            categories=_categories(root, category_of),
            fields=tuple(left[root]),
            retry_in=failed[root].retry_in,
        )
        for root in sorted(left)
    )
    return PrefilledForm(form.id, filled, missing)
