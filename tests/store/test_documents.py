"""The trusted documents' store, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from store import (
    Database,
    DocumentNotFound,
    DocumentStore,
    InvalidRecord,
    TrustedDocument,
    connect,
    document_hash,
)
from tests.store.conftest import Target

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TEXT = "query Who { __typename }"


def _document(client: str, text: str = TEXT, name: str | None = "Who") -> TrustedDocument:
    return TrustedDocument(client, text, document_hash(text), AT, name=name)


def _client() -> str:
    # Tests share the session's PostgreSQL schema: a client id of their own keeps them apart.
    return f"app-{uuid.uuid4().hex[:12]}"


def test_the_hash_is_the_specification_s() -> None:
    # GraphQL over HTTP, Appendix A: the example document and its identifier.
    example = "query ($id: ID!) {\n  user(id: $id) {\n    name\n  }\n}"
    assert document_hash(example) == (
        "sha256:7dba4bd717b41f10434822356a93c32b1fb4907b983e854300ad839f84cdcd6e"
    )
    assert document_hash("é") == "sha256:" + hashlib.sha256("é".encode()).hexdigest()


async def test_register_list_revoke_and_register_again(database: Database) -> None:
    store = DocumentStore(database)
    client = _client()
    before = await store.version()
    added, kept = await store.register([_document(client)])
    assert added == [document_hash(TEXT)] and kept == []
    assert await store.version() == before + 1
    # The same again: nothing changes, the version stays.
    assert await store.register([_document(client)]) == ([], [document_hash(TEXT)])
    assert await store.version() == before + 1

    [listed] = await store.of_client(client)
    assert (listed.text, listed.name, listed.registered_at, listed.active) == (
        TEXT,
        "Who",
        AT,
        True,
    )
    version, active = await store.snapshot()
    assert version == before + 1
    assert [d.hash for d in active if d.client_id == client] == [document_hash(TEXT)]

    revoked = await store.revoke(client, document_hash(TEXT), AT + timedelta(days=1))
    assert revoked.revoked_at == AT + timedelta(days=1)
    assert not revoked.active
    assert [d for d in (await store.snapshot())[1] if d.client_id == client] == []
    assert [d.revoked_at for d in await store.of_client(client)] == [AT + timedelta(days=1)]
    with pytest.raises(DocumentNotFound):
        await store.revoke(client, document_hash(TEXT), AT)

    again = TrustedDocument(client, TEXT, document_hash(TEXT), AT + timedelta(days=2))
    assert (await store.register([again]))[0] == [document_hash(TEXT)]
    [listed] = await store.of_client(client)
    assert listed.active and listed.registered_at == AT + timedelta(days=2)


async def test_documents_are_per_client(database: Database) -> None:
    store = DocumentStore(database)
    first, second = _client(), _client()
    await store.register([_document(first)])
    assert await store.of_client(second) == []
    with pytest.raises(DocumentNotFound):
        await store.revoke(second, document_hash(TEXT), AT)
    # The other client may register the same text: a row of its own.
    assert (await store.register([_document(second)]))[0] == [document_hash(TEXT)]
    await store.revoke(first, document_hash(TEXT), AT)
    assert [d.active for d in await store.of_client(second)] == [True]


async def test_a_wrong_hash_or_a_naive_time_is_refused(database: Database) -> None:
    store = DocumentStore(database)
    client = _client()
    wrong = TrustedDocument(client, TEXT, document_hash(TEXT + " "), AT)
    with pytest.raises(InvalidRecord):
        await store.register([wrong])
    naive = TrustedDocument(client, TEXT, document_hash(TEXT), AT.replace(tzinfo=None))
    with pytest.raises(InvalidRecord):
        await store.register([naive])
    with pytest.raises(InvalidRecord):
        await store.revoke(client, document_hash(TEXT), AT.replace(tzinfo=None))
    assert await store.of_client(client) == []


async def test_another_connection_sees_the_version_move(database: Database, target: Target) -> None:
    # A second replica: its own engine on the same database.
    other = await connect(target.url, schema=target.schema)
    try:
        replica = DocumentStore(other)
        seen = await replica.version()
        await DocumentStore(database).register([_document(_client())])
        assert await replica.version() == seen + 1
    finally:
        await other.aclose()
