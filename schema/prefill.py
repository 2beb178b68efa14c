"""Prefilled forms over GraphQL: the form arrives filled, the person checks and validates.

The data comes through the exchange like any access (purpose, decisions, audit); values the
purpose does not release are left for the person to provide, each with why (the exchange's
code) and the data categories a consent would have to cover. A form is prefilled only under
the purposes its file names. A submission is recorded and audited, and eligibility runs again
on what the person corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from exchange import PersonRequest, PersonView
from policies import Catalogue
from prefill import (
    Failure,
    FormDef,
    PrefilledForm,
    Submission,
    apply_submission,
    corrected_facts,
    ds_payload,
    fields_needed,
    load_forms,
    load_mapping,
    prefill,
)
from prefill.declared import declared_records
from schema.context import RequestContext
from schema.eligibility import (
    ELIGIBILITY_FIELDS,
    HISTORY_MONTHS,
    Benefit,
    EligibilityResult,
    evaluate_with_partner,
    person_data,
)
from schema.errors import typed_error
from schema.inputs import AccessContextInput, PersonRef
from schema.scopes import PREFILL_READ, PREFILL_WRITE, scoped

PREFILL_MONTHS = 12  # the longest window a shipped form reads (CSS: 12 months of resources)


@strawberry.type
class FieldProvenance:
    agency: str
    source: str
    as_of: date


@strawberry.enum(description="Where a field stands: what the person has to do with it.")
class PrefillFieldState(Enum):
    KNOWN = strawberry.enum_value(
        "KNOWN",
        description="Found, and the agency's word is enough (civil status, benefits paid): "
        "nothing to do; the person may still correct it.",
    )
    TO_CONFIRM = strawberry.enum_value(
        "TO_CONFIRM",
        description="Found, but the person must confirm or correct it (address, family, "
        "resources, housing).",
    )
    TO_PROVIDE = strawberry.enum_value(
        "TO_PROVIDE",
        description="No value: nobody holds it, or its source failed, was not released to "
        "the purpose or had nothing (`reason` says which). The person types it.",
    )
    CONSENT_REQUIRED = strawberry.enum_value(
        "CONSENT_REQUIRED",
        description="No value: the purpose rests on the person's consent and they have not "
        "consented to the field's data `categories`. Once they do, prefilling again fills "
        "it; meanwhile they may type it, as a `TO_PROVIDE` field.",
    )


@strawberry.enum(description="What a field holds: the form file's field types.")
class PrefillFieldType(Enum):
    # The same words as the form files (prefill/forms/*.yaml), which clients already read.
    text = strawberry.enum_value("text", description="Text, at most 500 characters.")
    date = strawberry.enum_value("date", description="A date, YYYY-MM-DD.")
    number = strawberry.enum_value("number", description="A number.")
    money = strawberry.enum_value(
        "money", description="An amount in euros, two decimals; the person's is not negative."
    )
    boolean = strawberry.enum_value("boolean", description="true or false.")
    choice = strawberry.enum_value("choice", description="One of the field's `choices`.")
    repetition = strawberry.enum_value(
        "repetition", description="A list of rows, each an object keyed by column id."
    )
    nir = strawberry.enum_value(
        "nir",
        description="A social security number (NIR): 13 characters and a 2-digit key, spaces "
        "allowed and removed; the key is checked.",
    )


@strawberry.type
class PrefilledField:
    id: str
    label: str
    type: PrefillFieldType
    required: bool
    choices: list[str]
    value: JSON | None
    provenance: FieldProvenance | None = strawberry.field(
        description="Where the value comes from; null: declared by the person, or unknown."
    )
    state: PrefillFieldState = strawberry.field(description="What the person has to do.")
    reason: str | None = strawberry.field(
        default=None,
        description="Why the field has no value when its source failed or was refused: the "
        "exchange's code (CONSENT_REQUIRED, FORBIDDEN, AGENCY_UNAVAILABLE, NOT_FOUND, "
        "TIMEOUT…); null otherwise.",
    )
    categories: list[str] = strawberry.field(
        default_factory=list,
        description="The data categories of that source (the policy catalogue's): what a "
        "consent would have to cover. Empty when the field has a value or no source.",
    )


@strawberry.type(description="A person-view field the form reads that came back without value.")
class MissingSource:
    source: str = strawberry.field(description="The person-view field, e.g. `resources`.")
    code: str = strawberry.field(
        description="Why: CONSENT_REQUIRED, FORBIDDEN (not released to the purpose), or the "
        "agency's failure (AGENCY_UNAVAILABLE, NOT_FOUND, TIMEOUT…)."
    )
    message: str = strawberry.field(description="The reason in words, for the developer.")
    categories: list[str] = strawberry.field(
        description="The data categories it belongs to: what to ask the person's consent for."
    )
    fields: list[str] = strawberry.field(description="The form fields it leaves empty.")


@strawberry.type(name="PrefilledForm")
class PrefilledFormType:
    form: str
    title: str
    fields: list[PrefilledField]
    missing_sources: list[MissingSource] = strawberry.field(
        description="The person-view fields denied or failed, with why and the fields they "
        "leave empty."
    )
    consent_required: list[str] = strawberry.field(
        description="The data categories the person would have to consent to for the form to "
        "be complete under this purpose; empty when none."
    )
    ds_payload: JSON = strawberry.field(description="A démarches-simplifiées prefill body.")
    access_id: str


@strawberry.type
class SubmissionResult:
    submission_id: str
    access_id: str = strawberry.field(description="The audit log's id of the prefill read.")
    changed: list[str] = strawberry.field(description="Fields the person corrected or provided.")
    form: PrefilledFormType
    eligibility: list[EligibilityResult] = strawberry.field(
        description="The form's benefit evaluated again on the person's corrected data."
    )


def _form(form_id: str, purpose: str, catalogue: Catalogue) -> FormDef:
    """The form, if it may be prefilled under ``purpose``.

    An unknown id raises UnknownForm, the caller's input. A purpose the catalogue does not
    know is left to the exchange, which refuses it as for any read; a known one the form does
    not name is the caller's mistake, told with the purposes the form may be prefilled under.
    """
    form = load_forms()[form_id]
    if purpose in catalogue.purposes and purpose not in form.purposes:
        raise typed_error(
            f"the form {form.id!r} is not prefilled under the purpose {purpose!r}; "
            f"its purposes: {', '.join(form.purposes)}",
            "BAD_USER_INPUT",
        )
    return form


def unknown_form_purposes(
    forms: Mapping[str, FormDef], catalogue: Catalogue
) -> dict[str, tuple[str, ...]]:
    """Form id → the purposes it names that ``catalogue`` lacks (a deployment defect)."""
    unknown = {
        form.id: tuple(p for p in form.purposes if p not in catalogue.purposes)
        for form in forms.values()
    }
    return {form: purposes for form, purposes in unknown.items() if purposes}


def _type(form: FormDef, filled: PrefilledForm, access_id: str) -> PrefilledFormType:
    definitions = {f.id: f for f in form.fields}
    payload = ds_payload(form, filled, load_mapping(form.id))
    return PrefilledFormType(
        form=form.id,
        title=form.title,
        fields=[
            PrefilledField(
                id=f.id,
                label=f.label,
                type=PrefillFieldType(definitions[f.id].type),
                required=definitions[f.id].required,
                choices=list(definitions[f.id].choices),
                value=f.value,
                provenance=FieldProvenance(
                    agency=f.provenance.agency, source=f.provenance.source, as_of=f.provenance.as_of
                )
                if f.provenance
                else None,
                state=PrefillFieldState(f.state),
                reason=f.reason,
                categories=list(f.categories),
            )
            for f in filled.fields
        ],
        missing_sources=[
            MissingSource(
                source=m.source,
                code=m.code,
                message=m.message,
                categories=list(m.categories),
                fields=list(m.fields),
            )
            for m in filled.missing_sources
        ],
        consent_required=list(filled.consent_required),
        ds_payload=cast(JSON, payload),
        access_id=access_id,
    )


async def _fill(
    rc: RequestContext,
    ref: PersonRef,
    context: AccessContextInput,
    form: FormDef,
    extra: frozenset[str] = frozenset(),
) -> tuple[PersonView, PrefilledForm]:
    needed = fields_needed(form)
    request = PersonRequest(
        caller=rc.caller,
        ref=ref.to_reference(),
        context=context.to_context(),
        fields=needed | extra,
        on=rc.on,
        months=HISTORY_MONTHS if extra else PREFILL_MONTHS,
    )
    view = await rc.exchange.person(request)
    own = {k: v for k, v in view.fields.items() if k in needed}
    failures = {k: Failure(x.code, x.message) for k, x in view.failures.items() if k in needed}
    catalogue = rc.catalogue
    categories = {k: catalogue.category_of(k) for k in needed if k in catalogue.fields}
    return view, prefill(form, own, failures, categories)


def corrected(
    fields: Mapping[str, object], facts: Mapping[str, Any], *, on: date
) -> dict[str, object]:
    """The records with everything the person declared that the rules read: housing,
    housing aid, resources, household, benefits received, pensions, birth date (see
    ``prefill.declared``)."""
    return declared_records(fields, facts, on=on, history_months=HISTORY_MONTHS)


@strawberry.type
class PrefillQueries:
    @strawberry.field(
        description="A form filled from what the administration knows.",
        extensions=scoped(PREFILL_READ),
    )
    async def prefill(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: PersonRef,
        context: AccessContextInput,
        form: str,
    ) -> PrefilledFormType:
        definition = _form(form, context.purpose, info.context.catalogue)
        view, filled = await _fill(info.context, ref, context, definition)
        return _type(definition, filled, view.access_id)


@strawberry.type
class PrefillMutations:
    @strawberry.mutation(
        description="The person's check: confirmations, corrections, values.",
        extensions=scoped(PREFILL_WRITE),
    )
    async def submit_prefill(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: PersonRef,
        context: AccessContextInput,
        form: str,
        confirmations: list[str],
        corrections: JSON | None = None,
        provided: JSON | None = None,
    ) -> SubmissionResult:
        rc = info.context
        definition = _form(form, context.purpose, rc.catalogue)
        given: tuple[Any, Any] = (corrections or {}, provided or {})
        if not all(isinstance(g, dict) for g in given):
            raise typed_error(
                "corrections and provided are objects keyed by field id", "BAD_USER_INPUT"
            )
        submission = Submission(
            form=definition.id,
            confirmed=tuple(confirmations),
            corrections=dict(given[0]),
            provided=dict(given[1]),
        )
        # The rules run again on the corrected data: fetch what they read too, over their window.
        extra = ELIGIBILITY_FIELDS if definition.benefit else frozenset()
        view, filled = await _fill(rc, ref, context, definition, extra)
        validated, changed = apply_submission(definition, filled, submission)
        facts = corrected_facts(definition, submission)
        assert view.subjects is not None
        stored = await rc.declarations.record(
            rc.caller,
            context.to_context(),
            view.subjects,
            form=definition.id,
            benefit=definition.benefit,
            access_id=view.access_id,
            confirmed=submission.confirmed,
            corrections=submission.corrections,
            provided=submission.provided,
            changed=changed,
            policy_revision=rc.catalogue.revision,
            now=rc.now,
        )
        results: list[EligibilityResult] = []
        if definition.benefit is not None:
            data = person_data(corrected(view.fields, facts, on=rc.on))
            month = f"{rc.on.year:04d}-{rc.on.month:02d}"
            # A couple's partner is read under the same request, as for any eligibility.
            benefits = [Benefit(definition.benefit)]
            results = await evaluate_with_partner(
                rc, context.to_context(), view.access_id, data, benefits, month
            )
        return SubmissionResult(
            submission_id=stored.id,
            access_id=view.access_id,
            changed=list(changed),
            form=_type(definition, validated, view.access_id),
            eligibility=results,
        )
