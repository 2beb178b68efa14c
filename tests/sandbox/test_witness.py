"""The sandbox's cosigning witness, fed by the audit log's :class:`HttpWitness` over real HTTP:
cosignatures stored in the witness file, a checkpoint of another key refused, a rewritten head
at a size already cosigned refused, a log that restarts and resends accepted."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn

from audit import (
    AuditLog,
    CheckpointSigner,
    Cosignature,
    HttpWitness,
    WitnessFailed,
    WitnessFile,
    migrate,
    open_database,
    public_key_from_pem,
    read_checkpoints,
    verify_cosignature,
)
from sandbox.witness import WitnessState, build_app
from tests.audit.conftest import make_entry

ORIGIN = "unefois.test/witness"
T0 = datetime(2025, 7, 10, 8, 0, tzinfo=UTC)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread of the test process
        pass


@pytest.fixture
def witness() -> Iterator[tuple[str, WitnessState]]:
    state = WitnessState(clock=lambda: 1_750_000_000.0)
    server = _Server(
        uvicorn.Config(build_app(state), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the witness did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", state
    server.should_exit = True
    thread.join(timeout=10)


def _register(url: str, signer: CheckpointSigner) -> None:
    answer = httpx.post(
        url + "/_sandbox/logs",
        json={"origin": ORIGIN, "public_key": signer.public_key_pem().decode()},
    )
    assert answer.status_code == 200, answer.text


async def _log_some(
    tmp_path: Path, signer: CheckpointSigner, witnesses: list[object], count: int
) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        await migrate(db)
        log = AuditLog(db, signer, ORIGIN, clock=lambda: T0, witnesses=witnesses)  # type: ignore[arg-type]
        await log.start()
        for n in range(count):
            await log.append(make_entry(n))
        await log.checkpoint()
        await log.aclose()
    finally:
        await db.aclose()


def _cosignature_lines(path: Path) -> list[dict[str, object]]:
    return [v for v in map(orjson.loads, path.read_bytes().splitlines()) if "cosignature" in v]


def test_checkpoints_are_cosigned_and_stored(
    witness: tuple[str, WitnessState], tmp_path: Path
) -> None:
    url, _ = witness
    signer = CheckpointSigner.from_bytes(bytes(range(32)))
    _register(url, signer)
    store = WitnessFile(tmp_path / "witness.jsonl")
    http = HttpWitness(url, store=store)
    asyncio.run(_log_some(tmp_path, signer, [store, http], 5))
    checkpoint = read_checkpoints(store.path)[-1]
    assert checkpoint.size == 5
    lines = _cosignature_lines(store.path)
    assert lines and lines[-1]["size"] == 5
    key = public_key_from_pem(httpx.get(url + "/public-key").content)
    cosignature = http.cosignatures[-1]
    assert verify_cosignature(checkpoint, cosignature, key)
    forged = Cosignature(
        cosignature.witness, cosignature.key_id, cosignature.time + 1, cosignature.signature
    )
    assert not verify_cosignature(checkpoint, forged, key)
    assert httpx.get(url + "/checkpoint", params={"origin": ORIGIN}).json()["size"] == 5

    # Restarted (a new HttpWitness that does not know the size the witness saw): the 409
    # tells it, and the resent checkpoint is accepted.
    again = HttpWitness(url)
    asyncio.run(again.add(checkpoint))
    assert again.cosignatures


def test_another_key_and_a_rewritten_head_are_refused(
    witness: tuple[str, WitnessState], tmp_path: Path
) -> None:
    url, _ = witness
    signer = CheckpointSigner.from_bytes(bytes(range(32)))
    _register(url, signer)
    asyncio.run(_log_some(tmp_path / "a", signer, [HttpWitness(url)], 5))

    other = CheckpointSigner.from_bytes(bytes(range(1, 33)))
    stranger = other.sign(ORIGIN, 6, bytes(32), T0)
    with pytest.raises(WitnessFailed, match="403"):
        asyncio.run(HttpWitness(url).add(stranger))

    rewritten = signer.sign(ORIGIN, 5, bytes(32), T0)  # another head at a cosigned size
    with pytest.raises(WitnessFailed, match="another head"):
        asyncio.run(HttpWitness(url).add(rewritten))
    backwards = signer.sign(ORIGIN, 3, bytes(32), T0)
    with pytest.raises(WitnessFailed):
        asyncio.run(HttpWitness(url).add(backwards))
