"""``UNEFOIS_WORKERS=2``: one ``unefois serve`` runs two worker processes on one port, each
with its own services, and both answer; their audit entries make one dense chain that
``unefois audit verify`` accepts. Which worker answered is read from the kernel: the server
side of each client connection belongs to one worker's file descriptors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from audit import open_database
from gateway.clients import ensure_default_clients
from tests.services import unavailable
from tests.system._audit import cli_verify, entry_rows, verified
from tests.system._load import Load, client, context, identity_ref, run_load, token
from tests.system._stack import Gateway, Sandbox, gateway_env
from tests.system.conftest import PURPOSE

# Each worker starts its own rules pool: on a loaded two-core machine a start takes a minute.
pytestmark = [pytest.mark.system, pytest.mark.timeout(600)]

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKERS = 2
ROUND = 48  # persons per round, each a distinct person
CONCURRENCY = 12
MAX_ROUNDS = 12  # until both workers were seen holding connections
ESTABLISHED = "01"
STOP_TIMEOUT = 120.0


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = "workers_" + uuid.uuid4().hex[:12]
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        yield name
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await conn.close()


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    return [int(child) for child in text.split()]


def worker_pids(server: int) -> list[int]:
    """The server's worker processes: children started by multiprocessing's spawn (not its
    resource tracker)."""
    found = []
    for pid in children(server):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"--multiprocessing-fork" in command and b"resource_tracker" not in b" ".join(command):
            found.append(pid)
    return found


def connection_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local end is ``port`` (the server
    side of the clients' connections)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == ESTABLISHED:
            inodes.add(fields[9])
    return inodes


def owners(pids: list[int], inodes: set[str]) -> set[int]:
    """Which of ``pids`` hold one of the sockets ``inodes``."""
    holding = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                holding.add(pid)
                break
    return holding


def wait_started(gateway: Gateway, workers: int, timeout: float = 300.0) -> None:
    """Until every worker has logged the end of its start (the first answers /healthz while
    the others may still be warming their rules pools)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = gateway.logs[-1].read_text(encoding="utf-8", errors="replace")
        if log.count("Application startup complete.") >= workers:
            return
        time.sleep(0.5)
    raise AssertionError(f"not every worker started\n{gateway.log_tail()}")


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def test_two_workers_share_the_port_and_write_one_chain(
    sandbox: Sandbox,
    persons: list[dict[str, Any]],
    catalogue: Path,
    schema: str,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    secret = ensure_default_clients(data_dir / "clients.yaml")
    assert secret is not None
    extra = {
        "UNEFOIS_DATABASE_URL": POSTGRES,
        "UNEFOIS_DATABASE_SCHEMA": schema,
        "UNEFOIS_WORKERS": str(WORKERS),
        "UNEFOIS_LOG_LEVEL": "INFO",  # each worker says when it serves
    }
    gateway = Gateway("workers", gateway_env(sandbox, data_dir, catalogue, extra), tmp_path)
    port = int(gateway.env["UNEFOIS_PORT"])
    db = None
    workers: list[int] = []
    try:
        gateway.start()
        gateway.wait_healthy(timeout=300)
        wait_started(gateway, WORKERS)
        workers = worker_pids(gateway.pid)
        assert len(workers) == WORKERS, (workers, children(gateway.pid))

        seen: set[int] = set()
        delivered: list[str] = []
        rounds = 0
        while seen != set(workers) and rounds < MAX_ROUNDS:
            batch = persons[rounds * ROUND : (rounds + 1) * ROUND]
            rounds += 1
            # A new client per round: new connections, accepted by whichever worker is free.
            async with client(CONCURRENCY) as http:
                bearer = await token(http, gateway.url, secret)
                refs = [identity_ref(p) for p in batch]
                load = await run_load(
                    http,
                    gateway.url,
                    bearer,
                    refs,
                    context(PURPOSE, "workers"),
                    CONCURRENCY,
                    Load(),
                )
                # The keep-alive connections are still open: who holds their server side?
                seen |= owners(workers, connection_inodes(port))
            assert load.transport_errors == 0
            assert load.statuses == {200: len(batch)}, load.statuses
            assert len(load.delivered) == len(batch)
            delivered += load.delivered
        assert seen == set(workers), f"after {rounds} rounds only {seen} of {workers} answered"
        assert worker_pids(gateway.pid) == workers  # neither died nor was replaced

        db = await open_database(POSTGRES, schema=schema)
        report = await verified(db, data_dir)
        assert report.ok, report
        rows = await entry_rows(db)
        assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1)), "seq is not dense"
        logged = {access_id for _, access_id, _ in rows}
        assert not [i for i in delivered if i not in logged], "a delivered answer is not logged"
        assert cli_verify(gateway)["ok"] is True

        # Stopped (SIGTERM to the parent), each worker finishes, flushes its audit writer and
        # signs a checkpoint: still one log. Closing the rules pools takes seconds when busy.
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGTERM)
        assert gateway.process.wait(timeout=STOP_TIMEOUT) == 0
        assert not [pid for pid in workers if alive(pid)]
        after = cli_verify(gateway)
        assert after["ok"] is True and after["size"] == len(rows), after
    finally:
        gateway.stop()
        for pid in workers:  # never left behind, whatever happened to their parent
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if db is not None:
            await db.aclose()


def test_more_than_one_worker_on_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNEFOIS_")}
    env |= {"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_WORKERS": "2"}
    done = subprocess.run(  # noqa: S603 - the installed command, as an operator runs it
        [str(Path(sys.executable).with_name("unefois")), "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "UNEFOIS_WORKERS" in lines[0] and "PostgreSQL" in lines[0]
    assert not list(tmp_path.iterdir())  # refused before anything was made
