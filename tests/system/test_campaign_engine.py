"""A campaign run by three ``unefois worker`` processes over RabbitMQ, one of them killed with
SIGKILL once batches are done: the campaign still completes, offers exactly the persons a run
without a broker offers (another schema, the same pseudonym secret), every message reaches
its sink once, and the audit log verifies. Then a CSS renewal run goes to the same workers,
as renewal batches, and completes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pika
import pika.exceptions
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from store import StoreError
from store.tables import campaign_batches
from tests.proactive.test_notifications import Collect, free_port
from tests.services import unavailable
from tests.system._campaign import (
    Place,
    audit_verifies,
    database,
    new_secret,
    place,
    postgres_schemas,
    start,
    summary,
    unefois,
    written,
)
from tests.system._stack import Sandbox, previous_month, tail

pytestmark = pytest.mark.system

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/%2F"
LIMIT = 600
BATCH = 25
WORKERS = 3
RENEWAL_LIMIT = 100  # candidates of the renewal run the two workers left take
DONE_BEFORE_KILL = 3  # batches done before one worker is killed
TIMEOUT = 900.0  # seconds; only ever reached when something hangs


def campaign_args(batch: bool) -> list[str]:
    extra = ["--batch", str(BATCH)] if batch else []
    month = previous_month()
    run = ["campaign", "run", "--benefit", "rsa", "--month", month, "--population"]
    return [*run, "--limit", str(LIMIT), *extra]


@pytest.fixture
def rabbitmq() -> Iterator[str]:
    """A namespace of this test's own on the local RabbitMQ; its queues deleted at the end."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ))
    except pika.exceptions.AMQPError:
        unavailable("RabbitMQ is not running on 127.0.0.1:5672")
    connection.close()
    namespace = "test_" + uuid.uuid4().hex[:10]
    try:
        yield namespace
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ))
        channel = connection.channel()
        for suffix in ("", ".DQ", ".XQ"):
            channel.queue_delete(f"{namespace}.campaign_batches{suffix}")
        connection.close()


async def _batches_done(where: Place) -> int:
    db = await database(where)
    try:
        async with db.connection() as conn:
            query = (
                select(func.count())
                .select_from(campaign_batches)
                .where(campaign_batches.c.state == "done")
            )
            return int((await conn.execute(query)).scalar() or 0)
    except StoreError:
        return 0  # not migrated yet
    finally:
        await db.aclose()


def _wait(process: subprocess.Popen[bytes], log: Path) -> str:
    code = process.wait(timeout=TIMEOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, f"exited {code}\n{tail(log, 40)}"
    return text


def test_workers_run_a_campaign_through_a_worker_killed(
    sandbox: Sandbox, catalogue: Path, tmp_path: Path, rabbitmq: str
) -> None:
    secret = new_secret()
    handler = Collect()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with postgres_schemas() as fresh:
            shared = place(sandbox, catalogue, tmp_path / "shared", fresh(), secret, smtp.port)
            broker = {"UNEFOIS_BROKER_URL": RABBITMQ, "UNEFOIS_BROKER_NAMESPACE": rabbitmq}
            shared = replace(shared, env=shared.env | broker)
            alone = place(sandbox, catalogue, tmp_path / "alone", fresh(), secret)
            workers = [
                start(shared, ["worker", "--threads", "1"], tmp_path / f"worker{i}.log")
                for i in range(WORKERS)
            ]
            processes += workers
            coordinator_log = tmp_path / "coordinator.log"
            coordinator = start(shared, campaign_args(batch=True), coordinator_log)
            processes.append(coordinator)
            alone_log = tmp_path / "alone.log"
            single = start(alone, campaign_args(batch=False), alone_log)
            processes.append(single)

            deadline = time.monotonic() + TIMEOUT
            while asyncio.run(_batches_done(shared)) < DONE_BEFORE_KILL:
                assert coordinator.poll() is None, tail(coordinator_log)
                assert time.monotonic() < deadline, tail(tmp_path / "worker0.log")
                time.sleep(0.5)
            os.kill(workers[0].pid, signal.SIGKILL)
            assert workers[0].wait(timeout=60) == -signal.SIGKILL

            together = summary(_wait(coordinator, coordinator_log))
            reference = summary(_wait(single, alone_log))
            print(f"workers {together}, single {reference}")  # shown with -s or on failure
            campaign = f"rsa-{previous_month()}"
            status = unefois(shared, ["campaign", "status", "--campaign", campaign])
            assert f"batches  {LIMIT // BATCH}/{LIMIT // BATCH}" in status, status
            assert together["examined"] == reference["examined"] == LIMIT

            after = asyncio.run(written(shared))
            clean = asyncio.run(written(alone))
            assert after.offers, "the campaign recorded no offer"
            assert after.duplicate_offers() == [] and after.duplicate_messages() == []
            assert after.offered() == clean.offered()
            assert after.lettered() == clean.lettered()
            assert len(after.messages) == len(clean.messages)

            deliveries = [unefois(shared, ["campaign", "deliver"]) for _ in range(2)]
            final = asyncio.run(written(shared))
            assert {m.status for m in final.messages} == {"sent"}, deliveries
            assert all(m.attempts == 1 for m in final.messages)
            emails = sorted(m.address for m in final.messages if m.channel == "email")
            assert sorted(str(m["To"]) for m in handler.received) == emails
            texts = httpx.get(sandbox.sms_url + "/_sandbox/sms", timeout=5.0).json()["data"]
            keys = {m.idempotency_key for m in final.messages if m.channel == "sms"}
            sent = [str(t["idempotency_key"]) for t in texts]
            assert sorted(k for k in sent if k in keys) == sorted(keys)

            # A renewal run on the same workers: planned as renewal batches, run by them.
            month = previous_month()
            renew = ["campaign", "renew", "--month", month, "--population"]
            renew += ["--limit", str(RENEWAL_LIMIT), "--batch", str(BATCH)]
            printed = dict(line.split() for line in unefois(shared, renew).splitlines())
            status = unefois(shared, ["campaign", "status", "--campaign", f"css-renewal-{month}"])
            batches = -(-RENEWAL_LIMIT // BATCH)
            assert f"batches  {batches}/{batches}" in status, status
            table = {
                parts[0]: int(parts[1])
                for parts in (line.split() for line in status.splitlines())
                if len(parts) == 2 and parts[1].isdigit()
            }
            assert table["examined"] == RENEWAL_LIMIT
            assert {k: table[k] for k in printed} == {k: int(v) for k, v in printed.items()}
            assert table["renewed"] + table["invited"] + table["not_due"] >= 1
            audit_verifies(shared)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        smtp.stop()
