"""Prefilled forms the person validates (DESIGN §9).

A form (``prefill/forms/<id>.yaml``) maps each of its fields to a path of the person view;
``prefill`` fills it from the person's connector records with value, provenance and state,
``ds_payload`` turns it into a démarches-simplifiées prefill body, and ``apply_submission``
takes the person's confirmations and corrections. Reads connector records only.
"""

from prefill.ds import ProcedureMapping, ds_payload, load_mapping
from prefill.errors import (
    DefinitionError,
    IncompleteSubmission,
    InvalidInput,
    InvalidValue,
    MappingError,
    PrefillError,
    RecordMismatch,
    UnknownField,
    UnknownForm,
    UnknownMapping,
)
from prefill.fill import prefill
from prefill.forms import Forms, fields_needed, load_forms
from prefill.model import (
    FIELD_TYPES,
    STATES,
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
    "ProcedureMapping",
    "Provenance",
    "RecordMismatch",
    "State",
    "Submission",
    "UnknownField",
    "UnknownForm",
    "UnknownMapping",
    "apply_submission",
    "corrected_facts",
    "ds_payload",
    "fields_needed",
    "load_forms",
    "load_mapping",
    "prefill",
]
