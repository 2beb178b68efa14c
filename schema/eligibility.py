"""Eligibility over GraphQL: "you are probably entitled to this, and you don't receive it".

The data comes through the exchange like any access (purpose, decisions, audit); the rules
run in the eligibility service's worker processes, never on the event loop.

A couple is evaluated with the partner's resources: when the CAF household (else the tax
household) names a partner and the rules will run, the partner is identified and read under
the same request (``exchange.partners``), as far as the purpose's partner section allows.
When they cannot be read, the answers name the partner's data and why in ``missing``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from enum import Enum
from typing import cast

import strawberry

from connectors.errors import AGENCY_FAILURES
from eligibility import BadMonth, BenefitResult, EligibilityService, PersonData
from eligibility.engine import check_request, plan
from eligibility.household import Household
from eligibility.inputs import HISTORY_MONTHS as HISTORY_MONTHS
from eligibility.inputs import (
    INPUT_FIELDS,
    PARTNER_FIELDS,
    fields_for,
    optional_partner_fields,
    partner_of,
    person_data_from_fields,
    tax_year,
    with_partner,
)
from exchange import (
    AccessContext,
    FieldFailure,
    PartnerReader,
    PartnerRequest,
    PersonRequest,
    PersonView,
)
from schema.context import RequestContext
from schema.errors import typed_error

ELIGIBILITY_FIELDS = INPUT_FIELDS
BENEFITS = "The benefits to evaluate, one or more."
MONTH = "The month evaluated, YYYY-MM; the data read is of the months before it."
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@strawberry.enum(description="A benefit the eligibility rules (OpenFisca-France) evaluate.")
class Benefit(Enum):
    RSA = strawberry.enum_value(
        "rsa", description="Revenu de solidarité active (CNAF/MSA), CASF L262-1 and following."
    )
    PPA = strawberry.enum_value(
        "ppa", description="Prime d'activité (CNAF/MSA), CSS L841-1 and following."
    )
    CSS = strawberry.enum_value(
        "css",
        description="Complémentaire santé solidaire (CNAM), free or with a participation, "
        "CSS L861-1 and following.",
    )
    ASPA = strawberry.enum_value(
        "aspa",
        description="Allocation de solidarité aux personnes âgées (CNAV), CSS L815-1 and "
        "following.",
    )
    AIDE_LOGEMENT = strawberry.enum_value(
        "aide_logement",
        description="Housing aid (APL, ALF or ALS, CAF), Code de la construction et de "
        "l'habitation L821-1 and following.",
    )


_BENEFIT_VALUES = frozenset(cast(str, b.value) for b in Benefit)


def eligibility_fields(
    benefits: Iterable[object], birth: date | None = None, month: str | None = None
) -> frozenset[str]:
    """What the rules of ``benefits`` read (``eligibility.inputs.fields_for``), each given as a
    ``Benefit``, its name (``RSA``, as a document or its variables write it) or its value
    (``rsa``); the CNAV's record is included whenever a benefit may count it unless the
    caller's birth date (``birth``, with the ``month`` evaluated) says the person is too young,
    and the MESRI's status and the CNOUS's grant for housing aid unless it says they are 28
    or older (from 2021: before, a student's floor applied at any age; the CNOUS's answer
    never tells a grant before 2021). Anything else: every field the rules may read."""
    codes: list[str] = []
    for benefit in benefits:
        if isinstance(benefit, str) and benefit in Benefit.__members__:
            benefit = Benefit[benefit]
        if isinstance(benefit, Benefit):
            codes.append(cast(str, benefit.value))
        elif isinstance(benefit, str) and benefit in _BENEFIT_VALUES:
            codes.append(benefit)
        else:
            return ELIGIBILITY_FIELDS
    return fields_for(codes, birth, month)


@strawberry.enum(description="The answer of the rules for one benefit and one month.")
class EligibilityStatus(Enum):
    ELIGIBLE = strawberry.enum_value(
        "ELIGIBLE",
        description="Probably entitled. Without `monthlyAmount`, entitled whatever the data "
        "`missing` names, the amount depending on it.",
    )
    NOT_ELIGIBLE = strawberry.enum_value("NOT_ELIGIBLE", description="Probably not entitled.")
    CANNOT_EVALUATE = strawberry.enum_value(
        "CANNOT_EVALUATE", description="Data is missing: `missing` names it."
    )
    DECEASED = strawberry.enum_value(
        "DECEASED",
        description="The civil registry records the person's death on or before the month "
        "asked: no rule is run. The explanation gives the death date and its source.",
    )


@strawberry.type(description="A legal text, with a link to it.")
class LegalReference:
    title: str = strawberry.field(description="The code and its article, e.g. `CASF art. L262-2`.")
    href: str = strawberry.field(description="Its URL (Légifrance).")


@strawberry.type(description="One condition of the benefit, and the text that sets it.")
class Criterion:
    text: str = strawberry.field(description="The condition, in French.")
    legal_basis: LegalReference = strawberry.field(description="The text that sets it.")


@strawberry.type(description="Where an input of the rules came from.")
class InputProvenance:
    agency: str = strawberry.field(
        description="The agency that gave it (as in `Provenance.agency`), or `declaration` "
        "for what the person declared."
    )
    source: str = strawberry.field(description="The agency endpoint that answered.")
    as_of: date = strawberry.field(description="The day the data describes.")


@strawberry.type(description="One value the rules read.")
class InputUsed:
    name: str = strawberry.field(
        description="The input, by its OpenFisca-France variable, e.g. `date_deces`."
    )
    value: str = strawberry.field(description="Its value, as text.")
    provenance: InputProvenance = strawberry.field(description="Where it came from.")


@strawberry.type(description="Why the rules answered as they did.")
class Explanation:
    criteria: list[Criterion] = strawberry.field(description="The conditions examined.")
    inputs: list[InputUsed] = strawberry.field(
        description="The data the rules read, with their provenance."
    )


@strawberry.type(description="The eligibility of one person to one benefit in one month.")
class EligibilityResult:
    benefit: Benefit = strawberry.field(description="The benefit evaluated.")
    status: EligibilityStatus = strawberry.field(description="The rules' answer.")
    monthly_amount: float | None = strawberry.field(
        description="Estimated monthly amount in euros; for CSS, the household's monthly "
        "participation (the sum of each covered member's, set by age; 0: free CSS)."
    )
    receiving: bool | None = strawberry.field(description="Already paid by its agency.")
    non_take_up: bool = strawberry.field(description="Eligible and not receiving it.")
    missing: list[str] = strawberry.field(
        description="What is missing to evaluate it (`ELIGIBLE`: to compute its amount)."
    )
    explanation: Explanation = strawberry.field(
        description="The criteria, legal references and inputs used."
    )


def period_start(month: str) -> date:
    """The first day of ``month`` (YYYY-MM): the data window is read before it."""
    match = _MONTH.match(month)
    if match is None:
        raise BadMonth(month)
    return date(int(match[1]), int(match[2]), 1)


def person_data(fields: Mapping[str, object]) -> PersonData | None:
    """The eligibility input from the records the exchange released (None: no identity)."""
    return person_data_from_fields(fields)


def result_type(result: BenefitResult) -> EligibilityResult:
    return EligibilityResult(
        benefit=Benefit(result.benefit),
        status=EligibilityStatus(result.status),
        monthly_amount=result.monthly_amount,
        receiving=result.receiving,
        non_take_up=result.non_take_up,
        missing=list(result.missing),
        explanation=Explanation(
            criteria=[
                Criterion(text=c.text, legal_basis=LegalReference(title=c.title, href=c.href))
                for c in result.criteria
            ],
            inputs=[
                InputUsed(
                    name=i.name,
                    value=i.value,
                    provenance=InputProvenance(agency=i.agency, source=i.source, as_of=i.as_of),
                )
                for i in result.inputs
            ],
        ),
    )


async def evaluate(
    service: EligibilityService,
    view: PersonView,
    benefits: list[Benefit],
    month: str,
) -> list[EligibilityResult]:
    """Run the rules on released records; typed errors for the client."""
    data = person_data(view.fields)
    return await evaluate_data(service, data, benefits, month, civil_failure(view))


async def evaluate_data(
    service: EligibilityService,
    data: PersonData | None,
    benefits: list[Benefit],
    month: str,
    civil: FieldFailure | None = None,
) -> list[EligibilityResult]:
    data = _checked(data, benefits, civil)
    results = await service.evaluate(data, [cast(str, b.value) for b in benefits], month)
    return [result_type(r) for r in results]


async def evaluate_household(
    rc: RequestContext,
    request: PersonRequest,
    view: PersonView,
    benefits: list[Benefit],
    month: str,
) -> list[EligibilityResult]:
    """Run the rules on the person's released records, completed with their partner's
    resources read under the same request when the household names a partner."""
    data = person_data(view.fields)
    return await evaluate_with_partner(
        rc, request.context, view.access_id, data, benefits, month, civil_failure(view)
    )


async def evaluate_with_partner(
    rc: RequestContext,
    context: AccessContext,
    access_id: str,
    data: PersonData | None,
    benefits: list[Benefit],
    month: str,
    civil: FieldFailure | None = None,
) -> list[EligibilityResult]:
    """``data`` (of the access ``access_id``) evaluated with the partner's resources, read
    by the caller under ``context`` as the purpose's partner section allows. ``civil``: why
    the civil status is missing from the access, when it is."""
    data = _checked(data, benefits, civil)
    partner = partner_of(data)
    asked = check_request([cast(str, b.value) for b in benefits], month)
    # The partner is read only when the rules will run on a household that has one:
    # nothing about them is needed for a deceased person or one without any history.
    if partner is not None and isinstance(plan(data, asked, month), Household):
        read = await PartnerReader(rc.exchange).read(
            PartnerRequest(
                caller=rc.caller,
                member=partner,
                context=context,
                fields=PARTNER_FIELDS,
                on=rc.on,
                household_of=access_id,
                months=HISTORY_MONTHS,
                period_on=period_start(month),
                optional=optional_partner_fields(asked, partner, month, data),
                tax_year=tax_year(month),
            )
        )
        # The partner's AAH status alone not released: the rules take it at its bounds.
        completed = with_partner(data, read.fields)
        if completed is not None:
            data = completed
        elif read.missing is not None:
            data = replace(data, partner_unread=read.missing)
    return await evaluate_data(rc.eligibility, data, benefits, month)


def civil_failure(view: PersonView) -> FieldFailure | None:
    """Why the access's civil status is missing (None when it was released or not asked)."""
    return view.failures.get("identity")


def _checked(
    data: PersonData | None, benefits: list[Benefit], civil: FieldFailure | None = None
) -> PersonData:
    check_benefits(benefits)
    return civil_status_required(data, civil)


def civil_status_required(data: PersonData | None, civil: FieldFailure | None) -> PersonData:
    """``data``, or the typed error saying why the civil status the rules need is missing:
    the civil registry failing to answer gives its code (the client may try again), one
    that does not know the person ``NOT_FOUND``, a category withheld for lack of consent
    ``CONSENT_REQUIRED``, a purpose that does not release it ``FORBIDDEN``."""
    if data is not None:
        return data
    if civil is not None and civil.code in AGENCY_FAILURES:
        raise typed_error(
            f"eligibility needs the person's civil status, which could not be read: "
            f"{civil.message}",
            civil.code,
            provider=civil.provider,
            retry_in=civil.retry_in,
        )
    if civil is not None and civil.code in ("NOT_FOUND", "CONSENT_REQUIRED"):
        raise typed_error(
            f"eligibility needs the person's civil status, which was not released: {civil.message}",
            civil.code,
            provider=civil.provider,
        )
    raise typed_error(
        "eligibility needs the person's civil status, which was not released",
        "FORBIDDEN",
    )


def check_benefits(benefits: list[Benefit]) -> None:
    """An empty list is refused before anything is read: no rules, nothing to read for."""
    if not benefits:
        raise typed_error("ask for one or more benefits", "BAD_USER_INPUT")
