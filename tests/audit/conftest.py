"""Audit tests run on both backends: SQLite in a temporary directory, and the real PostgreSQL
server in a schema of their own, dropped at the end of the session.

PostgreSQL unreachable: its cases are skipped, except under ``CI=true`` where they fail, so
that CI cannot go green without having tested the production backend.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.schema import DropSchema

from audit import (
    AuditDatabase,
    AuditEntry,
    AuditLog,
    AuditUnavailable,
    CheckpointSigner,
    migrate,
    open_database,
)
from tests.services import unavailable

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ORIGIN = "unefois.test/audit"
T0 = datetime(2025, 7, 10, 8, 0, tzinfo=UTC)


@dataclass
class Postgres:
    """The session's schemas, all dropped at the end."""

    prefix: str
    created: list[str] = field(default_factory=list)

    def fresh_schema(self) -> str:
        name = f"{self.prefix}_{secrets.token_hex(3)}"
        self.created.append(name)
        return name


@dataclass(frozen=True)
class Target:
    """Where a test's database lives: enough to open a second connection to it."""

    url: str
    schema: str | None

    @property
    def backend(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"


async def _drop(schemas: list[str]) -> None:
    database = await open_database(POSTGRES_URL)
    try:
        async with database.transaction() as conn:
            for name in schemas:
                await conn.execute(DropSchema(name, cascade=True, if_exists=True))
    finally:
        await database.aclose()


async def _reachable() -> bool:
    try:
        database = await open_database(POSTGRES_URL)
    except AuditUnavailable:
        return False
    await database.aclose()
    return True


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not asyncio.run(_reachable()):
        message = "PostgreSQL is not reachable on 127.0.0.1:5432"
        unavailable(message)
    session = Postgres(prefix=f"audit_test_{secrets.token_hex(4)}")
    yield session
    asyncio.run(_drop(session.created))


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """A fresh, empty log per test: the chain is one sequence, so tests cannot share one."""
    if request.param == "sqlite":
        return Target(url=f"sqlite+aiosqlite:///{(tmp_path / 'audit.db').as_posix()}", schema=None)
    postgres: Postgres = request.getfixturevalue("postgres")
    return Target(url=POSTGRES_URL, schema=postgres.fresh_schema())


@pytest.fixture
async def db(target: Target) -> AsyncIterator[AuditDatabase]:
    database = await open_database(target.url, schema=target.schema)
    await migrate(database)
    yield database
    await database.aclose()


@pytest.fixture(scope="session")
def signer() -> CheckpointSigner:
    return CheckpointSigner.from_bytes(bytes(range(32)))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def log(db: AuditDatabase, signer: CheckpointSigner, clock: Clock) -> AsyncIterator[AuditLog]:
    audit_log = AuditLog(db, signer, ORIGIN, clock=clock, checkpoint_every=10_000)
    await audit_log.start()
    yield audit_log
    await audit_log.aclose()


def make_entry(n: int = 0, **changes: object) -> AuditEntry:
    """A plausible access entry; ``n`` varies its id, time and person."""
    entry = AuditEntry(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"entry-{n}").hex,
        time=T0 + timedelta(seconds=n),
        kind="person_access",
        client="demo-agency-app",
        caller="client",
        purpose="rsa_instruction",
        recipient="13002526500013",
        object="DOSSIER-42",
        legal_basis=("Code de l'action sociale et des familles, art. L262-40", "https://x.test/l"),
        person=f"pseudo-{n % 7}",
        released=("identity", "rsa_status"),
        denied=(("tax_income", "not_needed_for_purpose"),),
        agencies=("cnaf", "insee"),
        outcome="partial",
        policy_revision="rev-2025-07-01",
    )
    return replace(entry, **changes) if changes else entry  # type: ignore[arg-type]


EntryFactory = Callable[..., AuditEntry]
