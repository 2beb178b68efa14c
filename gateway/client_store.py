"""The client registry of the database, as the token endpoint and each request see it.

:class:`LiveClients` answers with the registry current at this request: it reads the
registry's version (one indexed single-row read) and reloads the clients only when that
version moved, so a client added, disabled or given a new secret by ``unefois clients`` on
any machine holds at the next request of every replica sharing the database.

The operations behind ``unefois clients`` and the demo clients of ``unefois run`` are here
too: secrets are generated here, shown once by the caller, and only their hashes are stored.

The clients file (``UNEFOIS_CLIENTS_FILE``) is an import format: while the registry has never
been written, its first reader (a replica's first token or request, or any ``unefois
clients`` command) imports the file; ``unefois clients import`` adds a file's new clients later.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from starlette.requests import HTTPConnection

from exchange import PERSON_READ_SCOPE
from gateway.clients import DEMO_CLIENT_ID, Client, ClientRegistry, hash_secret, load_clients
from gateway.state import services_of
from runtime.errors import ConfigurationError
from runtime.settings import Settings
from schema.scopes import ELIGIBILITY_READ, PREFILL_READ, PREFILL_WRITE
from store import ClientRecord, ClientStore, StoreError, connect, database_url_for, migrate

Clock = Callable[[], datetime]

# The scopes this gateway's operations ask for (schema/scopes.py): what a client may be given.
SCOPES = (PERSON_READ_SCOPE, ELIGIBILITY_READ, PREFILL_READ, PREFILL_WRITE)
SECRET_BYTES = 32
# The scope key holding the registry version a request was authenticated against.
REGISTRY_VERSION = "unefois.registry_version"


@dataclass(frozen=True)
class DemoClient:
    id: str
    name: str
    scopes: tuple[str, ...]
    sector: str


# The sandbox's three kinds of users (policies/catalogue/clients.yaml names and groups them).
DEMO_CLIENTS = (
    DemoClient(
        DEMO_CLIENT_ID,
        "Demo agency application",
        (PERSON_READ_SCOPE, ELIGIBILITY_READ, PREFILL_READ, PREFILL_WRITE),
        "social",
    ),
    DemoClient("demo-auditor", "Demo auditor", (PERSON_READ_SCOPE,), "oversight"),
    DemoClient(
        "demo-form-builder",
        "Demo form builder",
        (PERSON_READ_SCOPE, PREFILL_READ, PREFILL_WRITE),
        "forms",
    ),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def to_client(record: ClientRecord) -> Client:
    return Client(
        id=record.id,
        name=record.name,
        secret_hash=record.secret_hash,
        scopes=record.scopes,
        sector=record.sector,
        audience=record.audience,
        active=record.status == "active",
        secret_rotated_at=record.secret_rotated_at,
    )


def to_record(client: Client, at: datetime) -> ClientRecord:
    return ClientRecord(
        id=client.id,
        name=client.name,
        scopes=client.scopes,
        sector=client.sector,
        secret_hash=client.secret_hash,
        created_at=at,
        updated_at=at,
        secret_rotated_at=client.secret_rotated_at,
        audience=client.audience,
        status="active" if client.active else "disabled",
    )


class ClientSource(Protocol):
    async def current(self, connection: HTTPConnection) -> ClientRegistry:
        """The registry to authenticate this request's client with."""
        ...


class StaticClients:
    """A fixed registry (tests, and tools that hold their clients in memory)."""

    def __init__(self, registry: ClientRegistry) -> None:
        self.registry = registry

    async def current(self, connection: HTTPConnection) -> ClientRegistry:
        return self.registry


class LiveClients:
    """The database's registry, checked at every request, reloaded when it changed.

    ``clients_file``, when it exists (it must when ``required``: named by the operator), is
    read and validated now, so a broken file stops the start; it is imported at the first read
    if the registry was never written.
    """

    def __init__(
        self, clients_file: Path | None = None, *, required: bool = False, clock: Clock = utc_now
    ) -> None:
        self._import = file_clients(clients_file, required=required) if clients_file else []
        self._clock = clock
        self._store: ClientStore | None = None
        self._version = -1
        self._registry: ClientRegistry | None = None
        self._lock = asyncio.Lock()

    async def current(self, connection: HTTPConnection) -> ClientRegistry:
        registry = await self.registry(services_of(connection).clients)
        # The version this request saw: the trusted documents (gateway.documents) move it
        # too, and need no read of their own.
        connection.scope[REGISTRY_VERSION] = self._version
        return registry

    async def registry(self, store: ClientStore) -> ClientRegistry:
        version = await store.version()
        if self._registry is not None and store is self._store and version == self._version:
            return self._registry
        async with self._lock:
            if self._registry is None or store is not self._store or version != self._version:
                await self._reload(store, version)
            assert self._registry is not None
            return self._registry

    async def _reload(self, store: ClientStore, version: int) -> None:
        if version == 0:
            await import_once(store, self._import, self._clock())
        version, records = await store.snapshot()
        previous = self._registry if store is self._store else None
        clients = [to_client(r) for r in records]
        # A new decoy hash, when one is needed, is a scrypt: not on the event loop.
        self._registry = await asyncio.to_thread(ClientRegistry, clients, previous)
        self._store, self._version = store, version


def file_clients(clients_file: Path, *, required: bool = False) -> list[Client]:
    """The clients of the file to import: none if it does not exist and is not required."""
    if not required and not clients_file.exists():
        return []
    return load_clients(clients_file).clients()


async def import_once(store: ClientStore, clients: Sequence[Client], at: datetime) -> bool:
    """Import ``clients`` if the registry was never written (a file's first import)."""
    if not clients or await store.version() != 0:
        return False
    return await store.import_once(to_record(c, at) for c in clients)


async def import_file(
    store: ClientStore, clients: Iterable[Client], at: datetime
) -> tuple[list[str], list[str]]:
    """Add the clients whose ids are not registered; (added ids, ids already registered)."""
    return await store.add_missing([to_record(c, at) for c in clients])


async def add_client(
    store: ClientStore,
    client_id: str,
    name: str,
    scopes: Sequence[str],
    sector: str,
    at: datetime,
    audience: str | None = None,
) -> str:
    """Register a client with a new secret; returns the secret (shown once, kept nowhere)."""
    secret = new_secret()
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    client = Client(client_id, name, secret_hash, frozenset(scopes), sector, audience)
    await store.add(to_record(client, at))
    return secret


async def rotate_secret(store: ClientStore, client_id: str, at: datetime) -> str:
    """Give the client a new secret and return it; its previous secret and the tokens issued
    before now stop working."""
    await store.get(client_id)  # an unknown id fails before a hash is spent
    secret = new_secret()
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    await store.set_secret(client_id, secret_hash, at)
    return secret


async def ensure_demo_clients(store: ClientStore, at: datetime) -> dict[str, str]:
    """The three demo clients, active, with new secrets (id → secret); other clients are
    kept as they are."""
    issued: dict[str, str] = {}
    records = []
    for demo in DEMO_CLIENTS:
        issued[demo.id] = new_secret()
        secret_hash = await asyncio.to_thread(hash_secret, issued[demo.id])
        client = Client(
            demo.id,
            demo.name,
            secret_hash,
            frozenset(demo.scopes),
            demo.sector,
            secret_rotated_at=at,  # the previous run's tokens stop here
        )
        records.append(to_record(client, at))
    await store.put(records)
    return issued


async def demo_credentials(settings: Settings, at: datetime) -> dict[str, str]:
    """The embedded setup's clients: the clients file imported if the registry is new, then
    the demo clients given new secrets (id → secret, to show once)."""
    imported = file_clients(settings.clients_path, required=settings.clients_file is not None)
    try:
        database = await connect(
            database_url_for(settings.data_dir, settings.database_url),
            schema=settings.database_schema,
        )
    except (StoreError, ValueError) as exc:
        raise ConfigurationError(
            f"UNEFOIS_DATABASE_URL: the database cannot be opened ({exc})"
        ) from None
    try:
        await migrate(database)
        store = ClientStore(database)
        await import_once(store, imported, at)
        return await ensure_demo_clients(store, at)
    except StoreError as exc:
        raise ConfigurationError(f"the client registry cannot be written ({exc})") from None
    finally:
        await database.aclose()
