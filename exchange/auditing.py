"""The "audit" step: one entry per access, appended before the answer leaves.

The entry says who asked, for what, under which legal basis, about whom (the audit-sector
pseudonym, never a name), what was released and denied and why, which agencies were
contacted, and how it ended. If it cannot be made durable, nothing is released.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from audit import AuditEntry, AuditUnavailable, Outcome, Receipt
from connectors import PivotIdentity
from exchange.caller import Caller
from exchange.context import AccessContext
from exchange.errors import NotRecorded
from exchange.pseudonyms import AUDIT_SECTOR, Pseudonyms
from policies import Decision, Verdict


class AuditSink(Protocol):
    async def append(self, entry: AuditEntry) -> Receipt: ...


@runtime_checkable
class BulkAuditSink(Protocol):
    """A sink that commits several entries in one transaction (``audit.AuditLog``)."""

    async def append_many(self, entries: Sequence[AuditEntry]) -> list[Receipt]: ...


# The details of an entry about a member of the examined person's household (their partner):
# the access is about them, but made because someone else's rights were examined, whose own
# access entry is named (its id, never their pseudonym).
ABOUT = "about"
HOUSEHOLD_MEMBER = "household_member"
HOUSEHOLD_OF = "household_of"


def member_details(household_of: str | None) -> tuple[tuple[str, str], ...]:
    if household_of is None:
        return ()
    return ((ABOUT, HOUSEHOLD_MEMBER), (HOUSEHOLD_OF, household_of))


def new_decision_id() -> str:
    return uuid.uuid4().hex


def _legal_basis(decision: Decision) -> tuple[str, str] | None:
    basis = decision.legal_basis
    return (basis.title, basis.href) if basis is not None else None


class Auditor:
    """Builds and appends the entries of the exchange's accesses."""

    def __init__(
        self, sink: AuditSink, pseudonyms: Pseudonyms, clock: Callable[[], datetime]
    ) -> None:
        self._sink = sink
        self._pseudonyms = pseudonyms
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def person_of(self, identity: PivotIdentity | None) -> str | None:
        return self._pseudonyms.pseudonym(identity, AUDIT_SECTOR) if identity else None

    async def access(
        self,
        decision_id: str,
        caller: Caller,
        context: AccessContext,
        verdict: Verdict,
        identity: PivotIdentity | None,
        *,
        released: frozenset[str],
        failed: Mapping[str, str],
        agencies: frozenset[str],
        outcome: Outcome,
        details: tuple[tuple[str, str], ...] = (),
    ) -> Receipt:
        """Record one access to a person's data; ``failed`` maps fields to why they are null."""
        return await self.append(
            self.entry(
                decision_id,
                caller,
                context,
                verdict,
                identity,
                released=released,
                failed=failed,
                agencies=agencies,
                outcome=outcome,
                details=details,
            )
        )

    def entry(
        self,
        decision_id: str,
        caller: Caller,
        context: AccessContext,
        verdict: Verdict,
        identity: PivotIdentity | None,
        *,
        released: frozenset[str],
        failed: Mapping[str, str],
        agencies: frozenset[str],
        outcome: Outcome,
        details: tuple[tuple[str, str], ...] = (),
    ) -> AuditEntry:
        """The entry of one access to a person's data, not yet appended."""
        denied = {
            field: "; ".join(d.reasons) or d.rule_id
            for field, d in verdict.fields.items()
            if d.effect != "allow"
        }
        denied.update(failed)
        entry = AuditEntry(
            id=decision_id,
            time=self._clock(),
            kind="person_access",
            client=caller.id if caller.kind == "client" else "citizen",
            caller=caller.kind,
            purpose=context.purpose,
            recipient=context.recipient,
            object=context.object,
            legal_basis=_legal_basis(verdict.request),
            person=self.person_of(identity),
            released=tuple(sorted(released)),
            denied=tuple(sorted(denied.items())),
            agencies=tuple(sorted(agencies)),
            outcome=outcome,
            policy_revision=verdict.request.policy_revision,
            details=details,
        )
        return entry

    async def append_many(self, entries: Sequence[AuditEntry]) -> list[Receipt]:
        """Record several accesses at once: in one transaction when the sink can (all or
        none), else one append each. ``NotRecorded`` if any is not durable."""
        if not entries:
            return []
        try:
            if isinstance(self._sink, BulkAuditSink):
                return await self._sink.append_many(entries)
        except AuditUnavailable:
            raise NotRecorded(
                "the accesses could not be recorded in the audit log; nothing was released"
            ) from None
        return list(await asyncio.gather(*(self.append(e) for e in entries)))

    async def append(self, entry: AuditEntry) -> Receipt:
        try:
            return await self._sink.append(entry)
        except AuditUnavailable:
            raise NotRecorded(
                "the access could not be recorded in the audit log; nothing was released"
            ) from None
