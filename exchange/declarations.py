"""What a person declares on a prefilled form: recorded and audited before it counts.

The gateway files the person's confirmations, corrections and provided values under a
pseudonym (they are the person's own statements, to be seen beside the agencies' data), and
the audit log records that a submission was made, by which client, for which form, and which
fields the person changed — not the values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from audit import AuditEntry
from exchange.auditing import Auditor, new_decision_id
from exchange.caller import Caller
from exchange.context import AccessContext
from exchange.pseudonyms import PROACTIVE_SECTOR, Pseudonyms
from exchange.reference import Subjects
from store import StoredSubmission

PREFILL_SECTOR = "prefill"


class SubmissionSink(Protocol):
    async def record(self, submission: StoredSubmission) -> StoredSubmission: ...


class OfferOutcomes(Protocol):
    """Where a proactive offer learns that its person applied (the offer store)."""

    async def applied(self, person: str, benefit: str, at: datetime) -> int: ...


class Declarations:
    def __init__(
        self,
        store: SubmissionSink,
        auditor: Auditor,
        pseudonyms: Pseudonyms,
        *,
        offers: OfferOutcomes | None = None,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._store = store
        self._offers = offers
        self._auditor = auditor
        self._pseudonyms = pseudonyms
        self._new_id = new_id

    async def record(
        self,
        caller: Caller,
        context: AccessContext,
        subjects: Subjects,
        *,
        form: str,
        benefit: str | None = None,
        access_id: str,
        confirmed: Sequence[str],
        corrections: Mapping[str, Any],
        provided: Mapping[str, Any],
        changed: Sequence[str],
        policy_revision: str,
        now: datetime,
    ) -> StoredSubmission:
        submission = StoredSubmission(
            id=self._new_id(),
            person=self._pseudonyms.pseudonym(subjects.identity, PREFILL_SECTOR),
            client_id=caller.id if caller.kind == "client" else "citizen",
            form=form,
            access_id=access_id,
            submitted_at=now,
            confirmed=tuple(confirmed),
            corrections=dict(corrections),
            provided=dict(provided),
        )
        # Fail closed: recorded in the audit log first, then stored.
        await self._auditor.append(
            AuditEntry(
                id=new_decision_id(),
                time=now,
                kind="prefill_submission",
                client=submission.client_id,
                caller=caller.kind,
                purpose=context.purpose,
                recipient=context.recipient,
                object=context.object,
                legal_basis=None,
                person=self._auditor.person_of(subjects.identity),
                released=(),
                denied=(),
                agencies=(),
                outcome="released",
                policy_revision=policy_revision,
                details=(
                    ("changed", ",".join(sorted(changed))),
                    ("form", form),
                    ("prefill_access", access_id),
                    ("submission", submission.id),
                ),
            )
        )
        stored = await self._store.record(submission)
        if self._offers is not None and benefit is not None:
            # The form is the application an offer invited: the offer's journey ends here.
            person = self._pseudonyms.pseudonym(subjects.identity, PROACTIVE_SECTOR)
            await self._offers.applied(person, benefit, now)
        return stored
