"""Witnesses: every signed checkpoint also kept outside the audited database.

Whoever can rewrite the database can delete its checkpoints, rewrite entries and recompute
the chain; the result verifies against nothing but itself. A witness holds the checkpoints
where that person cannot reach them, and ``verify`` with a trusted checkpoint from a witness
then fails unless the log still reproduces the witnessed head at its size.

- :class:`WitnessFile`: an append-only file, one JSON line per checkpoint (the signed note's
  fields, base64), fsynced before the call returns. Point it at another volume or host than
  the database; its lines are what ``unefois audit verify --trusted-checkpoint`` reads.
- :class:`HttpWitness`: a cosigning witness after C2SP's ``tlog-witness``
  (https://github.com/C2SP/C2SP/blob/main/tlog-witness.md). ``POST /add-checkpoint`` sends
  the size the witness last saw and the signed checkpoint; the witness checks the log's
  signature, that the size does not go backwards and that the head at a size it already saw
  is unchanged, and answers with its own Ed25519 signature over
  ``cosignature/v1\\ntime <unix seconds>\\n`` followed by the note (C2SP ``tlog-cosignature``).
  Without a consistency proof it cannot tell that a larger head extends the smaller one; the
  auditor's ``verify`` against the witnessed checkpoints does that.

A witness that fails is logged by the log and tried again with the next checkpoint: the
entries are committed already, and refusing accesses because a copy could not be made would
trade availability for nothing the next checkpoint does not bring.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import Checkpoint, key_id_of
from audit.entry import format_time, parse_time
from audit.errors import WitnessFailed


class Witness(Protocol):
    async def add(self, checkpoint: Checkpoint) -> None:
        """Record ``checkpoint``; :class:`WitnessFailed` if the witness did not."""
        ...


@dataclass(frozen=True)
class Cosignature:
    witness: str
    key_id: str
    time: int  # Unix seconds, as C2SP's cosignature signs it
    signature: bytes


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {
        "origin": cp.origin,
        "size": cp.size,
        "head": base64.b64encode(cp.head).decode("ascii"),
        "signed_at": format_time(cp.signed_at),
        "key_id": cp.key_id,
        "signature": base64.b64encode(cp.signature).decode("ascii"),
    }


def checkpoint_of_json(value: Mapping[str, Any]) -> Checkpoint:
    """The checkpoint a JSON object describes; ``ValueError`` if it is not one."""
    try:
        return Checkpoint(
            origin=str(value["origin"]),
            size=int(value["size"]),
            head=base64.b64decode(value["head"], validate=True),
            signed_at=parse_time(str(value["signed_at"])),
            key_id=str(value["key_id"]),
            signature=base64.b64decode(value["signature"], validate=True),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a checkpoint ({type(error).__name__})") from None


def cosigned_message(cp: Checkpoint, time: int) -> bytes:
    return f"cosignature/v1\ntime {time:d}\n".encode() + cp.note()


def verify_cosignature(cp: Checkpoint, cosignature: Cosignature, key: Ed25519PublicKey) -> bool:
    if key_id_of(key) != cosignature.key_id:
        return False
    try:
        key.verify(cosignature.signature, cosigned_message(cp, cosignature.time))
    except InvalidSignature:
        return False
    return True


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints of a witness file (or of a file holding one checkpoint line), in file
    order; cosignature lines are skipped. ``ValueError`` names the first bad line."""
    found = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ValueError(f"line {number} is not JSON") from None
        if not isinstance(value, dict):
            raise ValueError(f"line {number} is not a checkpoint")
        if "cosignature" in value:
            continue
        try:
            found.append(checkpoint_of_json(value))
        except ValueError:
            raise ValueError(f"line {number} is not a checkpoint") from None
    return found


class WitnessFile:
    """Appends each checkpoint as one fsynced JSON line; never rewrites a line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def add(self, checkpoint: Checkpoint) -> None:
        await self._append([checkpoint_json(checkpoint)])

    async def add_cosignatures(self, cp: Checkpoint, cosignatures: Iterable[Cosignature]) -> None:
        lines = [
            {
                "cosignature": {
                    "witness": c.witness,
                    "key_id": c.key_id,
                    "time": c.time,
                    "signature": base64.b64encode(c.signature).decode("ascii"),
                },
                "size": cp.size,
                "head": base64.b64encode(cp.head).decode("ascii"),
            }
            for c in cosignatures
        ]
        await self._append(lines)

    async def _append(self, lines: list[dict[str, Any]]) -> None:
        data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
        try:
            await asyncio.to_thread(self._write, data)
        except OSError as error:
            kind = type(error).__name__
            raise WitnessFailed(f"the witness file was not written ({kind})") from None

    def _write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: several processes (replicas, the CLI) append whole lines without
        # overwriting each other's.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(descriptor, data)
            if written != len(data):
                raise OSError("short write")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class HttpWitness:
    """Sends each checkpoint to a cosigning witness; its cosignature goes to ``store``."""

    def __init__(
        self,
        url: str,
        *,
        store: WitnessFile | None = None,
        timeout: float = 5.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._url = url.rstrip("/") + "/add-checkpoint"
        self._store = store
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._seen = 0  # the size the witness last acknowledged, as far as we know
        self.cosignatures: list[Cosignature] = []

    async def add(self, checkpoint: Checkpoint) -> None:
        cosignatures = await self._send(checkpoint)
        self.cosignatures = cosignatures
        if self._store is not None:
            await self._store.add_cosignatures(checkpoint, cosignatures)

    async def _send(self, cp: Checkpoint) -> list[Cosignature]:
        owned = self._session is None
        session = self._session or aiohttp.ClientSession(timeout=self._timeout)
        try:
            for _ in range(2):
                body = {"old_size": self._seen, "checkpoint": checkpoint_json(cp)}
                async with session.post(self._url, data=orjson.dumps(body)) as answer:
                    payload = await answer.read()
                    if answer.status == 409:
                        # The witness saw another size (a restart, another replica): it says
                        # which, and the checkpoint is sent again from there (tlog-witness).
                        self._seen = _known_size(payload)
                        continue
                    if answer.status != 200:
                        raise WitnessFailed(f"the witness refused the checkpoint ({answer.status})")
                    self._seen = cp.size
                    return _cosignatures(payload)
            raise WitnessFailed("the witness holds a conflicting checkpoint")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise WitnessFailed(f"the witness is unreachable ({type(error).__name__})") from None
        finally:
            if owned:
                await session.close()


def _known_size(payload: bytes) -> int:
    try:
        value = orjson.loads(payload)
        size = int(value["size"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise WitnessFailed("the witness answered a conflict without its size") from None
    if value.get("conflict"):
        raise WitnessFailed(f"the witness holds another head at size {size}")
    return size


def _cosignatures(payload: bytes) -> list[Cosignature]:
    try:
        value = orjson.loads(payload)
        return [
            Cosignature(
                witness=str(item["witness"]),
                key_id=str(item["key_id"]),
                time=int(item["time"]),
                signature=base64.b64decode(item["signature"], validate=True),
            )
            for item in value["cosignatures"]
        ]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise WitnessFailed("the witness's answer is not a cosignature") from None
