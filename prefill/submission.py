"""The person's preview-and-validate step: confirmations, corrections, provided values.

The person settles the whole form at once: every ``TO_CONFIRM`` field is confirmed or
corrected, every required field ends with a value. ``corrections`` replace a prefilled value,
``provided`` fill a ``TO_PROVIDE`` or ``CONSENT_REQUIRED`` one (the person may type what they
did not let the administration give); both are "declared by the person" (no provenance), and
the field ids whose value changed are returned so that the gateway stores and audits them.

The form is read again when the submission arrives, and an agency may answer then what it did
not answer when the form was shown, or the reverse. What the person typed counts whichever
list it came in: a value provided for a field now known replaces it as a correction would, a
correction of a field now empty fills it. A confirmation needs the value confirmed: if its
source failed this time, :class:`SourceUnavailable` (the source's code; nothing recorded, the
same submission can be sent again); if the field has no value at all, the person must type one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from prefill.errors import IncompleteSubmission, InvalidValue, SourceUnavailable, UnknownField
from prefill.forms import row_prefix
from prefill.model import (
    EMPTY_STATES,
    TRANSIENT_FAILURES,
    FieldDef,
    FilledField,
    FormDef,
    PrefilledForm,
    Submission,
)
from prefill.values import coerce

# Sources eligibility reads (DESIGN §8): a correction there changes the simulation's inputs.
ELIGIBILITY_SOURCES = (
    "resources.",
    "household.",
    "housing.",
    "pension.",
    "taxHousehold.",
    "employment.payments.",
    "identity.birth_date",
    "benefits.",
    # The CNAM's word on the CSS the person receives: the CSS's non-take-up reads it.
    "healthCoverage.css_receiving",
)


def _field(form: FormDef, field_id: str) -> FieldDef:
    if not isinstance(field_id, str):
        raise UnknownField(repr(field_id))
    field = form.field(field_id)
    if field is None:
        raise UnknownField(field_id)
    return field


def _check_ids(form: FormDef, submission: Submission) -> None:
    if submission.form != form.id:
        raise InvalidValue("form", f"the submission is for {submission.form!r}, not {form.id!r}")
    seen: set[str] = set()
    for field_id in (*submission.confirmed, *submission.corrections, *submission.provided):
        _field(form, field_id)
        if field_id in seen:
            raise InvalidValue(field_id, "given more than once")
        seen.add(field_id)


def validated_values(form: FormDef, submission: Submission) -> dict[str, Any]:
    """The corrections and provided values, typed (``InvalidValue`` names the first bad one)."""
    _check_ids(form, submission)
    given = {**submission.corrections, **submission.provided}
    return {
        field_id: coerce(_field(form, field_id), value, from_person=True)
        for field_id, value in given.items()
    }


def apply_submission(
    form: FormDef,
    filled: PrefilledForm,
    submission: Submission,
    settled: Collection[str] | None = None,
) -> tuple[PrefilledForm, tuple[str, ...]]:
    """The form as the person validated it, and the ids of the fields they changed.

    ``settled``: the fields the person was shown, when not the whole form (a procedure on
    démarches-simplifiées carries the fields it maps): only they must end confirmed and, when
    required, with a value; the others stay as they were prefilled.
    """
    if filled.form != form.id:
        raise InvalidValue("form", f"the prefilled form is {filled.form!r}, not {form.id!r}")
    values = validated_values(form, submission)
    before = {f.id: f for f in filled.fields}
    unconfirmable = [before[i] for i in submission.confirmed if before[i].state in EMPTY_STATES]
    failed = tuple(f.id for f in unconfirmable if f.reason in TRANSIENT_FAILURES)
    if failed:
        # The longest wait the sources of those fields asked for, if any (the client's retryIn).
        waits = [
            m.retry_in
            for m in filled.missing_sources
            if m.retry_in is not None and not set(m.fields).isdisjoint(failed)
        ]
        raise SourceUnavailable(failed, str(before[failed[0]].reason), max(waits, default=None))
    if unconfirmable:
        raise InvalidValue(unconfirmable[0].id, "nothing to confirm: provide a value")

    out: list[FilledField] = []
    changed: list[str] = []
    for f in filled.fields:
        if f.id in values and values[f.id] != f.value:
            out.append(FilledField(f.id, f.label, values[f.id], None, "KNOWN"))
            changed.append(f.id)
        elif f.id in values or f.id in submission.confirmed:
            # Re-typing the prefilled value is confirming it: the agency stays its source.
            out.append(FilledField(f.id, f.label, f.value, f.provenance, "KNOWN"))
        else:
            out.append(f)
    shown = {f.id for f in out} if settled is None else set(settled)
    unsettled = tuple(f.id for f in out if f.state == "TO_CONFIRM" and f.id in shown)
    if unsettled:
        raise IncompleteSubmission(unsettled, "confirm or correct these fields")
    required = {d.id for d in form.fields if d.required and d.id in shown}
    empty = tuple(f.id for f in out if f.id in required and f.value in (None, "", []))
    if empty:
        raise IncompleteSubmission(empty, "these fields are required")
    return PrefilledForm(filled.form, tuple(out), filled.missing_sources), tuple(changed)


def _reads_eligibility(source: str) -> bool:
    return any(
        source.startswith(p) if p.endswith(".") else source == p for p in ELIGIBILITY_SOURCES
    )


def corrected_facts(form: FormDef, submission: Submission) -> Mapping[str, Any]:
    """Corrected and provided values of fields eligibility reads, keyed by source path.

    The value is the field's (after its transform: a ``sum`` field gives the total its path
    sums); a repetition gives its rows keyed by each column's path within the row, so
    ``household.children`` gives ``[{"given_names": …, "birth_date": …}]``.
    """
    values = validated_values(form, submission)
    facts: dict[str, Any] = {}
    for field_id, value in values.items():
        field = _field(form, field_id)
        if field.source is None or not _reads_eligibility(field.source):
            continue
        if field.type == "repetition" and value is not None:
            value = [_row_facts(field, row) for row in value]
            earlier = facts.get(field.source)
            if isinstance(earlier, list):
                # Two tables of the same months (the PPA's activity incomes and its other
                # resources): one row per month with the columns of both.
                value = _merged_rows(earlier, value)
        facts[field.source] = value
    return facts


def _merged_rows(first: list[Any], second: list[Any]) -> list[Any]:
    """Rows of two repetitions over the same list, merged by month (else by position)."""
    by_month = {r.get("month"): r for r in first if isinstance(r, dict) and r.get("month")}
    merged = [dict(r) if isinstance(r, dict) else r for r in first]
    for i, row in enumerate(second):
        if not isinstance(row, dict):
            continue
        match = by_month.get(row.get("month")) if row.get("month") else None
        if match is not None:
            merged[first.index(match)] = {**merged[first.index(match)], **row}
        elif not row.get("month") and i < len(merged) and isinstance(merged[i], dict):
            merged[i] = {**merged[i], **row}
        else:
            merged.append(dict(row))
    return merged


def _row_facts(field: FieldDef, row: Mapping[str, Any]) -> dict[str, Any]:
    prefix = row_prefix(field) + "."
    return {c.source[len(prefix) :]: row.get(c.id) for c in field.children if c.source is not None}
