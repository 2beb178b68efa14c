"""The values prefill deals in: form definitions, filled forms, the person's submission.

Everything is frozen: a form definition is shared by every request, and a filled form is
what was shown to the person, which their submission must not alter in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

State = Literal["KNOWN", "TO_CONFIRM", "TO_PROVIDE"]
FieldType = Literal["text", "date", "number", "money", "boolean", "choice", "repetition"]
FIELD_TYPES: tuple[FieldType, ...] = (
    "text",
    "date",
    "number",
    "money",
    "boolean",
    "choice",
    "repetition",
)


@dataclass(frozen=True)
class FieldDef:
    id: str
    label: str
    type: FieldType
    source: str | None = None  # a person-view path (see prefill.paths); None: the person says
    transform: str | None = None  # one of prefill.transforms.TRANSFORMS
    confirm: bool = False  # the person must confirm the value before it is used
    required: bool = False  # the submission must leave a value here
    choices: tuple[str, ...] = ()
    children: tuple[FieldDef, ...] = ()  # the columns of a repetition block
    help: str | None = None  # shown under the field: where the value comes from, what to check


@dataclass(frozen=True)
class FormDef:
    id: str
    title: str
    benefit: str | None  # the eligibility benefit the form applies for, e.g. "rsa"
    fields: tuple[FieldDef, ...]
    source_file: str
    reference: str | None = None  # the official form it follows, e.g. "cerfa 15481*01"

    def field(self, field_id: str) -> FieldDef | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class Provenance:
    agency: str
    source: str
    as_of: date


@dataclass(frozen=True)
class FilledField:
    id: str
    label: str
    value: Any  # JSON-able: str, int, float, bool, None, or a list of dicts (repetition)
    provenance: Provenance | None  # None: declared by the person, or nothing known
    state: State


@dataclass(frozen=True)
class PrefilledForm:
    form: str
    fields: tuple[FilledField, ...]
    missing_sources: tuple[str, ...]  # person-view fields that were denied or failed

    def field(self, field_id: str) -> FilledField | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class Submission:
    form: str
    confirmed: tuple[str, ...] = ()
    corrections: Mapping[str, Any] = field(default_factory=dict)
    provided: Mapping[str, Any] = field(default_factory=dict)
