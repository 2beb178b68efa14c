"""Filling a form from the person's records: value, provenance and state of every field."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from connectors import records
from prefill import paths, transforms
from prefill.errors import DefinitionError, InvalidValue, RecordMismatch
from prefill.forms import row_steps
from prefill.model import FieldDef, FilledField, FormDef, PrefilledForm, Provenance, State
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


def fill_field(
    form: FormDef, field: FieldDef, got: Mapping[str, object], failures: Collection[str]
) -> FilledField:
    if field.source is None:
        return FilledField(field.id, field.label, None, None, "TO_PROVIDE")
    path = paths.parse(field.source)
    record = None if path.root in failures else _record(path.root, got)
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
    form: FormDef, records: Mapping[str, object], failures: Collection[str] = ()
) -> PrefilledForm:
    """Every field of ``form`` from ``records`` (person-view field → connector record).

    ``failures`` are the person-view fields that were denied or failed: their form fields are
    ``TO_PROVIDE`` and they are listed in ``missing_sources``, so the form tells the person
    why they have to type them.
    """
    filled = tuple(fill_field(form, f, records, failures) for f in form.fields)
    roots = {paths.parse(f.source).root for f in form.fields if f.source is not None}
    missing = tuple(sorted(roots & set(failures)))
    return PrefilledForm(form.id, filled, missing)
