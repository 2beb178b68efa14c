"""``unefois campaign`` as real processes against the sandbox: where a campaign writes, how it
is started, killed and read back, the way an operator's shell would do it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select

from audit import open_database
from audit import tables as audit_tables
from runtime.settings import SANDBOX_PORTS
from store import Database, connect, database_url_for
from store.tables import offers, outbox
from tests.services import unavailable
from tests.system._stack import Sandbox, gateway_env, previous_month, tail

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
RECIPIENT = "13002526500013"
BENEFIT = "rsa"
LIMIT = 300  # persons a campaign examines: a few seconds of fetching, a dozen or more offers
COMMAND_TIMEOUT = 180.0  # seconds; only ever reached when something hangs


@dataclass(frozen=True)
class Place:
    """Where a campaign runs: its data directory and database, and the environment that
    points ``unefois`` at them and at the sandbox."""

    data_dir: Path
    schema: str | None  # None: the SQLite file of the data directory
    env: dict[str, str]

    @property
    def url(self) -> str:
        return POSTGRES if self.schema is not None else database_url_for(self.data_dir, None)

    @property
    def letters(self) -> Path:
        return self.data_dir / "letters"


def new_secret() -> str:
    """A pseudonym secret: places sharing it name the same person with the same pseudonym."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def place(
    sandbox: Sandbox,
    catalogue: Path,
    data_dir: Path,
    schema: str | None,
    secret: str,
    smtp_port: int | None = None,
) -> Place:
    extra = {
        "UNEFOIS_PSEUDONYM_SECRET": secret,
        "UNEFOIS_CAMPAIGN_RECIPIENT": RECIPIENT,
        "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    # Runs compared with each other must not differ by an agency call a loaded machine let
    # time out (the person then reads as incomplete and their partner is not read): the
    # timeout bounds a hung call, not a slow one.
    extra |= {f"UNEFOIS_{name.upper()}_TIMEOUT": "10" for name in SANDBOX_PORTS}
    if smtp_port is not None:
        extra |= {"UNEFOIS_SMTP_HOST": "127.0.0.1", "UNEFOIS_SMTP_PORT": str(smtp_port)}
    if schema is not None:
        extra |= {"UNEFOIS_DATABASE_URL": POSTGRES, "UNEFOIS_DATABASE_SCHEMA": schema}
    return Place(data_dir, schema, gateway_env(sandbox, data_dir, catalogue, extra))


def run_args(*extra: str) -> list[str]:
    return [
        "campaign",
        "run",
        "--benefit",
        BENEFIT,
        "--month",
        previous_month(),
        "--population",
        "--limit",
        str(LIMIT),
        *extra,
    ]


def start(where: Place, args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    """``unefois <args>`` in the background; its stdout and stderr go to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "cli.main", *args],
            env=where.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def unefois(where: Place, args: Sequence[str]) -> str:
    """``unefois <args>`` to completion; its stdout, after checking it exited 0."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", *args],
        env=where.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"unefois {' '.join(args)}: {done.returncode}\n" + (done.stdout + done.stderr)[-3000:]
    )
    return done.stdout


def summary(stdout: str) -> dict[str, int]:
    """The table ``campaign run`` prints: ``name  value`` lines."""
    out: dict[str, int] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    assert "examined" in out and "offers_created" in out, stdout
    return out


def finished(process: subprocess.Popen[bytes], log: Path) -> dict[str, int]:
    """Wait for a background ``campaign run``; its summary."""
    code = process.wait(timeout=COMMAND_TIMEOUT)
    assert code == 0, f"campaign run exited {code}\n{tail(log, 40)}"
    return summary(log.read_text(encoding="utf-8", errors="replace"))


def audit_verifies(where: Place) -> dict[str, Any]:
    """``unefois audit verify``: its report, after checking it exited 0."""
    report: dict[str, Any] = json.loads(unefois(where, ["audit", "verify"]).splitlines()[-1])
    assert report["ok"] is True, report
    return report


async def database(where: Place) -> Database:
    return await connect(where.url, schema=where.schema)


@dataclass(frozen=True)
class Written:
    """What a campaign left in its database."""

    offers: list[Any]  # rows of ``offers``
    messages: list[Any]  # rows of ``outbox``

    def offered(self) -> set[str]:
        return {row.person for row in self.offers}

    def duplicate_offers(self) -> list[tuple[str, str, str]]:
        keys = Counter((row.person, row.benefit, row.month) for row in self.offers)
        return [key for key, n in keys.items() if n > 1]

    def duplicate_messages(self) -> list[tuple[str, str]]:
        keys = Counter((row.offer_id, row.channel) for row in self.messages)
        return [key for key, n in keys.items() if n > 1]

    def lettered(self) -> set[str]:
        """The persons whose offer has a letter in the outbox."""
        person = {row.id: row.person for row in self.offers}
        return {person[m.offer_id] for m in self.messages if m.channel == "letter"}


async def written(where: Place) -> Written:
    db = await database(where)
    try:
        async with db.connection() as conn:
            offer_rows = (await conn.execute(select(offers))).all()
            message_rows = (await conn.execute(select(outbox))).all()
    finally:
        await db.aclose()
    return Written(list(offer_rows), list(message_rows))


async def count_offers(db: Database) -> int:
    async with db.connection() as conn:
        return int((await conn.execute(select(func.count()).select_from(offers))).scalar() or 0)


async def audit_entries(where: Place) -> int:
    db = await open_database(where.url, schema=where.schema)
    try:
        async with db.snapshot() as conn:
            count = await conn.execute(select(func.count()).select_from(audit_tables.entries))
            return int(count.scalar() or 0)
    finally:
        await db.aclose()


async def _reachable() -> bool:
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def _drop(names: list[str]) -> None:
    conn = await asyncpg.connect(POSTGRES, timeout=3)
    try:
        for name in names:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_schemas() -> Iterator[Callable[[], str]]:
    """Fresh PostgreSQL schema names, each dropped at the end whatever happens."""
    if not asyncio.run(_reachable()):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    names: list[str] = []

    def fresh() -> str:
        names.append("camp_" + uuid.uuid4().hex[:12])
        return names[-1]

    try:
        yield fresh
    finally:
        if names:
            asyncio.run(_drop(names))


def letters_on_disk(where: Place) -> list[Path]:
    return sorted(where.letters.glob("*.pdf")) if where.letters.exists() else []
