"""The audit log over GraphQL: auditors' queries and the citizen's access journal."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Annotated

import strawberry

from audit import Page
from exchange import Citizen
from exchange.oversight import AuditQuery
from schema.context import RequestContext
from schema.errors import typed_error

MAX_PAGE = 200


@strawberry.type
class LegalBasisType:
    title: str
    href: str


@strawberry.type
class DeniedField:
    field: str
    reason: str


@strawberry.type
class AuditDetail:
    key: str
    value: str


@strawberry.type(name="AuditEntry", description="One recorded access, as auditors see it.")
class AuditEntryType:
    position: int = strawberry.field(description="Position in the log (1-based).")
    id: str
    time: datetime
    kind: str
    client: str
    purpose: str
    recipient: str | None
    object: str | None
    legal_basis: LegalBasisType | None
    person: str | None = strawberry.field(description="The audit pseudonym, never a name.")
    released: list[str]
    denied: list[DeniedField]
    agencies: list[str]
    outcome: str
    policy_revision: str
    details: list[AuditDetail] = strawberry.field(
        default_factory=list,
        description="What else the entry records: for an access about the partner of a person "
        "whose rights were examined, about=household_member and household_of=the id of that "
        "examination's entry.",
    )


@strawberry.type
class AuditLogPage:
    entries: list[AuditEntryType]
    next_cursor: str | None


@strawberry.input
class AuditFilterInput:
    client: str | None = None
    purpose: str | None = None
    person_handle: str | None = strawberry.field(
        default=None, description="A handle your sector received for the person."
    )
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None
    outcome: str | None = None


@strawberry.type
class AccessCount:
    client: str
    purpose: str
    day: date
    count: int


@strawberry.type
class AuditStatsType:
    accesses: list[AccessCount]
    denials: list[AccessCount]


@strawberry.type(name="AuditAnomaly")
class AnomalyType:
    rule: str
    client: str
    description: str
    count: int
    threshold: float
    start: datetime
    end: datetime
    object: str | None


@strawberry.type(description="Who read your data, when, and why.")
class AccessJournalItem:
    organisation: str
    time: datetime
    purpose: str = strawberry.field(description="Why, in plain French.")
    legal_basis: LegalBasisType | None
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


@strawberry.type
class AccessJournal:
    items: list[AccessJournalItem]
    next_cursor: str | None


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


def _page(page: Page) -> AuditLogPage:
    entries = []
    for stored in page.items:
        e = stored.entry
        entries.append(
            AuditEntryType(
                position=stored.seq,
                id=e.id,
                time=e.time,
                kind=e.kind,
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
                outcome=e.outcome,
                policy_revision=e.policy_revision,
                details=[AuditDetail(key=k, value=v) for k, v in e.details],
            )
        )
    return AuditLogPage(entries=entries, next_cursor=_cursor(page.next_after))


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end <= start:
        raise typed_error("'to' must be after 'from'", "BAD_USER_INPUT")
    return start, end


@strawberry.type
class AuditQueries:
    @strawberry.field(description="Recorded accesses, newest first (auditors).")
    async def audit_log(
        self,
        info: strawberry.Info[RequestContext, None],
        filter: AuditFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditLogPage:
        rc = info.context
        f = filter or AuditFilterInput()
        query = AuditQuery(f.client, f.purpose, f.person_handle, f.from_, f.to, f.outcome)
        page = await rc.oversight.log(
            rc.caller, query, first=_first(first), after=_after(after), on=rc.on
        )
        return _page(page)

    @strawberry.field(description="Accesses and denials per client, purpose and day.")
    async def audit_stats(
        self,
        info: strawberry.Info[RequestContext, None],
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
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
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[AnomalyType]:
        rc = info.context
        found = await rc.oversight.anomalies(rc.caller, *_window(from_, to), rc.on)
        return [
            AnomalyType(
                rule=a.rule,
                client=a.client,
                description=a.description,
                count=a.count,
                threshold=a.threshold,
                start=a.start,
                end=a.end,
                object=a.object,
            )
            for a in found
        ]

    @strawberry.field(description="Who read your data, when and why (citizens).")
    async def my_access_log(
        self,
        info: strawberry.Info[RequestContext, None],
        first: int = 50,
        after: str | None = None,
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
