"""Every store test runs on both backends: SQLite in a temporary directory, and the real
PostgreSQL server in a schema of its own for this session, dropped at the end.

PostgreSQL unreachable: its cases are skipped, except under ``CI=true`` where they fail, so
that CI cannot go green without having tested the production backend.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.schema import DropSchema

from store import ConsentStore, Database, StoreUnavailable, connect, migrate
from tests.services import unavailable

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Postgres:
    """The session's schema, and any other schema a test creates, all dropped at the end."""

    schema: str
    created: list[str] = field(default_factory=list)

    def fresh_schema(self) -> str:
        name = f"{self.schema}_{secrets.token_hex(3)}"
        self.created.append(name)
        return name


@dataclass(frozen=True)
class Target:
    """Where a test's database lives: enough to open a second connection to it."""

    url: str
    schema: str | None


async def _drop(schemas: list[str]) -> None:
    database = await connect(POSTGRES_URL)
    try:
        async with database.transaction() as conn:
            for name in schemas:
                await conn.execute(DropSchema(name, cascade=True, if_exists=True))
    finally:
        await database.aclose()


async def _reachable() -> bool:
    try:
        database = await connect(POSTGRES_URL)
    except StoreUnavailable:
        return False
    await database.aclose()
    return True


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not asyncio.run(_reachable()):
        message = "PostgreSQL is not reachable on 127.0.0.1:5432"
        unavailable(message)
    session = Postgres(schema=f"test_{secrets.token_hex(6)}")
    session.created.append(session.schema)
    yield session
    asyncio.run(_drop(session.created))


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "sqlite":
        return Target(url=f"sqlite+aiosqlite:///{(tmp_path / 'store.db').as_posix()}", schema=None)
    postgres: Postgres = request.getfixturevalue("postgres")
    return Target(url=POSTGRES_URL, schema=postgres.schema)


@pytest.fixture
async def database(target: Target) -> AsyncIterator[Database]:
    database = await connect(target.url, schema=target.schema)
    await migrate(database)
    yield database
    await database.aclose()


@pytest.fixture
def store(database: Database) -> ConsentStore:
    return ConsentStore(database)


@pytest.fixture
def person() -> str:
    # Tests share the session's PostgreSQL schema: a pseudonym of their own keeps them apart.
    return f"pseudo-{uuid.uuid4().hex}"
