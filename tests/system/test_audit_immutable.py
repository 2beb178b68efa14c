"""The audit database's files made immutable under a serving gateway (``chattr +i``): the
process stays up, answers ``INTERNAL`` with no data while nothing can be written, serves again
once the files are writable, and the log still verifies.

SQLite maps its WAL index (``-shm``) into memory; a write to that mapping once the file is
immutable kills the process with SIGBUS. The audit and the store therefore use a rollback
journal and no memory mapping (docs/audit.md).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.clients import ensure_default_clients
from tests.system._load import access_id_of, client, context, identity_ref, one_query, token
from tests.system._stack import Gateway, Sandbox, gateway_env
from tests.system.conftest import PURPOSE

pytestmark = pytest.mark.system

CTX = context(PURPOSE, "immutable-test")
ROUNDS = 3  # the fault was intermittent: several rounds of lock and unlock


def _chattr(flag: str, paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed program, our own temporary paths
        ["chattr", flag, *map(str, paths)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )


def _database_files(data_dir: Path) -> list[Path]:
    # The directory too: SQLite creates and deletes its journal there.
    return [data_dir, *sorted(data_dir.glob("unefois.db*"))]


@pytest.fixture
def immutable_capable(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.write_bytes(b"")
    if shutil.which("chattr") is None or _chattr("+i", [probe]).returncode != 0:
        pytest.skip("chattr +i is not available here (needs CAP_LINUX_IMMUTABLE on ext4 or alike)")
    _chattr("-i", [probe])


@pytest.fixture
def gateway(
    immutable_capable: None, sandbox: Sandbox, catalogue: Path, tmp_path: Path
) -> Iterator[tuple[Gateway, str, Path]]:
    data_dir = tmp_path / "data"
    secret = ensure_default_clients(data_dir / "clients.yaml")
    assert secret is not None
    server = Gateway("immutable", gateway_env(sandbox, data_dir, catalogue), tmp_path)
    try:
        server.start()
        server.wait_healthy(timeout=180)  # a loaded machine starts the rules workers slowly
        yield server, secret, data_dir
    finally:
        _chattr("-i", _database_files(data_dir))
        server.stop()


async def _rounds(
    gateway: Gateway, secret: str, data_dir: Path, persons: list[dict[str, Any]]
) -> None:
    async with client(1) as http:
        bearer = await token(http, gateway.url, secret)
        person = 0
        for _ in range(ROUNDS):
            answer = await one_query(http, gateway.url, bearer, identity_ref(persons[person]), CTX)
            assert access_id_of(answer) is not None, answer.text
            person += 1
            files = _database_files(data_dir)
            locked = _chattr("+i", files)
            assert locked.returncode == 0, locked.stderr
            try:
                for _ in range(3):
                    try:
                        answer = await one_query(
                            http, gateway.url, bearer, identity_ref(persons[person]), CTX
                        )
                    except httpx.TransportError:
                        assert gateway.process is not None
                        code = gateway.process.wait(timeout=10)
                        pytest.fail(f"the gateway died (code {code})\n{gateway.log_tail()}")
                    person += 1
                    body = answer.json()
                    assert (body.get("data") or {}).get("person") is None, body
                    codes = {e["extensions"]["code"] for e in body["errors"]}
                    assert codes == {"INTERNAL"}, body
            finally:
                assert _chattr("-i", files).returncode == 0
            answer = await one_query(http, gateway.url, bearer, identity_ref(persons[person]), CTX)
            person += 1
            assert access_id_of(answer) is not None, answer.text


def test_immutable_audit_files_fail_closed_and_recover(
    gateway: tuple[Gateway, str, Path], persons: list[dict[str, Any]]
) -> None:
    server, secret, data_dir = gateway
    asyncio.run(_rounds(server, secret, data_dir, persons))
    verify = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout.strip().splitlines()[-1])["ok"] is True
