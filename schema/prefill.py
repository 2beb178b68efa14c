"""Prefilled forms over GraphQL: the form arrives filled, the person checks and validates.

The data comes through the exchange like any access (purpose, decisions, audit); values the
purpose does not release are left for the person to provide. A submission is recorded and
audited, and eligibility runs again on what the person corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from exchange import PersonRequest, PersonView
from prefill import (
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


@strawberry.type
class PrefilledField:
    id: str
    label: str
    type: str
    required: bool
    choices: list[str]
    value: JSON | None
    provenance: FieldProvenance | None = strawberry.field(
        description="Where the value comes from; null: declared by the person, or unknown."
    )
    state: str = strawberry.field(description="KNOWN, TO_CONFIRM or TO_PROVIDE.")


@strawberry.type(name="PrefilledForm")
class PrefilledFormType:
    form: str
    title: str
    fields: list[PrefilledField]
    missing_sources: list[str]
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


def _form(form_id: str) -> FormDef:
    return load_forms()[form_id]  # an unknown id raises UnknownForm, the caller's input


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
                type=definitions[f.id].type,
                required=definitions[f.id].required,
                choices=list(definitions[f.id].choices),
                value=f.value,
                provenance=FieldProvenance(
                    agency=f.provenance.agency, source=f.provenance.source, as_of=f.provenance.as_of
                )
                if f.provenance
                else None,
                state=f.state,
            )
            for f in filled.fields
        ],
        missing_sources=list(filled.missing_sources),
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
    return view, prefill(form, own, frozenset(view.failures) & needed)


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
        definition = _form(form)
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
        definition = _form(form)
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
