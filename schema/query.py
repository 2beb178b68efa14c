"""The root query."""

from __future__ import annotations

from typing import Any

import strawberry

from connectors import ConnectorError
from exchange import ExchangeError, PersonRequest
from schema.audit import AuditQueries
from schema.consents import ConsentType, my_consents
from schema.context import RequestContext
from schema.eligibility import (
    ELIGIBILITY_FIELDS,
    HISTORY_MONTHS,
    Benefit,
    EligibilityResult,
    evaluate,
    period_start,
)
from schema.errors import typed_error
from schema.inputs import AccessContextInput, PersonRef
from schema.person import Person
from schema.prefill import PrefillQueries
from schema.selection import person_selection


@strawberry.type
class Query(AuditQueries, PrefillQueries):
    @strawberry.field(description="The unified view of one person, under an access context.")
    async def person(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: PersonRef,
        context: AccessContextInput,
    ) -> Person | None:
        rc = info.context
        raw = info._raw_info
        # graphql-core types this as VariableValues but hands strawberry a plain dict.
        raw_variables: Any = raw.variable_values
        variables: dict[str, Any] = getattr(raw_variables, "coerced", raw_variables)
        selection = person_selection(list(raw.field_nodes), raw.fragments, variables)
        try:
            period_on = (
                period_start(selection.eligibility_month) if selection.eligibility_month else None
            )
            request = PersonRequest(
                caller=rc.caller,
                ref=ref.to_reference(),
                context=context.to_context(),
                fields=selection.fields,
                on=rc.on,
                months=selection.months,
                period_on=period_on,
            )
            view = await rc.exchange.person(request)
        except (ExchangeError, ConnectorError) as exc:
            raise typed_error(exc.message, exc.code) from None
        except ValueError as exc:
            raise typed_error(str(exc), "BAD_USER_INPUT") from None
        return Person(_view=view)

    @strawberry.field(
        description="Eligibility for benefits in a month, and whether each is already received."
    )
    async def eligibility(
        self,
        info: strawberry.Info[RequestContext, None],
        ref: PersonRef,
        context: AccessContextInput,
        benefits: list[Benefit],
        month: str,
    ) -> list[EligibilityResult]:
        rc = info.context
        try:
            request = PersonRequest(
                caller=rc.caller,
                ref=ref.to_reference(),
                context=context.to_context(),
                fields=ELIGIBILITY_FIELDS,
                on=rc.on,
                months=HISTORY_MONTHS,
                period_on=period_start(month),
            )
            view = await rc.exchange.person(request)
        except (ExchangeError, ConnectorError) as exc:
            raise typed_error(exc.message, exc.code) from None
        except ValueError as exc:
            raise typed_error(str(exc), "BAD_USER_INPUT") from None
        return await evaluate(rc.eligibility, view.fields, benefits, month)

    my_consents: list[ConsentType] = strawberry.field(
        resolver=my_consents, description="The calling citizen's consents, newest first."
    )
