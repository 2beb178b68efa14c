"""The audit log over GraphQL: auditors' queries and the citizen's access journal.

``from`` and ``to`` take a date-time with its offset (``2025-06-01T08:00:00+02:00``) or a
plain date (``2025-06-01``): a date means that day at 00:00 in Europe/Paris for ``from``, and
the end of that day (the next day at 00:00 in Paris) for ``to``, since periods are
``[from, to)``. A date-time without an offset at another time than midnight is refused with
``BAD_USER_INPUT`` naming the field and both accepted forms. An entry's ``kind`` and
``outcome`` (and an anomaly's ``rule``) are enums named with the log's own lower-case words;
the filter takes those words as strings, and a value outside their closed sets is refused
with ``BAD_USER_INPUT`` listing the valid ones, as are unknown purposes, clients and
organisations (:mod:`exchange.oversight`).
"""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from audit.campaigns import Campaign
from audit.status import ChainStatus
from exchange import Citizen
from exchange.oversight import AuditQuery, RecordPage
from schema.context import RequestContext
from schema.errors import typed_error
from schema.inputs import PersonRef, PivotIdentityInput

MAX_PAGE = 200


@strawberry.enum(description="What an audit entry records.")
class AuditEntryKind(Enum):
    # Lower case: the words of the log and of the auditLog filter's `kind`.
    person_access = strawberry.enum_value(
        "person_access", description="A read of a person's data (person, eligibility, prefill)."
    )
    audit_query = strawberry.enum_value("audit_query", description="An auditor's query of the log.")
    consent_change = strawberry.enum_value(
        "consent_change", description="A consent given or taken back by the person."
    )
    prefill_submission = strawberry.enum_value(
        "prefill_submission", description="A prefilled form the person checked and submitted."
    )
    automatic_act = strawberry.enum_value(
        "automatic_act",
        description="Something done for the person without a request (an automatic renewal or "
        "grant, or its reversal).",
    )


@strawberry.enum(description="How a recorded access ended.")
class AuditOutcome(Enum):
    # Lower case: the words of the log and of the auditLog filter's `outcome`.
    released = strawberry.enum_value("released", description="Every field asked was released.")
    partial = strawberry.enum_value(
        "partial", description="Some fields were released, others denied or failed."
    )
    refused = strawberry.enum_value("refused", description="The request was refused whole.")
    failed = strawberry.enum_value("failed", description="Nothing could be read.")


@strawberry.enum(description="The documented rule an anomaly comes from.")
class AnomalyRule(Enum):
    many_persons_one_object = strawberry.enum_value(
        "many_persons_one_object",
        description="Many distinct persons read under one case reference.",
    )
    burst = strawberry.enum_value(
        "burst", description="An hour's reads far above the client's usual volume."
    )
    repeated_denials = strawberry.enum_value(
        "repeated_denials", description="Many denied requests from one client in a day."
    )


@strawberry.type(description="A legal text, with a link to it.")
class LegalBasisType:
    title: str = strawberry.field(description="The text, as the policy catalogue names it.")
    href: str = strawberry.field(description="Its URL (Légifrance).")


@strawberry.type(description="A field the access asked for and did not get.")
class DeniedField:
    field: str = strawberry.field(
        description="The person-view field, as the catalogue names it (e.g. `benefits.rsa`)."
    )
    reason: str = strawberry.field(description="Why, as the policy engine or the agency said.")


@strawberry.type(description="A key and value an entry records besides its columns.")
class AuditDetail:
    key: str = strawberry.field(description="The detail's name, e.g. `about`.")
    value: str = strawberry.field(description="Its value.")


@strawberry.type(name="AuditOrganisation", description="The organisation behind a client.")
class OrganisationType:
    client: str = strawberry.field(description="The client id.")
    name: str = strawberry.field(description="The organisation, as the client catalogue names it.")
    listed: bool = strawberry.field(description="false: the client is no longer in the catalogue.")


@strawberry.type(name="AuditEntry", description="One recorded access, as auditors see it.")
class AuditEntryType:
    position: int = strawberry.field(description="Position in the log (1-based).")
    id: str = strawberry.field(
        description="The entry's id. For an access, the accessId the client was given, unless "
        "this entry corrects the one written while the agencies were called: accessId then "
        "gives the client's."
    )
    access_id: str = strawberry.field(
        description="The accessId the client was given for this access: the id of the entry "
        "it corrects (details corrects), or its own."
    )
    time: datetime = strawberry.field(description="When it was recorded (UTC).")
    kind: AuditEntryKind = strawberry.field(description="What it records.")
    client: str = strawberry.field(description="The client id that made the request.")
    purpose: str = strawberry.field(description="The purpose id declared.")
    recipient: str | None = strawberry.field(
        description="SIRET of the public body the data was for."
    )
    object: str | None = strawberry.field(description="The case reference the client gave.")
    legal_basis: LegalBasisType | None = strawberry.field(
        description="The legal basis the release rested on; null when nothing was released."
    )
    person: str | None = strawberry.field(description="The audit pseudonym, never a name.")
    released: list[str] = strawberry.field(description="The person-view fields released.")
    denied: list[DeniedField] = strawberry.field(
        description="The fields asked for and not released, with why."
    )
    agencies: list[str] = strawberry.field(description="The agencies called.")
    outcome: AuditOutcome = strawberry.field(description="How the access ended.")
    policy_revision: str = strawberry.field(
        description="The revision of the policy catalogue that decided (a short sha256)."
    )
    details: list[AuditDetail] = strawberry.field(
        default_factory=list,
        description="What else the entry records: for an access about the partner of a person "
        "whose rights were examined, about=household_member and household_of=the id of that "
        "examination's entry; for an access whose agencies did not all answer, corrects=the "
        "id of the entry written while they were called, which this one replaces in the log's "
        "pages.",
    )
    organisation: OrganisationType | None = strawberry.field(
        default=None, description="Who the client is, in words."
    )
    purpose_label: str | None = strawberry.field(
        default=None,
        description="The purpose's label in the catalogue; null when it is no longer there.",
    )


@strawberry.type(description="A page of the audit log, newest first.")
class AuditLogPage:
    entries: list[AuditEntryType] = strawberry.field(description="The entries of this page.")
    next_cursor: str | None = strawberry.field(
        description="Pass it as `after` for the next page; null on the last one."
    )


@strawberry.input(description="Which entries of the audit log to return; every field narrows.")
class AuditFilterInput:
    client: str | None = strawberry.field(default=None, description="A client id.")
    purpose: str | None = strawberry.field(default=None, description="A purpose id.")
    person_handle: str | None = strawberry.field(
        default=None, description="A handle your sector received for the person."
    )
    person: PivotIdentityInput | None = strawberry.field(
        default=None,
        description="The person's identity, as the person query takes it: searched by its "
        "audit pseudonym, never stored nor recorded. Not with personHandle.",
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="A date-time with offset, or a date (Paris)."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Excluded; a date means the end of that day (Paris)."
    )
    outcome: str | None = strawberry.field(
        default=None, description="released, partial, refused or failed."
    )
    object: str | None = strawberry.field(
        default=None, description="The case reference, exactly as the client gave it."
    )
    kind: str | None = strawberry.field(
        default=None,
        description="person_access, audit_query, consent_change, prefill_submission or "
        "automatic_act.",
    )
    recipient: str | None = strawberry.field(
        default=None, description="The SIRET of the body the data was for."
    )
    organisation: str | None = strawberry.field(
        default=None,
        description="An organisation's name as the client catalogue spells it: all its clients.",
    )


@strawberry.type(description="How many entries one client made under one purpose in one day.")
class AccessCount:
    client: str = strawberry.field(description="The client id.")
    purpose: str = strawberry.field(description="The purpose id.")
    day: date = strawberry.field(description="The day (Europe/Paris).")
    count: int = strawberry.field(description="The number of entries.")


@strawberry.type(description="Accesses and denials per client, purpose and day.")
class AuditStatsType:
    accesses: list[AccessCount] = strawberry.field(
        description="Accesses to persons' data, whatever their outcome."
    )
    denials: list[AccessCount] = strawberry.field(
        description="Of those, the accesses refused or with fields denied."
    )


@strawberry.type(name="AuditAnomaly", description="Reads a documented rule flags.")
class AnomalyType:
    rule: AnomalyRule = strawberry.field(description="The rule that flags them.")
    client: str = strawberry.field(description="The client id.")
    description: str = strawberry.field(description="What was seen, in words.")
    count: int = strawberry.field(description="How many reads or denials.")
    threshold: float = strawberry.field(description="The rule's threshold that was passed.")
    start: datetime = strawberry.field(description="Start of the period flagged.")
    end: datetime = strawberry.field(description="End of the period flagged (excluded).")
    object: str | None = strawberry.field(
        description="The case reference, for a rule about one reference."
    )
    declared_campaign: DeclaredCampaign | None = strawberry.field(
        default=None,
        description="The campaign declaration these reads match: expected, not suspect.",
    )


@strawberry.type(description="A campaign of reads declared in advance (a proactive campaign).")
class DeclaredCampaign:
    object: str = strawberry.field(description="The case reference its reads carry.")
    client: str = strawberry.field(description="The client id that runs it.")
    purpose: str = strawberry.field(description="The purpose id it reads under.")
    start: datetime = strawberry.field(description="When it starts.")
    end: datetime = strawberry.field(description="When it ends.")
    population: int | None = strawberry.field(
        description="How many persons it declared it would read; null when not declared."
    )


@strawberry.type(description="A full verification of the log's hash chain.")
class AuditVerification:
    at: datetime = strawberry.field(description="When it ran.")
    ok: bool = strawberry.field(description="The whole chain verified.")
    size: int = strawberry.field(description="How many entries were found good.")
    position: int | None = strawberry.field(
        description="The first bad entry's position, when one could be named."
    )
    problem: str | None = strawberry.field(description="What was wrong; null when ok.")


@strawberry.type(description="A signed checkpoint of the log (its size and root hash).")
class AuditCheckpoint:
    size: int = strawberry.field(description="How many entries it covers.")
    signed_at: datetime = strawberry.field(description="When it was signed.")
    key_id: str = strawberry.field(description="The id of the key that signed it.")
    cosigned_by: list[str] = strawberry.field(
        description="Witnesses whose cosignature of this checkpoint the witness file holds."
    )


@strawberry.type(description="A check, made now, of the entries after the last checkpoint.")
class AuditTailCheck:
    ok: bool = strawberry.field(description="The entries checked are sound.")
    start: int = strawberry.field(description="The entries after this position were checked…")
    end: int = strawberry.field(description="…up to this one.")
    problem: str | None = strawberry.field(
        description="What was wrong, naming a position; null when ok."
    )


@strawberry.type(description="The integrity of the audit log.")
class AuditChainStatus:
    size: int = strawberry.field(description="Entries in the log.")
    last_verification: AuditVerification | None = strawberry.field(
        description="The last full verification (unefois audit verify); null if none ran."
    )
    last_checkpoint: AuditCheckpoint | None = strawberry.field(
        description="The last signed checkpoint; null if none."
    )
    tail: AuditTailCheck = strawberry.field(description="The check of the entries since.")


@strawberry.type(description="Who read your data, when, and why.")
class AccessJournalItem:
    organisation: str = strawberry.field(description="Who read it, in words.")
    time: datetime = strawberry.field(description="When.")
    purpose: str = strawberry.field(description="Why, in plain French.")
    legal_basis: LegalBasisType | None = strawberry.field(
        description="The law that allowed it; null when it rested on your consent alone."
    )
    categories: list[str] = strawberry.field(description="The kinds of data released.")
    action: str | None = strawberry.field(
        default=None,
        description="An act done for you without a request (an automatic renewal), in plain "
        "French; null for a read of your data.",
    )
    note: str | None = strawberry.field(
        default=None,
        description="Why your data was read when it was not about you, in plain French (as "
        "a member of the household of a person whose rights were examined); null otherwise.",
    )


@strawberry.type(description="A page of the citizen's access journal, newest first.")
class AccessJournal:
    items: list[AccessJournalItem] = strawberry.field(description="The accesses of this page.")
    next_cursor: str | None = strawberry.field(
        description="Pass it as `after` for the next page; null on the last one."
    )


def _cursor(after: int | None) -> str | None:
    return base64.urlsafe_b64encode(f"seq:{after}".encode()).decode() if after else None


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith("seq:"):
            raise ValueError(text)
        return int(text[4:])
    except ValueError:
        raise typed_error("invalid cursor", "BAD_USER_INPUT") from None


def _first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise typed_error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT")
    return first


def _page(page: RecordPage) -> AuditLogPage:
    entries = []
    for record in page.items:
        e = record.entry
        entries.append(
            AuditEntryType(
                position=record.seq,
                id=e.id,
                access_id=e.corrects or e.id,
                time=e.time,
                kind=AuditEntryKind(e.kind),
                client=e.client,
                purpose=e.purpose,
                recipient=e.recipient,
                object=e.object,
                legal_basis=LegalBasisType(title=e.legal_basis[0], href=e.legal_basis[1])
                if e.legal_basis
                else None,
                person=e.person,
                released=list(e.released),
                denied=[DeniedField(field=f, reason=r) for f, r in e.denied],
                agencies=list(e.agencies),
                outcome=AuditOutcome(e.outcome),
                policy_revision=e.policy_revision,
                details=[AuditDetail(key=k, value=v) for k, v in e.details],
                organisation=OrganisationType(
                    client=record.organisation.client,
                    name=record.organisation.name,
                    listed=record.organisation.listed,
                ),
                purpose_label=record.purpose_label,
            )
        )
    return AuditLogPage(entries=entries, next_cursor=_cursor(page.next_after))


PARIS = ZoneInfo("Europe/Paris")


def instant(field: str, value: datetime, *, end: bool) -> datetime:
    """A ``from``/``to`` argument as an aware time (the module docstring says how)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    if value.time() != time(0):
        raise typed_error(
            f"'{field}' needs a date-time with its offset (2025-06-01T08:00:00+02:00) or a "
            "date (2025-06-01)",
            "BAD_USER_INPUT",
        )
    day = value.date() + timedelta(days=1) if end else value.date()
    return datetime.combine(day, time(0), tzinfo=PARIS)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = instant("from", start, end=False), instant("to", end, end=True)
    if end <= start:
        raise typed_error("'to' must be after 'from'", "BAD_USER_INPUT")
    return start, end


def _query(f: AuditFilterInput) -> AuditQuery:
    identity = None
    if f.person is not None:
        reference = PersonRef(identity=f.person).to_reference()
        identity = reference.identity
    return AuditQuery(
        client=f.client,
        purpose=f.purpose,
        person_handle=f.person_handle,
        start=instant("from", f.from_, end=False) if f.from_ is not None else None,
        end=instant("to", f.to, end=True) if f.to is not None else None,
        outcome=f.outcome,
        object=f.object,
        kind=f.kind,
        recipient=f.recipient,
        organisation=f.organisation,
        person_identity=identity,
    )


def _campaign(c: Campaign | None) -> DeclaredCampaign | None:
    if c is None:
        return None
    return DeclaredCampaign(
        object=c.object,
        client=c.client,
        purpose=c.purpose,
        start=c.start,
        end=c.end,
        population=c.population,
    )


def _status(s: ChainStatus) -> AuditChainStatus:
    v, cp = s.last_verification, s.last_checkpoint
    return AuditChainStatus(
        size=s.size,
        last_verification=AuditVerification(
            at=v.at, ok=v.ok, size=v.size, position=v.position, problem=v.problem
        )
        if v
        else None,
        last_checkpoint=AuditCheckpoint(
            size=cp.size, signed_at=cp.signed_at, key_id=cp.key_id, cosigned_by=list(cp.cosigned_by)
        )
        if cp
        else None,
        tail=AuditTailCheck(
            ok=s.tail.ok, start=s.tail.start, end=s.tail.end, problem=s.tail.problem
        ),
    )


_FIRST = "How many items, 1 to 200."
_AFTER = "The nextCursor of the previous page; none for the first."
_FROM = "Start, included: a date-time with offset, or a date (00:00 in Europe/Paris)."
_TO = "End, excluded: a date-time with offset, or a date (the end of that day in Paris)."


@strawberry.type(description="Queries of the audit log.")
class AuditQueries:
    @strawberry.field(description="Recorded accesses, newest first (auditors).")
    async def audit_log(
        self,
        info: strawberry.Info[RequestContext, None],
        filter: Annotated[
            AuditFilterInput | None, strawberry.argument(description="Which entries.")
        ] = None,
        first: Annotated[int, strawberry.argument(description=_FIRST)] = 50,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> AuditLogPage:
        rc = info.context
        query = _query(filter or AuditFilterInput())
        page = await rc.oversight.log(
            rc.caller, query, first=_first(first), after=_after(after), on=rc.on
        )
        return _page(page)

    @strawberry.field(description="Accesses and denials per client, purpose and day.")
    async def audit_stats(
        self,
        info: strawberry.Info[RequestContext, None],
        from_: Annotated[datetime, strawberry.argument(name="from", description=_FROM)],
        to: Annotated[datetime, strawberry.argument(description=_TO)],
    ) -> AuditStatsType:
        rc = info.context
        stats = await rc.oversight.stats(rc.caller, *_window(from_, to), rc.on)
        return AuditStatsType(
            accesses=[
                AccessCount(client=r.client, purpose=r.purpose, day=r.day, count=r.count)
                for r in stats.accesses
            ],
            denials=[
                AccessCount(client=r.client, purpose=r.purpose, day=r.day, count=r.count)
                for r in stats.denials
            ],
        )

    @strawberry.field(description="Accesses that documented rules flag for a closer look.")
    async def audit_anomalies(
        self,
        info: strawberry.Info[RequestContext, None],
        from_: Annotated[datetime, strawberry.argument(name="from", description=_FROM)],
        to: Annotated[datetime, strawberry.argument(description=_TO)],
    ) -> list[AnomalyType]:
        rc = info.context
        found = await rc.oversight.anomalies(rc.caller, *_window(from_, to), rc.on)
        return [
            AnomalyType(
                rule=AnomalyRule(a.rule),
                client=a.client,
                description=a.description,
                count=a.count,
                threshold=a.threshold,
                start=a.start,
                end=a.end,
                object=a.object,
                declared_campaign=_campaign(a.declared_campaign),
            )
            for a in found
        ]

    @strawberry.field(
        description="The log's integrity: the last full verification, the last signed "
        "checkpoint and its cosignatures, and a check of the entries since, made now (auditors)."
    )
    async def audit_chain_status(
        self, info: strawberry.Info[RequestContext, None]
    ) -> AuditChainStatus:
        rc = info.context
        return _status(await rc.oversight.chain_status(rc.caller, on=rc.on))

    @strawberry.field(description="Who read your data, when and why (citizens).")
    async def my_access_log(
        self,
        info: strawberry.Info[RequestContext, None],
        first: Annotated[int, strawberry.argument(description=_FIRST)] = 50,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> AccessJournal:
        rc = info.context
        if not isinstance(rc.caller, Citizen):
            raise typed_error("the access journal is the citizen's, with their token", "FORBIDDEN")
        journal = await rc.oversight.journal(rc.caller, first=_first(first), after=_after(after))
        return AccessJournal(
            items=[
                AccessJournalItem(
                    organisation=i.organisation,
                    time=i.time,
                    purpose=i.purpose,
                    legal_basis=LegalBasisType(title=i.legal_basis[0], href=i.legal_basis[1])
                    if i.legal_basis
                    else None,
                    categories=list(i.categories),
                    action=i.action,
                    note=i.note,
                )
                for i in journal.items
            ],
            next_cursor=_cursor(journal.next_after),
        )
