"""The root query."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import strawberry
from graphql import FieldNode, FragmentDefinitionNode

from eligibility.inputs import tax_year
from exchange import PersonRequest, PersonView
from schema.audit import AuditQueries
from schema.consents import ConsentType, my_consents
from schema.context import RequestContext
from schema.eligibility import (
    BENEFITS,
    HISTORY_MONTHS,
    MONTH,
    Benefit,
    EligibilityResult,
    check_benefits,
    eligibility_fields,
    evaluate_household,
    period_start,
)
from schema.inputs import CONTEXT, REF, AccessContextInput, PersonRef
from schema.person import Person
from schema.plan import Early
from schema.prefill import PrefillQueries
from schema.purposes import PurposeType, purposes
from schema.scopes import ELIGIBILITY_READ, require, scoped
from schema.selection import coerced_variables, person_selection


async def read_person(
    rc: RequestContext,
    arguments: dict[str, Any],
    field_nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    early: Early | None = None,
) -> Person:
    """``person(ref, context)``: the fields the document selects, read through the exchange.
    Shared by the resolver and the compiled plans (``schema.plan``), whose ``early`` is
    handed a provisional person as the agencies answer (``Exchange.person``)."""
    ref: PersonRef = arguments["ref"]
    context: AccessContextInput = arguments["context"]
    selection = person_selection(field_nodes, fragments, variables)
    require(rc, selection.scopes)
    request = selection.request(rc.caller, ref.to_reference(), context.to_context(), rc.on)
    on_partial = None
    if early is not None:

        def on_partial(view: PersonView, settled: frozenset[str]) -> None:
            early(Person(_view=view, _request=request), settled)

    return Person(_view=await rc.exchange.person(request, on_partial), _request=request)


# The root fields a compiled plan may start from, with their readers.
PLANNED_ROOTS = {"person": read_person}


@strawberry.type(description="Reads: persons, eligibility, prefilled forms, purposes, audit log.")
class Query(AuditQueries, PrefillQueries):
    @strawberry.field(
        description="The unified view of one person, under an access context.",
        extensions=scoped(),
    )
    async def person(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: Annotated[PersonRef, strawberry.argument(description=REF)],
        context: Annotated[AccessContextInput, strawberry.argument(description=CONTEXT)],
    ) -> Person | None:
        raw = info._raw_info
        variables = coerced_variables(raw)
        arguments = {"ref": ref, "context": context}
        return await read_person(
            info.context, arguments, list(raw.field_nodes), raw.fragments, variables
        )

    @strawberry.field(
        description="Eligibility for benefits in a month, and whether each is already received.",
        extensions=scoped(ELIGIBILITY_READ),
    )
    async def eligibility(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: Annotated[PersonRef, strawberry.argument(description=REF)],
        context: Annotated[AccessContextInput, strawberry.argument(description=CONTEXT)],
        benefits: Annotated[list[Benefit], strawberry.argument(description=BENEFITS)],
        month: Annotated[str, strawberry.argument(description=MONTH)],
    ) -> list[EligibilityResult]:
        rc = info.context
        check_benefits(benefits)
        request = PersonRequest(
            caller=rc.caller,
            ref=ref.to_reference(),
            context=context.to_context(),
            fields=eligibility_fields(benefits, None, month),
            on=rc.on,
            months=HISTORY_MONTHS,
            period_on=period_start(month),
            tax_year=tax_year(month),
            # The person's birth date, once the reference gives it (an identity, a handle, a
            # FranceConnect token), spares the CNAV's record of someone too young for the
            # ASPA any benefit asked counts, and the MESRI's and the CNOUS's of someone too
            # old for housing aid to read studies.
            narrow=lambda person: eligibility_fields(benefits, person.birth_date, month),
        )
        view = await rc.exchange.person(request)
        return await evaluate_household(rc, request, view, benefits, month)

    my_consents: list[ConsentType] = strawberry.field(
        resolver=my_consents, description="The calling citizen's consents, newest first."
    )

    purposes: list[PurposeType] = strawberry.field(
        resolver=purposes,
        description="The purposes of the policy catalogue the caller may declare, by id, "
        "with what each releases, when, and under which law.",
    )
