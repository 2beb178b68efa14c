"""The values prefill deals in: form definitions, filled forms, the person's submission.

Everything is frozen: a form definition is shared by every request, and a filled form is
what was shown to the person, which their submission must not alter in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from connectors.errors import AGENCY_FAILURES

# KNOWN: found, the agency's word is enough; TO_CONFIRM: found, the person confirms it;
# TO_PROVIDE: no source, or the source failed, was refused by the purpose or had nothing;
# CONSENT_REQUIRED: the source is withheld until the person consents to its category (the
# purpose rests on consent): the person may consent and prefill again, or type the value.
State = Literal["KNOWN", "TO_CONFIRM", "TO_PROVIDE", "CONSENT_REQUIRED"]
STATES: tuple[State, ...] = ("KNOWN", "TO_CONFIRM", "TO_PROVIDE", "CONSENT_REQUIRED")
# States the person fills in themselves (``provided`` in a submission).
EMPTY_STATES: frozenset[State] = frozenset({"TO_PROVIDE", "CONSENT_REQUIRED"})
CONSENT_REQUIRED = "CONSENT_REQUIRED"  # the failure code of a source withheld for lack of consent
# Failure codes of a source that may answer on the next read: an agency's failure.
TRANSIENT_FAILURES: frozenset[str] = AGENCY_FAILURES
FieldType = Literal[
    "text", "date", "month", "number", "money", "boolean", "choice", "repetition", "nir"
]
FIELD_TYPES: tuple[FieldType, ...] = (
    "text",
    "date",
    "month",
    "number",
    "money",
    "boolean",
    "choice",
    "repetition",
    "nir",
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
    purposes: tuple[str, ...] = ()  # the catalogue purposes under which it may be prefilled

    def field(self, field_id: str) -> FieldDef | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class Provenance:
    agency: str
    source: str
    as_of: date


@dataclass(frozen=True)
class Failure:
    """Why a person-view field has no value: the exchange's code and message.

    Codes are the exchange's: CONSENT_REQUIRED and FORBIDDEN from the policies, the
    connectors' own (NOT_FOUND, AMBIGUOUS, UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT,
    UPSTREAM_INVALID, RATE_LIMITED) when the source failed.
    """

    code: str
    message: str
    retry_in: float | None = None  # seconds the source asked to wait (a rate limit), if it did


@dataclass(frozen=True)
class FilledField:
    id: str
    label: str
    value: Any  # JSON-able: str, int, float, bool, None, or a list of dicts (repetition)
    provenance: Provenance | None  # None: declared by the person, or nothing known
    state: State
    reason: str | None = None  # the failure code of the source that left it empty
    categories: tuple[str, ...] = ()  # the data categories of that source


@dataclass(frozen=True)
class MissingSource:
    """A person-view field the form reads that came back without a value, and why."""

    source: str  # the person-view field, e.g. "resources"
    code: str  # the failure's code, as the exchange gives it
    message: str
    categories: tuple[str, ...]  # the data categories it belongs to (what to consent to)
    fields: tuple[str, ...]  # the form fields it leaves empty
    retry_in: float | None = None  # seconds the source asked to wait, if it did


@dataclass(frozen=True)
class PrefilledForm:
    form: str
    fields: tuple[FilledField, ...]
    missing_sources: tuple[MissingSource, ...]  # person-view fields that were denied or failed

    def field(self, field_id: str) -> FilledField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def consent_required(self) -> tuple[str, ...]:
        """The categories the person would consent to for the form to be complete."""
        withheld = (m for m in self.missing_sources if m.code == CONSENT_REQUIRED)
        return tuple(sorted({c for m in withheld for c in m.categories}))


@dataclass(frozen=True)
class Submission:
    form: str
    confirmed: tuple[str, ...] = ()
    corrections: Mapping[str, Any] = field(default_factory=dict)
    provided: Mapping[str, Any] = field(default_factory=dict)
