"""The gateway under load is killed with SIGKILL and restarted on the same SQLite file: the
log still verifies, and every answer delivered before the kill has its entry (fail closed:
an entry is committed before its answer leaves)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit import open_database
from gateway.clients import ensure_default_clients
from tests.system._audit import entry_count, entry_rows, verified
from tests.system._load import (
    Load,
    access_id_of,
    client,
    context,
    identity_ref,
    one_query,
    run_load,
    token,
)
from tests.system._stack import Gateway, Sandbox, gateway_env
from tests.system.conftest import PURPOSE

pytestmark = pytest.mark.system

CONCURRENCY = 32
REQUESTS = 1500  # the load's budget: each a distinct person (persons 0 to 1499)
KILL_AFTER_SENT = 1000  # kill by then at the latest, so requests are still being sent
LOAD_SECONDS = 2.0  # kill after about this much load
MIN_DELIVERED = 20  # the kill waits for at least this many delivered answers
AFTER_RESTART = 1999  # the person queried after the restart
CTX = context(PURPOSE, "crash-test")


@dataclass
class Crashed:
    gateway: Gateway  # restarted and healthy
    data_dir: Path
    secret: str
    load: Load
    in_flight_at_kill: int
    delivered_at_kill: int
    persons: list[dict[str, Any]]

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{(self.data_dir / 'unefois.db').as_posix()}"


@dataclass
class Kill:
    load: Load
    in_flight: int  # requests sent and not answered when SIGKILL was sent
    delivered: int  # answers received by then


async def _load_then_kill(gateway: Gateway, secret: str, refs: list[dict[str, Any]]) -> Kill:
    async with client(CONCURRENCY) as http:
        bearer = await token(http, gateway.url, secret)
        load = Load(sent_mark=KILL_AFTER_SENT, delivered_mark=MIN_DELIVERED)
        loop = asyncio.get_running_loop()
        started = loop.time()
        running = asyncio.create_task(
            run_load(http, gateway.url, bearer, refs, CTX, CONCURRENCY, load)
        )
        enough = asyncio.create_task(load.delivered_reached.wait())
        try:
            done, _ = await asyncio.wait(
                {running, enough}, timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            assert enough in done and not running.done(), (
                f"the load did not get {MIN_DELIVERED} answers before ending or 30 s: "
                f"statuses {load.statuses}, transport errors {load.transport_errors}\n"
                + gateway.log_tail()
            )
            # About LOAD_SECONDS of load, or KILL_AFTER_SENT requests sent, whichever first.
            remaining = max(0.0, LOAD_SECONDS - (loop.time() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(load.sent_reached.wait(), timeout=remaining)
            kill = Kill(load, load.in_flight, len(load.delivered))
            gateway.kill()
            # Every worker stops at its first transport error: the run ends promptly.
            await asyncio.wait_for(running, timeout=30)
        finally:
            enough.cancel()
            running.cancel()
    return kill


@pytest.fixture(scope="module")
def crashed(
    sandbox: Sandbox,
    persons: list[dict[str, Any]],
    catalogue: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Crashed]:
    workdir = tmp_path_factory.mktemp("crash")
    data_dir = workdir / "data"
    secret = ensure_default_clients(data_dir / "clients.yaml")
    assert secret is not None
    gateway = Gateway("crash", gateway_env(sandbox, data_dir, catalogue), workdir)
    refs = [identity_ref(p) for p in persons[:REQUESTS]]
    try:
        gateway.start()
        gateway.wait_healthy(timeout=180)  # the rules workers start slowly on a loaded machine
        kill = asyncio.run(_load_then_kill(gateway, secret, refs))
        assert gateway.process is not None and gateway.process.returncode == -signal.SIGKILL
        gateway.start()  # same data directory, same port
        gateway.wait_healthy(timeout=180)  # the rules workers start slowly on a loaded machine
        yield Crashed(gateway, data_dir, secret, kill.load, kill.in_flight, kill.delivered, persons)
    finally:
        gateway.stop()


async def test_log_verifies_and_keeps_every_delivered_answer_after_sigkill(
    crashed: Crashed,
) -> None:
    load = crashed.load
    print(  # shown with -s or on failure: what the kill hit
        f"sent {load.sent}, delivered {len(load.delivered)} (at kill {crashed.delivered_at_kill}),"
        f" in flight at kill {crashed.in_flight_at_kill}, cut {load.transport_errors},"
        f" statuses {load.statuses}"
    )
    # The kill hit a gateway under load, with answers already out and requests in flight.
    assert crashed.in_flight_at_kill > 0
    assert crashed.delivered_at_kill >= MIN_DELIVERED
    assert load.transport_errors > 0, "no request was cut by the kill"
    assert load.sent < REQUESTS, "the load ended before the kill"
    assert len(set(load.delivered)) == len(load.delivered), "an accessId was delivered twice"

    db = await open_database(crashed.database_url)
    try:
        report = await verified(db, crashed.data_dir)
        assert report.ok, report
        ids = {access_id for _, access_id, _ in await entry_rows(db)}
        assert report.size == len(ids) >= len(load.delivered)
        missing = set(load.delivered) - ids
        assert not missing, f"{len(missing)} delivered answers have no audit entry"

        # The restarted gateway serves and records again, on the same chain.
        async with client(1) as http:
            bearer = await token(http, crashed.gateway.url, crashed.secret)
            answer = await one_query(
                http,
                crashed.gateway.url,
                bearer,
                identity_ref(crashed.persons[AFTER_RESTART]),
                CTX,
            )
        access_id = access_id_of(answer)
        assert access_id is not None, answer.text
        after = await verified(db, crashed.data_dir)
        assert after.ok, after
        assert after.size == report.size + 1 == await entry_count(db)
        assert access_id in {i for _, i, _ in await entry_rows(db)}
    finally:
        await db.aclose()


def test_cli_verify_after_sigkill(crashed: Crashed) -> None:
    verify = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env=crashed.gateway.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = json.loads(verify.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["size"] >= len(crashed.load.delivered), report
