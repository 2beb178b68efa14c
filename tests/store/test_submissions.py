from __future__ import annotations

from datetime import UTC, datetime

from store import Database, StoredSubmission, SubmissionStore


async def test_submissions_round_trip_per_person(database: Database) -> None:
    store = SubmissionStore(database)
    first = StoredSubmission(
        id="s1",
        person="pseudo-a",
        client_id="demo-form-builder",
        form="rsa",
        access_id="a" * 32,
        submitted_at=datetime(2025, 7, 10, 12, tzinfo=UTC),
        confirmed=("adresse", "loyer"),
        corrections={"loyer": 520.0, "enfants": [{"prenom": "Léa"}]},
        provided={"nationalite": "française"},
    )
    await store.record(first)
    await store.record(
        StoredSubmission(
            id="s2",
            person="pseudo-b",
            client_id="demo-form-builder",
            form="css",
            access_id="b" * 32,
            submitted_at=datetime(2025, 7, 11, 12, tzinfo=UTC),
            confirmed=(),
            corrections={},
            provided={},
        )
    )
    (got,) = await store.for_person("pseudo-a")
    assert got == first
    assert [s.id for s in await store.for_person("pseudo-b")] == ["s2"]
    assert await store.for_person("nobody") == []
