"""The person's answers to prefilled forms: confirmations, corrections, values provided.

Filed under the person's pseudonym. They are the person's own declarations, kept as given so
that the instructing agency and the person can see what was changed from the agencies' data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from store.database import Database
from store.tables import prefill_submissions


@dataclass(frozen=True)
class StoredSubmission:
    id: str
    person: str
    client_id: str
    form: str
    access_id: str
    submitted_at: datetime
    confirmed: tuple[str, ...]
    corrections: Mapping[str, Any]
    provided: Mapping[str, Any]


class SubmissionStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, submission: StoredSubmission) -> StoredSubmission:
        if submission.submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware")
        async with self._database.transaction() as conn:
            await conn.execute(
                insert(prefill_submissions).values(
                    id=submission.id,
                    person=submission.person,
                    client_id=submission.client_id,
                    form=submission.form,
                    access_id=submission.access_id,
                    submitted_at=submission.submitted_at,
                    confirmed=list(submission.confirmed),
                    corrections=dict(submission.corrections),
                    provided=dict(submission.provided),
                )
            )
        return submission

    async def for_person(self, person: str) -> Sequence[StoredSubmission]:
        query = (
            select(prefill_submissions)
            .where(prefill_submissions.c.person == person)
            .order_by(prefill_submissions.c.submitted_at.desc())
        )
        async with self._database.connection() as conn:
            rows = (await conn.execute(query)).all()
        return [
            StoredSubmission(
                id=row.id,
                person=row.person,
                client_id=row.client_id,
                form=row.form,
                access_id=row.access_id,
                submitted_at=row.submitted_at,
                confirmed=tuple(row.confirmed),
                corrections=row.corrections,
                provided=row.provided,
            )
            for row in rows
        ]
