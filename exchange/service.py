"""The exchange service: plan → decide → fetch → assemble (→ audit, → answer).

One call of ``Exchange.person`` is one access to one person's data. The steps are explicit
so that the audit step (appended before the answer leaves) slots in after ``assemble``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from connectors import CallContext, Connectors
from exchange.catalogue import FIELDS, Subjects
from exchange.context import AccessContext
from exchange.decision import Client, Decider, Decision
from exchange.fetch import CallObserver, SourceFailure, fetch_all
from exchange.plan import Unplannable, check_fields, plan
from exchange.window import Window


@dataclass(frozen=True)
class PersonRequest:
    client: Client
    subjects: Subjects
    context: AccessContext
    fields: frozenset[str]
    on: date
    months: int = 12


@dataclass(frozen=True)
class FieldFailure:
    """Why a field is null: a denial, a missing subject, or its source failing."""

    code: str
    message: str
    provider: str | None = None
    retry_in: float | None = None


@dataclass(frozen=True)
class PersonView:
    fields: Mapping[str, object]  # field → record (shared records are the same object)
    failures: Mapping[str, FieldFailure]  # field → why it is null
    decisions: Mapping[str, Decision]
    sources_called: tuple[str, ...]
    window: Window


class Exchange:
    def __init__(
        self,
        connectors: Connectors,
        decider: Decider,
        observe: CallObserver | None = None,
    ) -> None:
        self._connectors = connectors
        self._decider = decider
        self._observe = observe

    async def person(self, request: PersonRequest) -> PersonView:
        fields = check_fields(request.fields)
        window = Window.ending_before(request.on, request.months)
        decisions = self._decider.decide(request.client, request.context, fields, request.on)
        the_plan = plan(decisions, request.subjects)
        ctx = CallContext(recipient=request.context.recipient, on=request.on)
        results = await fetch_all(
            the_plan.sources, self._connectors, request.subjects, ctx, window, self._observe
        )
        return assemble(fields, decisions, the_plan.unplannable, results, window)


def assemble(
    fields: frozenset[str],
    decisions: Mapping[str, Decision],
    unplannable: Mapping[str, Unplannable],
    results: Mapping[str, object],
    window: Window,
) -> PersonView:
    values: dict[str, object] = {}
    failures: dict[str, FieldFailure] = {}
    for field in fields:
        decision = decisions[field]
        if decision.effect != "allow":
            reason = "; ".join(decision.reasons) or "access denied"
            failures[field] = FieldFailure(decision.code, reason)
            continue
        if field in unplannable:
            u = unplannable[field]
            failures[field] = FieldFailure(u.code, u.message)
            continue
        result = results[FIELDS[field]]
        if isinstance(result, SourceFailure):
            failures[field] = FieldFailure(
                result.code, result.message, result.provider, result.retry_in
            )
        else:
            values[field] = result
    return PersonView(values, failures, decisions, tuple(results), window)
