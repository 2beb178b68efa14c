"""The exchange service: plan → decide → fetch → assemble (→ audit, → answer).

One call of ``Exchange.person`` is one access to one person's data. The request is refused
before anything is fetched when the purpose, the date or the client do not allow it; then
only the agencies holding allowed fields are called. The audit step starts once the access
is decided — its entry as it will be if every agency asked answers, committed while they are
called — and the answer leaves only once that commit is done; when the agencies did not all
answer, a correction is appended first (``audit.folding``).

``Exchange.identify`` is the other access: the civil registry's identification of a person
from their traits (how a partner named on a CAF file gets the pivot identity the other
agencies need). It reads the registry's record of someone, so it passes the same decision as
the ``identity`` field and has its own audit entry about the person found.

A request with ``household_of`` is about the partner of someone whose rights are examined
(``exchange.partners``): the purpose's partner section decides it, and its audit entry says
it is about a household member.

``Exchange.persons`` is the bulk path of a campaign: many requests that differ only by the
person (same caller, context, fields, dates) are decided once, fetched concurrently, and
their audit entries — still one per person, each with its pseudonym and its own access id —
appended in one transaction before any answer leaves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

from audit import CORRECTS, AuditEntry, Outcome
from connectors import CallContext, ConnectorError, Connectors, PivotIdentity
from connectors.civil_registry import Traits
from connectors.errors import AGENCY_FAILURES
from connectors.records import Identification
from exchange.auditing import Auditor, member_details, new_decision_id
from exchange.caller import Caller, Client
from exchange.catalogue import FIELDS
from exchange.context import AccessContext
from exchange.decision import PolicyDecider
from exchange.errors import AccessRefused, ExchangeError, NotRecorded
from exchange.fetch import CallObserver, SourceFailure, fetch_all
from exchange.partial import Awaited
from exchange.plan import Plan, Unplannable, check_fields, plan
from exchange.pseudonyms import Pseudonyms
from exchange.reference import PersonReference, PersonTokens, Subjects, resolve
from exchange.window import Window
from policies import Decision, Verdict, needs_consents

# What an identification by traits releases: the registry's record, as the person view's
# ``identity`` field does (same category, same decision).
IDENTIFICATION_FIELD = "identity"
IDENTIFICATION_SOURCE = "civil_registry.recherche"


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
    # The income year of the tax household to read (default: the latest assessment on the
    # window's date, ``Window``); an eligibility check for month M reads year M-2, the year
    # the family benefits are means-tested on.
    tax_year: int | None = None
    # Set when the person is the partner of someone whose rights are examined: the access id
    # of that examination. The purpose's partner section decides, and the entry says so.
    household_of: str | None = None
    # Given the person once the reference is resolved, the fields of ``fields`` still needed
    # (what an eligibility check reads depends on the person's age): the others are neither
    # decided nor read. None: all of them.
    narrow: Callable[[PivotIdentity], frozenset[str]] | None = None


@dataclass(frozen=True)
class IdentifyRequest:
    """Who is looked for by their traits, by whom, for what."""

    caller: Caller
    traits: Traits
    context: AccessContext
    on: date
    household_of: str | None = None  # as in ``PersonRequest``


@dataclass(frozen=True)
class FieldFailure:
    """Why a field is null: a denial, a missing subject, or its source failing."""

    code: str
    message: str
    provider: str | None = None
    retry_in: float | None = None


@dataclass(frozen=True)
class _Decided:
    """One access once decided: what is read for it, and what its entry describes."""

    id: str  # the decision id: the access's entry
    request: PersonRequest
    fields: frozenset[str]
    verdict: Verdict
    subjects: Subjects
    window: Window
    plan: Plan

    def assemble(self, results: Mapping[str, object]) -> PersonView:
        return assemble(self.fields, self.verdict, self.plan.unplannable, results, self.window)


class Handle:
    """A person's handle for one sector, sealed on first read and kept."""

    __slots__ = ("_identity", "_pseudonyms", "_sector", "_text")

    def __init__(self, pseudonyms: Pseudonyms, identity: PivotIdentity, sector: str) -> None:
        self._pseudonyms = pseudonyms
        self._identity = identity
        self._sector = sector
        self._text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = self._pseudonyms.handle(self._identity, self._sector)
        return self._text


@dataclass(frozen=True)
class PersonView:
    fields: Mapping[str, object]  # field → record (shared records are the same object)
    failures: Mapping[str, FieldFailure]  # field → why it is null
    verdict: Verdict
    sources_called: tuple[str, ...]
    window: Window
    # The caller's own sector handle (clients only), sealed when first read: most documents
    # do not select it, and sealing is the costliest step after the last agency answers.
    sealed: Handle | None
    access_id: str = ""  # the audit entry of this access
    subjects: Subjects | None = None  # who it is about: kept in memory for this request only
    # The fields whose agencies have not answered yet: only in the provisional views handed
    # out while they are called (``exchange.partial``), never in the view an access returns.
    awaiting: frozenset[str] = frozenset()

    @property
    def handle(self) -> str | None:
        """The caller's own sector handle, if the access gives one (clients only)."""
        return None if self.sealed is None else self.sealed.text()

    def agency_failures(self) -> dict[str, str]:
        """Field → code of the fields missing because their agency failed to answer
        (``connectors.errors.AGENCY_FAILURES``): asked again, they may be there."""
        return {f: x.code for f, x in self.failures.items() if x.code in AGENCY_FAILURES}


# Told, as an access's agencies answer, its provisional view and the fields just settled.
PartialObserver = Callable[[PersonView, frozenset[str]], None]


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
        # Corrections of cancelled accesses, held until written (the loop keeps weak refs).
        self._background: set[asyncio.Future[Any]] = set()

    async def person(
        self, request: PersonRequest, on_partial: PartialObserver | None = None
    ) -> PersonView:
        """The access's view. ``on_partial``, if given, is called after each turn of the
        event loop in which agencies answered while others are still awaited, with a
        provisional view and the fields settled since the last call: work done on it ahead of
        the view (an answer's completion) waits for nothing but the slowest agency. What it
        reads before its agency answered raises ``exchange.partial.NotYet``; the provisional
        view is valid only during the call."""
        fields = check_fields(request.fields)
        window = Window.ending_before(
            request.period_on or request.on, request.months, request.tax_year
        )
        caller, context = request.caller, request.context
        decision_id = new_decision_id()
        member = request.household_of is not None
        # A partner's access is decided by the purpose's partner section alone.
        precheck = self._decider.partner if member else self._decider.precheck
        first = precheck(caller, context, fields, request.on)
        if first.request.effect != "allow":
            await self._refused(decision_id, request, first, None)
            reason = "; ".join(first.request.reasons) or "access refused"
            raise AccessRefused(reason, valid_purposes=first.valid_purposes)
        try:
            subjects = await resolve(request.ref, caller, self._pseudonyms, self._person_tokens)
        except ExchangeError:
            await self._refused(decision_id, request, first, None)
            raise
        if request.narrow is not None:
            needed = fields & request.narrow(subjects.identity)
            if needed != fields:
                fields = needed
                first = precheck(caller, context, fields, request.on)
        verdict = first
        if not member:
            verdict = await self._decider.decide(
                caller, context, fields, subjects, request.on, first
            )
        ctx = CallContext(recipient=context.recipient, on=request.on)
        access = _Decided(
            decision_id, request, fields, verdict, subjects, window, plan(verdict.fields, subjects)
        )
        # The entry as it will be if every agency asked answers, committed while they are
        # called: the commit costs the answer nothing when they do, and a correction follows
        # when they do not (audit.folding).
        expected = self._expected(access)
        pending = asyncio.ensure_future(self._auditor.append(expected))
        try:
            entry, view = await self._read(access, ctx, expected, on_partial)
        except Exception:
            # Nothing is released: if the expected entry was written, a correction says so.
            if await _written(pending):
                await self._auditor.append(_correction(self._failed(expected, "INTERNAL")))
            raise
        except BaseException:
            # Cancelled: nothing is released either; the correction follows on its own.
            failed = _correction(self._failed(expected, "CANCELLED"))
            pending.add_done_callback(partial(self._correct_later, failed))
            raise
        # Fail closed: the answer leaves only once an entry covering it is durable.
        await pending
        if entry is not expected:
            await self._auditor.append(_correction(entry))
        return view

    def _expected(self, access: _Decided) -> AuditEntry:
        """The access's entry as it will be if every source of its plan answers."""
        answered = dict.fromkeys((s.name for s in access.plan.sources), _ANSWERED)
        return self._entry(access, access.assemble(answered))

    def _failed(self, expected: AuditEntry, code: str) -> AuditEntry:
        """``expected`` as an access that released nothing, its read having ended with
        ``code``: each field it would have released is denied for that reason."""
        return replace(
            expected,
            time=self._auditor.now(),
            released=(),
            denied=(*expected.denied, *((f, code) for f in expected.released)),
            outcome="failed",
        )

    def _correct_later(self, correction: AuditEntry, pending: asyncio.Future[Any]) -> None:
        """Once the expected entry of a cancelled access is written, its correction."""
        if pending.cancelled() or pending.exception() is not None:
            return
        task = asyncio.ensure_future(self._auditor.append(correction))
        task.add_done_callback(_retrieve)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def persons(self, requests: Sequence[PersonRequest]) -> list[PersonView | ExchangeError]:
        """Many accesses at once, each answered as ``person`` would answer it: its view, or
        the error ``person`` would raise (refused, unknown person, not recorded).

        Requests that share the caller, the context, the fields and the dates (a campaign's
        batch) are decided once: the verdict does not depend on the person unless the
        purpose rests on consents, which are then read per person. Every access still has its
        own audit entry; the entries are appended together, and if they cannot be made
        durable no view is returned (fail closed, as for one access).
        """
        if not requests:
            return []
        # Requests that differ only by the person share one decision.
        groups: dict[tuple[object, ...], list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(_batch_key(request), []).append(index)
        answers: list[PersonView | ExchangeError | None] = [None] * len(requests)
        for indices in groups.values():
            got = await self._same(tuple(requests[i] for i in indices))
            for i, answer in zip(indices, got, strict=True):
                answers[i] = answer
        return [a for a in answers if a is not None]

    async def _same(self, requests: Sequence[PersonRequest]) -> list[PersonView | ExchangeError]:
        """``persons`` for requests that differ only by the person."""
        head = requests[0]
        if head.household_of is not None or head.narrow is not None:
            # Decided per person: a partner's section, or fields that depend on the person.
            return list(await asyncio.gather(*(self._guarded(r) for r in requests)))
        fields = check_fields(head.fields)
        caller, context = head.caller, head.context
        first = self._decider.precheck(caller, context, fields, head.on)
        if first.request.effect != "allow":
            refused = [self._refusal(new_decision_id(), r, first, None) for r in requests]
            await self._auditor.append_many(refused)
            reason = "; ".join(first.request.reasons) or "access refused"
            return [AccessRefused(reason, valid_purposes=first.valid_purposes) for _ in requests]
        window = Window.ending_before(head.period_on or head.on, head.months, head.tax_year)
        ctx = CallContext(recipient=context.recipient, on=head.on)
        steps = await asyncio.gather(
            *(self._bulk_one(r, fields, first, window, ctx) for r in requests)
        )
        # Fail closed: nothing leaves before every entry of the batch is durable.
        try:
            await self._auditor.append_many([entry for entry, _ in steps])
        except NotRecorded as error:
            return [NotRecorded(str(error)) for _ in requests]
        return [answer for _, answer in steps]

    async def _guarded(self, request: PersonRequest) -> PersonView | ExchangeError:
        try:
            return await self.person(request)
        except ExchangeError as error:
            return error

    async def _bulk_one(
        self,
        request: PersonRequest,
        fields: frozenset[str],
        first: Verdict,
        window: Window,
        ctx: CallContext,
    ) -> tuple[AuditEntry, PersonView | ExchangeError]:
        """One person of a bulk access: its entry (not yet appended) and its answer."""
        decision_id = new_decision_id()
        caller, context = request.caller, request.context
        try:
            subjects = await resolve(request.ref, caller, self._pseudonyms, self._person_tokens)
        except ExchangeError as error:
            return self._refusal(decision_id, request, first, None), error
        verdict = await self._decider.decide(caller, context, fields, subjects, request.on, first)
        the_plan = plan(verdict.fields, subjects)
        access = _Decided(decision_id, request, fields, verdict, subjects, window, the_plan)
        return await self._read(access, ctx)

    async def _read(
        self,
        access: _Decided,
        ctx: CallContext,
        expected: AuditEntry | None = None,
        on_partial: PartialObserver | None = None,
    ) -> tuple[AuditEntry, PersonView]:
        """Fetch what the access's verdict allows (its plan) and assemble the view; the
        access's audit entry (not yet appended: the caller makes it durable before the view
        leaves) and the view. The entry is ``expected`` itself when every source answered, as
        it assumed (each planned source serves an allowed field: one failing changes it)."""
        subjects = access.subjects
        progress = None if on_partial is None else _Progress(access, on_partial).answered
        results = await fetch_all(
            access.plan.sources,
            self._connectors,
            subjects,
            ctx,
            access.window,
            self._observe,
            progress,
        )
        view = access.assemble(results)
        answered = not any(isinstance(r, SourceFailure) for r in results.values())
        entry = expected if expected is not None and answered else self._entry(access, view)
        sealed = None
        if isinstance(access.request.caller, Client) and _someone(view):
            sealed = Handle(self._pseudonyms, subjects.identity, access.request.caller.sector)
        return entry, replace(view, sealed=sealed, access_id=access.id, subjects=subjects)

    def _entry(self, access: _Decided, view: PersonView) -> AuditEntry:
        request, verdict = access.request, access.verdict
        return self._auditor.entry(
            access.id,
            request.caller,
            request.context,
            verdict,
            access.subjects.identity,
            released=frozenset(view.fields),
            failed={
                f: x.code for f, x in view.failures.items() if verdict.fields[f].effect == "allow"
            },
            agencies=frozenset(s.name.split(".")[0] for s in access.plan.sources),
            outcome=_outcome(view, verdict),
            details=member_details(request.household_of),
        )

    def _refusal(
        self,
        decision_id: str,
        request: PersonRequest,
        verdict: Verdict,
        identity: PivotIdentity | None,
    ) -> AuditEntry:
        return self._auditor.entry(
            decision_id,
            request.caller,
            request.context,
            verdict,
            identity,
            released=frozenset(),
            failed={},
            agencies=frozenset(),
            outcome="refused",
            details=member_details(request.household_of),
        )

    def partner_verdict(
        self, caller: Caller, context: AccessContext, fields: frozenset[str], on: date
    ) -> Verdict:
        """What the purpose would release about a partner (pure: nothing called, nothing
        recorded), so that nobody is searched for when nothing could be read."""
        return self._decider.partner(caller, context, fields, on)

    async def identify(self, request: IdentifyRequest) -> Identification:
        """The one person the civil registry finds with these traits, living or dead.

        Refused (``AccessRefused``) when the purpose, date or client would not release the
        ``identity`` field, and for purposes resting on consent: whose consent it is cannot
        be known before the person is. ``NotFound``, ``Ambiguous`` and the other connector
        errors are raised as they are, after an audit entry saying the access failed.
        """
        fields = frozenset({IDENTIFICATION_FIELD})
        caller, context = request.caller, request.context
        decision_id = new_decision_id()
        if request.household_of is not None:
            verdict = self._decider.partner(caller, context, fields, request.on)
        else:
            verdict = self._decider.precheck(caller, context, fields, request.on)
        details = member_details(request.household_of)
        allowed = verdict.fields[IDENTIFICATION_FIELD].effect == "allow"
        if verdict.request.effect != "allow" or not allowed:
            await self._refused_identification(decision_id, request, verdict)
            reason = "; ".join(verdict.request.reasons) or "identification refused"
            raise AccessRefused(reason, valid_purposes=verdict.valid_purposes)
        if needs_consents(self._decider.catalogue, context.purpose):
            await self._refused_identification(decision_id, request, verdict)
            raise AccessRefused("identification by traits is not open to consent-based purposes")
        ctx = CallContext(recipient=context.recipient, on=request.on)
        agencies = frozenset({IDENTIFICATION_SOURCE.split(".")[0]})
        started, outcome = time.perf_counter(), "ok"
        try:
            found = await self._connectors.civil_registry.find(request.traits, ctx)
        except ConnectorError as error:
            outcome = error.code
            await self._auditor.access(
                decision_id,
                caller,
                context,
                verdict,
                None,  # nobody, or not one person: no pseudonym to name
                released=frozenset(),
                failed={IDENTIFICATION_FIELD: error.code},
                agencies=agencies,
                outcome="failed",
                details=details,
            )
            raise
        finally:
            if self._observe is not None:
                elapsed = time.perf_counter() - started
                self._observe(IDENTIFICATION_SOURCE, "civil_registry", outcome, elapsed)
        # Fail closed: the identity leaves only once its entry is durable.
        await self._auditor.access(
            decision_id,
            caller,
            context,
            verdict,
            found.identity,
            released=fields,
            failed={},
            agencies=agencies,
            outcome="released",
            details=details,
        )
        return found

    async def _refused_identification(
        self, decision_id: str, request: IdentifyRequest, verdict: Verdict
    ) -> None:
        await self._auditor.access(
            decision_id,
            request.caller,
            request.context,
            verdict,
            None,
            released=frozenset(),
            failed={},
            agencies=frozenset(),
            outcome="refused",
            details=member_details(request.household_of),
        )

    async def _refused(
        self,
        decision_id: str,
        request: PersonRequest,
        verdict: Verdict,
        identity: PivotIdentity | None,
    ) -> None:
        await self._auditor.append(self._refusal(decision_id, request, verdict, identity))


# What an expected entry assumes every source of the plan answered: a record of some kind.
_ANSWERED = object()


def _correction(entry: AuditEntry) -> AuditEntry:
    """``entry`` as the correction of the entry of the same access id written before."""
    return replace(entry, id=new_decision_id(), details=(*entry.details, (CORRECTS, entry.id)))


async def _written(pending: asyncio.Future[Any]) -> bool:
    try:
        await pending
    except Exception:
        return False
    return True


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: a failed append is not reported as never awaited


def _batch_key(request: PersonRequest) -> tuple[object, ...]:
    """What one decision depends on: everything of a request but the person."""
    return (
        request.caller,
        request.context,
        request.fields,
        request.on,
        request.months,
        request.period_on,
        request.tax_year,
        request.household_of,
        request.narrow,
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


def _someone(view: PersonView) -> bool:
    """Whether the view may be of someone, so that a handle may name them: an agency released
    a value, or none of the agencies asked answered that it does not know the person.

    An identity that every agency asked does not know gets no handle: a handle is a reference
    to a person, and another system (a federated subgraph) would file data under it. When no
    agency was asked (only ``handle`` selected, or every field denied), nothing says either
    way and the handle is given, as an auditor's ``{ handle }`` under ``audit_control`` needs.
    """
    return bool(view.fields) or all(f.code != "NOT_FOUND" for f in view.failures.values())


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
        failure = _withheld(field, verdict, unplannable)
        if failure is None:
            result = results[FIELDS[field]]
            if not isinstance(result, SourceFailure):
                values[field] = result
                continue
            failure = _source_failure(result)
        failures[field] = failure
    return PersonView(values, failures, verdict, tuple(results), window, None)


def _withheld(
    field: str, verdict: Verdict, unplannable: Mapping[str, Unplannable]
) -> FieldFailure | None:
    """Why ``field`` is null whatever the agencies answer (denied, or no way to ask for it),
    or None when it is read."""
    decision: Decision = verdict.fields[field]
    if decision.effect != "allow":
        return FieldFailure(decision.code, "; ".join(decision.reasons) or "access denied")
    u = unplannable.get(field)
    return None if u is None else FieldFailure(u.code, u.message)


def _source_failure(result: SourceFailure) -> FieldFailure:
    return FieldFailure(result.code, result.message, result.provider, result.retry_in)


class _Progress:
    """An access's provisional views as its agencies answer (``exchange.partial``): the
    fields are settled one source at a time, as ``assemble`` settles them all at once.

    Answers that come together (from the cache, or in one turn of the event loop) make one
    provisional view, once the turn is over; none when no agency is left to answer, since
    the view itself follows."""

    def __init__(self, access: _Decided, on_partial: PartialObserver) -> None:
        self._access = access
        self._on_partial = on_partial
        self._values: dict[str, object] = {}
        self._failures: dict[str, FieldFailure] = {}
        self._by_source: dict[str, list[str]] = {}
        for field in access.fields:
            failure = _withheld(field, access.verdict, access.plan.unplannable)
            if failure is None:
                self._by_source.setdefault(FIELDS[field], []).append(field)
            else:
                self._failures[field] = failure
        self._awaiting = {f for fields in self._by_source.values() for f in fields}
        self._sources = tuple(s.name for s in access.plan.sources)
        self._settled: list[str] = []  # since the last provisional view

    def answered(self, source: str, result: object) -> None:
        fields = self._by_source.get(source)
        if not fields:
            return
        failure = _source_failure(result) if isinstance(result, SourceFailure) else None
        for field in fields:
            if failure is None:
                self._values[field] = result
            else:
                self._failures[field] = failure
            self._awaiting.discard(field)
        if not self._settled:
            asyncio.get_running_loop().call_soon(self._tell)
        self._settled += fields

    def _tell(self) -> None:
        settled, self._settled = frozenset(self._settled), []
        if not self._awaiting:
            return  # nothing left to wait for: the view itself follows
        awaiting = frozenset(self._awaiting)
        access = self._access
        view = PersonView(
            Awaited(self._values, awaiting),
            Awaited(self._failures, awaiting),
            access.verdict,
            self._sources,
            access.window,
            None,
            access.id,
            access.subjects,
            awaiting,
        )
        self._on_partial(view, settled)
