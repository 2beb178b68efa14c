"""A campaign killed with SIGKILL while it records its offers, then run again to the end: no
person gets two offers, no offer two messages on one channel, every message is delivered
once, the audit log verifies, and the same persons are offered as by a run left alone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from store import StoreError
from tests.proactive.test_notifications import Collect, free_port
from tests.system._campaign import (
    COMMAND_TIMEOUT,
    Place,
    Written,
    audit_verifies,
    count_offers,
    database,
    finished,
    letters_on_disk,
    new_secret,
    place,
    postgres_schemas,
    run_args,
    start,
    summary,
    unefois,
    written,
)
from tests.system._stack import Sandbox, tail

pytestmark = pytest.mark.system

POLL = 0.005  # seconds between two looks at the offers table: the offers take ~100 ms


@dataclass
class Crash:
    crashed: Place  # killed once, then run again to the end, then delivered twice
    clean: Place  # the same campaign over the same persons, never interrupted
    offers_at_kill: int
    rerun: dict[str, int]  # the rerun's summary
    clean_run: dict[str, int]
    deliveries: list[str]  # stdout of each ``campaign deliver``
    after: Written  # what the crashed campaign's database holds at the end
    clean_written: Written
    audit: dict[str, Any]
    mails: list[str]  # the recipients of the e-mails the SMTP server received
    texts: list[str]  # the idempotency keys of every text message the SMS sink received


async def _kill_once_offers_exist(process: subprocess.Popen[bytes], where: Place, log: Path) -> int:
    """SIGKILL ``process`` as soon as an offer is recorded; the offers recorded by then."""
    db = await database(where)
    try:
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"the campaign ended ({process.returncode}) before it could be killed\n"
                    + tail(log)
                )
            try:
                seen = await count_offers(db)
            except StoreError:
                seen = 0  # the campaign has not created its tables yet
            if seen:
                os.kill(process.pid, signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                pytest.fail("no offer was recorded in time\n" + tail(log))
            await asyncio.sleep(POLL)
        await asyncio.to_thread(process.wait, COMMAND_TIMEOUT)
        assert process.returncode == -signal.SIGKILL, process.returncode
        return await count_offers(db)
    finally:
        await db.aclose()


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, Collect]]:
    """A real SMTP server on loopback: what the crashed campaign's e-mails reach."""
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def crash(
    smtp: tuple[int, Collect],
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    catalogue: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Crash]:
    workdir = tmp_path_factory.mktemp(f"campaign-crash-{request.param}")
    secret = new_secret()  # one for both places: the same person, the same pseudonym
    # SQLite: no schema, the database file of each data directory.
    no_schema: Callable[[], str | None] = lambda: None  # noqa: E731
    schemas_of = postgres_schemas() if request.param == "postgresql" else nullcontext(no_schema)
    with schemas_of as schemas:
        port, mailbox = smtp
        crashed = place(sandbox, catalogue, workdir / "crashed", schemas(), secret, port)
        clean = place(sandbox, catalogue, workdir / "clean", schemas(), secret)
        # The run left alone goes on beside the one about to be killed.
        clean_log = workdir / "clean.log"
        clean_process = start(clean, run_args(), clean_log)
        killed_log = workdir / "killed.log"
        killed = start(crashed, run_args(), killed_log)
        try:
            at_kill = asyncio.run(_kill_once_offers_exist(killed, crashed, killed_log))
            rerun = summary(unefois(crashed, run_args()))
            clean_run = finished(clean_process, clean_log)
        finally:
            for process in (killed, clean_process):
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=COMMAND_TIMEOUT)
        mails_before = len(mailbox.received)
        deliveries = [unefois(crashed, ["campaign", "deliver"]) for _ in range(2)]
        mails = mailbox.received[mails_before:]
        texts = httpx.get(sandbox.sms_url + "/_sandbox/sms", timeout=5.0).json()["data"]
        yield Crash(
            crashed=crashed,
            clean=clean,
            offers_at_kill=at_kill,
            rerun=rerun,
            clean_run=clean_run,
            deliveries=deliveries,
            after=asyncio.run(written(crashed)),
            clean_written=asyncio.run(written(clean)),
            audit=audit_verifies(crashed),
            mails=[str(m["To"]) for m in mails],
            texts=[str(t["idempotency_key"]) for t in texts],
        )


def test_the_kill_interrupted_the_recording(crash: Crash) -> None:
    print(  # shown with -s or on failure: where the kill fell
        f"offers at kill {crash.offers_at_kill}, rerun {crash.rerun}, clean {crash.clean_run}"
    )
    assert crash.offers_at_kill >= 1
    # The rerun still had offers to record: the kill fell in the middle, not after the end.
    assert crash.rerun["offers_created"] >= 1, crash.rerun
    assert crash.rerun["offers_created"] + crash.offers_at_kill == len(crash.after.offers)


def test_no_person_gets_two_offers_nor_an_offer_two_messages(crash: Crash) -> None:
    assert crash.after.offers, "the campaign recorded no offer"
    assert crash.after.duplicate_offers() == []
    assert crash.after.duplicate_messages() == []
    # The rerun took up the offers made before the kill (nobody was told of them yet: their
    # messages are queued once) instead of offering them again.
    assert crash.rerun["offers_resumed"] >= crash.offers_at_kill, crash.rerun


def test_every_message_is_delivered_exactly_once(crash: Crash) -> None:
    messages = crash.after.messages
    assert messages, "the campaign enqueued no message"
    assert {m.status for m in messages} == {"sent"}, [(m.channel, m.status) for m in messages]
    assert all(m.attempts == 1 and m.sent_at is not None for m in messages)
    first, second = (summary_of(out) for out in crash.deliveries)
    texts = [m for m in messages if m.channel == "sms"]
    assert first["sms"] == len(texts) and first["segments"] >= len(texts), crash.deliveries
    sending = {k: first[k] for k in ("sent", "retried", "dead")}
    assert sending == {"sent": len(messages), "retried": 0, "dead": 0}, crash.deliveries
    assert second == {"sent": 0, "retried": 0, "dead": 0, "sms": 0, "segments": 0}
    letters = [m for m in messages if m.channel == "letter"]
    on_disk = letters_on_disk(crash.crashed)
    assert sorted(p.stem for p in on_disk) == sorted(m.id for m in letters)
    assert all(p.read_bytes().startswith(b"%PDF") for p in on_disk)
    # E-mails and text messages reached their servers once each.
    emails = [m for m in messages if m.channel == "email"]
    assert sorted(crash.mails) == sorted(m.address for m in emails)
    keys = {m.idempotency_key for m in messages if m.channel == "sms"}
    assert sorted(k for k in crash.texts if k in keys) == sorted(keys)


def test_the_audit_log_verifies(crash: Crash) -> None:
    # Every person was fetched by the killed run, then again by the rerun: each is audited.
    assert crash.audit["size"] >= crash.rerun["fetched"] + crash.offers_at_kill, crash.audit


def test_the_same_persons_are_offered_as_without_the_crash(crash: Crash) -> None:
    assert crash.rerun["examined"] == crash.clean_run["examined"]
    assert crash.after.offered() == crash.clean_written.offered()
    assert len(crash.after.offers) == crash.clean_run["offers_created"]


def test_no_offer_loses_its_letter_to_the_crash(crash: Crash) -> None:
    # An offer recorded just before the kill, its letter not yet queued, gets it on the rerun.
    assert crash.after.lettered() == crash.clean_written.lettered()


def summary_of(stdout: str) -> dict[str, int]:
    """``campaign deliver`` prints ``sent``, ``retried`` and ``dead`` counts, then the SMS
    sent and their segments."""
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out
