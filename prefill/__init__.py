"""Prefilled forms the person validates (DESIGN §9).

A form (``prefill/forms/<id>.yaml``) maps each of its fields to a path of the person view;
``prefill`` fills it from the person's connector records with value, provenance and state,
``apply_submission`` takes the person's confirmations and corrections. A procedure owner's
mapping (``prefill.procedure``) ties a form to a démarches-simplifiées procedure's champs
(``prefill.champs``); ``prefill.ds_payload`` converts a filled form for it, value by value
(``prefill.ds_values``), and reads a submitted dossier back. Reads connector records only.
"""

from prefill.errors import (
    DefinitionError,
    IncompleteSubmission,
    InvalidInput,
    InvalidValue,
    MappingError,
    PrefillError,
    RecordMismatch,
    SourceUnavailable,
    UnknownField,
    UnknownForm,
)
from prefill.fill import prefill
from prefill.forms import Forms, fields_needed, load_forms
from prefill.model import (
    FIELD_TYPES,
    STATES,
    TRANSIENT_FAILURES,
    Failure,
    FieldDef,
    FilledField,
    FormDef,
    MissingSource,
    PrefilledForm,
    Provenance,
    State,
    Submission,
)
from prefill.submission import apply_submission, corrected_facts
from prefill.transforms import TRANSFORMS

__all__ = [
    "FIELD_TYPES",
    "STATES",
    "TRANSFORMS",
    "TRANSIENT_FAILURES",
    "DefinitionError",
    "Failure",
    "FieldDef",
    "FilledField",
    "FormDef",
    "Forms",
    "IncompleteSubmission",
    "InvalidInput",
    "InvalidValue",
    "MappingError",
    "MissingSource",
    "PrefillError",
    "PrefilledForm",
    "Provenance",
    "RecordMismatch",
    "SourceUnavailable",
    "State",
    "Submission",
    "UnknownField",
    "UnknownForm",
    "apply_submission",
    "corrected_facts",
    "fields_needed",
    "load_forms",
    "prefill",
]
