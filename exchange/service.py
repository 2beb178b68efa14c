"""The exchange service: plan → decide → fetch → assemble (→ audit, → answer).

One call of ``Exchange.person`` is one access to one person's data. The request is refused
before anything is fetched when the purpose, the date or the client do not allow it; then
only the agencies holding allowed fields are called. The audit step slots in after
``assemble``, before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from audit import Outcome
from connectors import CallContext, Connectors, PivotIdentity
from exchange.auditing import Auditor, new_decision_id
from exchange.caller import Caller, Client
from exchange.catalogue import FIELDS
from exchange.context import AccessContext
from exchange.decision import PolicyDecider
from exchange.errors import AccessRefused, ExchangeError
from exchange.fetch import CallObserver, SourceFailure, fetch_all
from exchange.plan import Unplannable, check_fields, plan
from exchange.pseudonyms import Pseudonyms
from exchange.reference import PersonReference, PersonTokens, Subjects, resolve
from exchange.window import Window
from policies import Decision, Verdict


@dataclass(frozen=True)
class PersonRequest:
    caller: Caller
    ref: PersonReference
    context: AccessContext
    fields: frozenset[str]
    on: date
    months: int = 12
    # The date the data window is read before (default: ``on``); an eligibility check for
    # month M reads the months before M.
    period_on: date | None = None


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
    verdict: Verdict
    sources_called: tuple[str, ...]
    window: Window
    handle: str | None  # the caller's own sector handle (clients only)
    access_id: str = ""  # the audit entry of this access
    subjects: Subjects | None = None  # who it is about: kept in memory for this request only


class Exchange:
    def __init__(
        self,
        connectors: Connectors,
        decider: PolicyDecider,
        pseudonyms: Pseudonyms,
        auditor: Auditor,
        person_tokens: PersonTokens | None = None,
        observe: CallObserver | None = None,
    ) -> None:
        self._auditor = auditor
        self._connectors = connectors
        self._decider = decider
        self._pseudonyms = pseudonyms
        self._person_tokens = person_tokens
        self._observe = observe

    async def person(self, request: PersonRequest) -> PersonView:
        fields = check_fields(request.fields)
        window = Window.ending_before(request.period_on or request.on, request.months)
        caller, context = request.caller, request.context
        decision_id = new_decision_id()
        first = self._decider.precheck(caller, context, fields, request.on)
        if first.request.effect != "allow":
            await self._refused(decision_id, request, first, None)
            raise AccessRefused("; ".join(first.request.reasons) or "access refused")
        try:
            subjects = await resolve(request.ref, caller, self._pseudonyms, self._person_tokens)
        except ExchangeError:
            await self._refused(decision_id, request, first, None)
            raise
        verdict = await self._decider.decide(caller, context, fields, subjects, request.on, first)
        the_plan = plan(verdict.fields, subjects)
        ctx = CallContext(recipient=context.recipient, on=request.on)
        results = await fetch_all(
            the_plan.sources, self._connectors, subjects, ctx, window, self._observe
        )
        view = assemble(fields, verdict, the_plan.unplannable, results, window)
        # Fail closed: the answer leaves only once its entry is durable.
        await self._auditor.access(
            decision_id,
            caller,
            context,
            verdict,
            subjects.identity,
            released=frozenset(view.fields),
            failed={
                f: x.code for f, x in view.failures.items() if verdict.fields[f].effect == "allow"
            },
            agencies=frozenset(s.name.split(".")[0] for s in the_plan.sources),
            outcome=_outcome(view, verdict),
        )
        handle = None
        if isinstance(caller, Client):
            handle = self._pseudonyms.handle(subjects.identity, caller.sector)
        return replace(view, handle=handle, access_id=decision_id, subjects=subjects)

    async def _refused(
        self,
        decision_id: str,
        request: PersonRequest,
        verdict: Verdict,
        identity: PivotIdentity | None,
    ) -> None:
        await self._auditor.access(
            decision_id,
            request.caller,
            request.context,
            verdict,
            identity,
            released=frozenset(),
            failed={},
            agencies=frozenset(),
            outcome="refused",
        )


def _outcome(view: PersonView, verdict: Verdict) -> Outcome:
    if not view.failures:
        return "released"
    allowed = [f for f, d in verdict.fields.items() if d.effect == "allow"]
    if allowed and not view.fields:
        return "failed"
    if not view.fields:
        return "refused"
    return "partial"


def assemble(
    fields: frozenset[str],
    verdict: Verdict,
    unplannable: Mapping[str, Unplannable],
    results: Mapping[str, object],
    window: Window,
) -> PersonView:
    values: dict[str, object] = {}
    failures: dict[str, FieldFailure] = {}
    for field in fields:
        decision: Decision = verdict.fields[field]
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
    return PersonView(values, failures, verdict, tuple(results), window, None)
