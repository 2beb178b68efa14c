"""Prefilled forms over GraphQL: the form arrives filled, the person checks and validates.

The data comes through the exchange like any access (purpose, decisions, audit); values the
purpose does not release are left for the person to provide, each with why (the exchange's
code) and the data categories a consent would have to cover. A form is prefilled only under
the purposes its file names. A submission is recorded and audited, and eligibility runs again
on what the person corrected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from connectors import records
from eligibility import PersonData
from exchange import AccessContext, PersonReference, PersonRequest, PersonView
from exchange.window import Window
from policies import Catalogue
from prefill import (
    Failure,
    FieldDef,
    FormDef,
    PrefilledForm,
    Submission,
    apply_submission,
    choices,
    corrected_facts,
    fields_needed,
    load_forms,
    prefill,
)
from prefill.champs import descriptors_from_data
from prefill.declared import declared_records
from prefill.display import value_label
from prefill.ds_payload import DsPayload, ds_payload
from prefill.procedure import procedure_from_data
from schema.context import RequestContext
from schema.eligibility import (
    HISTORY_MONTHS,
    Benefit,
    EligibilityResult,
    civil_failure,
    civil_status_required,
    eligibility_fields,
    evaluate_with_partner,
    person_data,
)
from schema.errors import typed_error
from schema.inputs import AccessContextInput, PersonRef
from schema.scopes import PREFILL_READ, PREFILL_WRITE, scoped
from store import StoreError
from store.procedures import ProcedureNotFound

PREFILL_MONTHS = 12  # the longest window a shipped form reads (CSS: 12 months of resources)


@strawberry.type(description="Where a prefilled value comes from.")
class FieldProvenance:
    agency: str = strawberry.field(
        description="The agency that gave it (as in `Provenance.agency`), or `declaration` "
        "for what the person declared."
    )
    source: str = strawberry.field(description="The agency endpoint that answered.")
    as_of: date = strawberry.field(description="The day the data describes.")


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
    month = strawberry.enum_value(
        "month",
        description="A month, YYYY-MM (a person may type « juin 2026 » or 06/2026: it is read "
        "as 2026-06).",
    )
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


@strawberry.type(description="One value a `choice` field takes, and what a person reads for it.")
class PrefillOption:
    value: str = strawberry.field(description="The code: what the field's value holds.")
    label: str = strawberry.field(description="The words to show the person, in French.")


@strawberry.type(description="A column of a `repetition` field: each row holds one per column.")
class PrefillColumn:
    id: str = strawberry.field(description="The column's id: a key of each row.")
    label: str = strawberry.field(description="Its label, in French.")
    type: PrefillFieldType = strawberry.field(description="What its cells hold.")
    options: list[PrefillOption] = strawberry.field(
        description="A `choice` column's values with their labels; empty otherwise."
    )


def _options(field: FieldDef) -> list[PrefillOption]:
    return [PrefillOption(value=v, label=label) for v, label in choices.options(field)]


def _columns(field: FieldDef) -> list[PrefillColumn]:
    return [
        PrefillColumn(id=c.id, label=c.label, type=PrefillFieldType(c.type), options=_options(c))
        for c in field.children
    ]


@strawberry.type(description="One field of a prefilled form.")
class PrefilledField:
    id: str = strawberry.field(description="The field's id in the form file.")
    label: str = strawberry.field(description="Its label, in French, as the form shows it.")
    type: PrefillFieldType = strawberry.field(description="What it holds.")
    required: bool = strawberry.field(description="The form cannot be submitted without it.")
    choices: list[str] = strawberry.field(
        description="The values a `choice` field takes; empty for the other types."
    )
    options: list[PrefillOption] = strawberry.field(
        description="The same values with the words to show the person (`Hébergé(e) "
        "gratuitement` for `heberge_gratuit`); empty for the other types."
    )
    columns: list[PrefillColumn] = strawberry.field(
        description="A `repetition` field's columns (each row's keys); empty for the other types."
    )
    value: JSON | None = strawberry.field(
        description="The value, as `type` says (a repetition: a list of objects); null when "
        "there is none."
    )
    value_label: str | None = strawberry.field(
        default=None,
        description="The value in words where the form holds a code, to show the person: a "
        "choice's label, a month (`juin 2026`), a birth country's name (`France` for "
        "`99100`); null where the value is already words, or there is none.",
    )
    provenance: FieldProvenance | None = strawberry.field(
        description="Where the value comes from; null: declared by the person, or unknown."
    )
    state: PrefillFieldState = strawberry.field(description="What the person has to do.")
    reason: str | None = strawberry.field(
        default=None,
        description="Why the field has no value when its source failed or was refused: the "
        "exchange's code: CONSENT_REQUIRED or FORBIDDEN (the policies), NOT_FOUND or "
        "AMBIGUOUS (the agency knows no such person, or several), UPSTREAM_UNAVAILABLE, "
        "UPSTREAM_TIMEOUT, UPSTREAM_INVALID or RATE_LIMITED (the agency failed: try again "
        "later); null otherwise.",
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
        description="Why: CONSENT_REQUIRED, FORBIDDEN (not released to the purpose), NOT_FOUND "
        "or AMBIGUOUS (the agency knows no such person, or several), or the agency's failure "
        "(UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, UPSTREAM_INVALID, RATE_LIMITED: try again "
        "later)."
    )
    message: str = strawberry.field(description="The reason in words, for the developer.")
    categories: list[str] = strawberry.field(
        description="The data categories it belongs to: what to ask the person's consent for."
    )
    fields: list[str] = strawberry.field(description="The form fields it leaves empty.")


@strawberry.type(description="A field left out of a démarches-simplifiées prefill body.")
class DsLeftOut:
    field: str = strawberry.field(
        description="The form field, `id[row].column` inside a repetition."
    )
    reason: str = strawberry.field(description="Why its value could not be sent.")


@strawberry.type(
    name="PrefilledForm", description="A form filled from what the administration knows."
)
class PrefilledFormType:
    form: str = strawberry.field(description="The form's id, e.g. `rsa`.")
    title: str = strawberry.field(description="Its title, in French.")
    fields: list[PrefilledField] = strawberry.field(
        description="Every field of the form, in its order."
    )
    missing_sources: list[MissingSource] = strawberry.field(
        description="The person-view fields denied or failed, with why and the fields they "
        "leave empty."
    )
    consent_required: list[str] = strawberry.field(
        description="The data categories the person would have to consent to for the form to "
        "be complete under this purpose; empty when none."
    )
    ds_payload: JSON | None = strawberry.field(
        description="The body of démarches-simplifiées' prefill API for the procedure asked "
        "(`procedure`), every value converted to its champ's type; null without a procedure."
    )
    ds_left_out: list[DsLeftOut] = strawberry.field(
        description="Fields with a value that could not be converted for the procedure's champ, "
        "left out of dsPayload (the person types them on démarches-simplifiées)."
    )
    access_id: str = strawberry.field(description="The audit log's id of the read.")


@strawberry.type(description="A submission recorded, and the benefit evaluated again.")
class SubmissionResult:
    submission_id: str = strawberry.field(description="The recorded submission's id.")
    access_id: str = strawberry.field(description="The audit log's id of the prefill read.")
    changed: list[str] = strawberry.field(description="Fields the person corrected or provided.")
    form: PrefilledFormType = strawberry.field(
        description="The form as validated, with the person's values."
    )
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


def _type(
    form: FormDef, filled: PrefilledForm, access_id: str, payload: DsPayload | None = None
) -> PrefilledFormType:
    definitions = {f.id: f for f in form.fields}
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
                options=_options(definitions[f.id]),
                columns=_columns(definitions[f.id]),
                value=f.value,
                value_label=value_label(definitions[f.id], f.value),
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
        ds_payload=None if payload is None else cast(JSON, payload.body),
        ds_left_out=[]
        if payload is None
        else [DsLeftOut(field=x.field, reason=x.reason) for x in payload.left_out],
        access_id=access_id,
    )


async def fill_form(
    rc: RequestContext,
    ref: PersonReference,
    context: AccessContext,
    form: FormDef,
    *,
    for_eligibility: bool = False,
) -> tuple[PersonView, PrefilledForm]:
    """The form filled for the person from what ``context``'s purpose releases (one access,
    decided and audited); with ``for_eligibility``, what the rules read is fetched too, over
    their window, to evaluate the form's benefit again after the person's submission."""
    needed = fields_needed(form)
    extra = eligibility_fields([form.benefit]) if for_eligibility and form.benefit else frozenset()
    request = PersonRequest(
        caller=rc.caller,
        ref=ref,
        context=context,
        fields=needed | extra,
        on=rc.on,
        months=HISTORY_MONTHS if extra else PREFILL_MONTHS,
    )
    view = await rc.exchange.person(request)
    own = {k: v for k, v in view.fields.items() if k in needed}
    resources = own.get("resources")
    if extra and isinstance(resources, records.Resources):
        # The form reads the prefill's window, whatever longer one the rules need: the form
        # refilled to check a submission is the form the person was shown.
        first = Window.ending_before(rc.on, PREFILL_MONTHS).first
        own["resources"] = dataclasses.replace(
            resources,
            months=tuple(m for m in resources.months if m.month >= first),
            missing_months=tuple(m for m in resources.missing_months if m >= first),
        )
    failures = {
        k: Failure(x.code, x.message, x.retry_in) for k, x in view.failures.items() if k in needed
    }
    catalogue = rc.catalogue
    categories = {k: catalogue.category_of(k) for k in needed if k in catalogue.fields}
    return view, prefill(form, own, failures, categories)


@dataclass(frozen=True)
class Settled:
    submission_id: str
    changed: tuple[str, ...]
    validated: PrefilledForm
    eligibility: list[EligibilityResult]


async def settle_submission(
    rc: RequestContext,
    context: AccessContext,
    form: FormDef,
    view: PersonView,
    filled: PrefilledForm,
    submission: Submission,
    *,
    settled: Collection[str] | None = None,
) -> Settled:
    """The person's submission applied to the form as prefilled (``view``, read with
    ``for_eligibility``): recorded and audited (an offer for the form's benefit is then
    applied), and the benefit evaluated again on everything the person declared."""
    validated, changed = apply_submission(form, filled, submission, settled)
    facts = corrected_facts(form, submission)
    assert view.subjects is not None
    data: PersonData | None = None
    if form.benefit is not None:
        # Checked before anything is recorded: a client told to try again records once.
        data = person_data(corrected(view.fields, facts, on=rc.on))
        data = civil_status_required(data, civil_failure(view))
    stored = await rc.declarations.record(
        rc.caller,
        context,
        view.subjects,
        form=form.id,
        benefit=form.benefit,
        access_id=view.access_id,
        confirmed=submission.confirmed,
        corrections=submission.corrections,
        provided=submission.provided,
        changed=changed,
        policy_revision=rc.catalogue.revision,
        now=rc.now,
    )
    results: list[EligibilityResult] = []
    if form.benefit is not None:
        month = f"{rc.on.year:04d}-{rc.on.month:02d}"
        # A couple's partner is read under the same request, as for any eligibility.
        benefits = [Benefit(form.benefit)]
        results = await evaluate_with_partner(
            rc, context, view.access_id, data, benefits, month, civil_failure(view)
        )
    return Settled(stored.id, changed, validated, results)


async def _payload(
    rc: RequestContext, form: FormDef, filled: PrefilledForm, procedure: int | None
) -> DsPayload | None:
    if procedure is None:
        return None
    if rc.procedures is None:
        raise typed_error("no démarches-simplifiées procedures on this gateway", "NOT_FOUND")
    try:
        record = await rc.procedures.get(procedure)
    except ProcedureNotFound:
        raise typed_error(f"no registered procedure {procedure}", "NOT_FOUND") from None
    except StoreError:
        raise typed_error("the procedures cannot be read; retry later", "INTERNAL") from None
    if record.form != form.id:
        raise typed_error(
            f"procedure {procedure} is registered for the form {record.form!r}, not {form.id!r}",
            "BAD_USER_INPUT",
        )
    mapping = procedure_from_data(record.mapping)
    return ds_payload(form, filled, mapping, descriptors_from_data(record.champs))


def corrected(
    fields: Mapping[str, object], facts: Mapping[str, Any], *, on: date
) -> dict[str, object]:
    """The records with everything the person declared that the rules read: housing,
    housing aid, resources, household, benefits received, pensions, birth date (see
    ``prefill.declared``)."""
    return declared_records(fields, facts, on=on, history_months=HISTORY_MONTHS)


_REF = "Who the form is about."
_CONTEXT = "Why the data is read: a purpose the form may be prefilled under."
_FORM = "The form's id: rsa, ppa, css or aspa."


@strawberry.type(description="Prefilled forms.")
class PrefillQueries:
    @strawberry.field(
        description="A form filled from what the administration knows.",
        extensions=scoped(PREFILL_READ),
    )
    async def prefill(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: Annotated[PersonRef, strawberry.argument(description=_REF)],
        context: Annotated[AccessContextInput, strawberry.argument(description=_CONTEXT)],
        form: Annotated[str, strawberry.argument(description=_FORM)],
        procedure: Annotated[
            int | None,
            strawberry.argument(
                description="A démarches-simplifiées procedure registered for this form "
                "(`unefois procedure register`): dsPayload is then the body of its prefill API."
            ),
        ] = None,
    ) -> PrefilledFormType:
        rc = info.context
        definition = _form(form, context.purpose, rc.catalogue)
        view, filled = await fill_form(rc, ref.to_reference(), context.to_context(), definition)
        payload = await _payload(rc, definition, filled, procedure)
        return _type(definition, filled, view.access_id, payload)


@strawberry.type(description="The person's check of a prefilled form.")
class PrefillMutations:
    @strawberry.mutation(
        description="The person's check: confirmations, corrections, values.",
        extensions=scoped(PREFILL_WRITE),
    )
    async def submit_prefill(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: Annotated[PersonRef, strawberry.argument(description=_REF)],
        context: Annotated[AccessContextInput, strawberry.argument(description=_CONTEXT)],
        form: Annotated[str, strawberry.argument(description=_FORM)],
        confirmations: Annotated[
            list[str],
            strawberry.argument(description="Ids of the fields the person confirmed as shown."),
        ],
        corrections: Annotated[
            JSON | None,
            strawberry.argument(
                description="Field id → the value the person put instead of the one shown."
            ),
        ] = None,
        provided: Annotated[
            JSON | None,
            strawberry.argument(
                description="Field id → the value the person typed in an empty field."
            ),
        ] = None,
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
        access = context.to_context()
        view, filled = await fill_form(
            rc, ref.to_reference(), access, definition, for_eligibility=True
        )
        done = await settle_submission(rc, access, definition, view, filled, submission)
        return SubmissionResult(
            submission_id=done.submission_id,
            access_id=view.access_id,
            changed=list(done.changed),
            form=_type(definition, done.validated, view.access_id),
            eligibility=done.eligibility,
        )
