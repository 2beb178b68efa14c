"""Two gateway replicas write one audit chain on one PostgreSQL: no fork, no gap, no lost
entry, and both replicas' entries interleave in it."""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from audit import open_database
from gateway.clients import ensure_default_clients
from tests.services import unavailable
from tests.system._audit import cli_verify, entry_count, entry_rows, verified
from tests.system._load import Load, client, context, identity_ref, run_load, token
from tests.system._stack import Gateway, Sandbox, gateway_env
from tests.system.conftest import PURPOSE

pytestmark = pytest.mark.system

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
REQUESTS = 300  # per replica, each a distinct person
CONCURRENCY = 16  # per replica
REPLICAS = ("a", "b")  # replica a queries persons 0 to 299, replica b persons 300 to 599


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards whatever happens."""
    name = "sys_" + uuid.uuid4().hex[:12]
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        yield name
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await conn.close()


def _case(replica: str) -> str:
    """The case reference each replica's requests carry: which replica wrote an entry."""
    return f"replica-{replica}"


async def _load_both(
    gateways: list[Gateway], secret: str, persons: list[dict[str, Any]]
) -> dict[str, Load]:
    async with client(CONCURRENCY * len(gateways)) as http:
        runs = {}
        for i, gateway in enumerate(gateways):
            bearer = await token(http, gateway.url, secret)
            refs = [identity_ref(p) for p in persons[i * REQUESTS : (i + 1) * REQUESTS]]
            ctx = context(PURPOSE, _case(gateway.name))
            runs[gateway.name] = run_load(http, gateway.url, bearer, refs, ctx, CONCURRENCY, Load())
        loads = await asyncio.wait_for(asyncio.gather(*runs.values()), timeout=90)
    return dict(zip(runs, loads, strict=True))


async def test_two_replicas_write_one_chain(
    sandbox: Sandbox,
    persons: list[dict[str, Any]],
    catalogue: Path,
    schema: str,
    tmp_path: Path,
) -> None:
    # One data directory for both: the clients file, the token keys and the checkpoint key
    # (created safely by whichever replica starts first).
    data_dir = tmp_path / "data"
    secret = ensure_default_clients(data_dir / "clients.yaml")
    assert secret is not None
    shared = {
        "UNEFOIS_DATABASE_URL": POSTGRES,
        "UNEFOIS_DATABASE_SCHEMA": schema,
        "UNEFOIS_PSEUDONYM_SECRET": base64.b64encode(secrets.token_bytes(32)).decode(),
        # One service behind a load balancer: one public name, one log origin.
        "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    gateways = [
        Gateway(name, gateway_env(sandbox, data_dir, catalogue, shared), tmp_path)
        for name in REPLICAS
    ]
    db = None
    try:
        for gateway in gateways:  # both start at once: migrations and key creation race
            gateway.start()
        for gateway in gateways:
            gateway.wait_healthy(timeout=180)  # slow rules workers on a loaded machine

        loads = await _load_both(gateways, secret, persons)
        for name, load in loads.items():
            assert load.transport_errors == 0, (name, load.transport_errors)
            assert load.statuses == {200: REQUESTS}, (name, load.statuses)
            assert len(load.delivered) == REQUESTS, (name, len(load.delivered))

        db = await open_database(POSTGRES, schema=schema)
        report = await verified(db, data_dir)
        assert report.ok, report
        rows = await entry_rows(db)
        assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1)), "seq is not dense"
        assert report.size == len(rows) == await entry_count(db)
        ids = [access_id for _, access_id, _ in rows]
        assert len(set(ids)) == len(ids), "an accessId appears twice in the log"

        # Exactly one entry per delivered answer, written with the replica's own case.
        case_of = {access_id: case for _, access_id, case in rows}
        for name, load in loads.items():
            missing = [i for i in load.delivered if i not in case_of]
            assert not missing, f"replica {name}: {len(missing)} delivered answers not logged"
            assert {case_of[i] for i in load.delivered} == {_case(name)}
        order = [case for _, _, case in rows if case in {_case(r) for r in REPLICAS}]
        assert len(order) == REQUESTS * len(REPLICAS)
        # Both contributed to one chain, their batches following each other.
        switches = sum(1 for before, after in itertools.pairwise(order) if before != after)
        print(f"{len(order)} entries, {switches} switches between replicas")
        assert switches >= 2, f"the replicas' entries do not interleave ({switches} switches)"

        assert cli_verify(gateways[0]) == {
            "ok": True,
            "size": len(rows),
            "checkpoints": report.checked_checkpoints,
            # Fewer entries than a checkpoint's worth, within a minute: none witnessed yet,
            # which the grace allows.
            "witnessed": 0,
            "trusted_checkpoints": 0,
            "position": None,
            "problem": None,
            "recorded": False,  # verified without --record: the chain status is not told
        }

        # Stopped gracefully, each replica signs a checkpoint of what it wrote: still one log.
        for gateway in gateways:
            gateway.stop()
        final = await verified(db, data_dir)
        assert final.ok, final
        assert final.size == len(rows)
        assert final.checked_checkpoints >= 1
        # Their shutdown checkpoints went to the witness file they share.
        after = cli_verify(gateways[0])
        assert after["ok"] is True and after["witnessed"] == len(rows), after
    finally:
        for gateway in gateways:
            gateway.stop()
        if db is not None:
            await db.aclose()
