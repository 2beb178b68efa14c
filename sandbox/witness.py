"""A cosigning witness for audit logs, after C2SP's ``tlog-witness``
(https://github.com/C2SP/C2SP/blob/main/tlog-witness.md).

``POST /add-checkpoint`` takes ``{"old_size": n, "checkpoint": {origin, size, head,
signed_at, key_id, signature}}`` (head and signature base64). The witness

- answers 404 for a log it does not know (its public key is registered first, with
  ``POST /_sandbox/logs {"origin", "public_key": PEM}``; a real witness is configured with it),
- 403 if the checkpoint is not signed by that key,
- 400 if ``old_size`` is beyond the checkpoint's size,
- 409 with ``{"size": latest}`` if ``old_size`` is not the size it last cosigned (the log
  sends again from there), and with ``"conflict": true`` if it already cosigned another head
  at that size, or a larger size (the log went backwards),
- 200 with its cosignature otherwise: Ed25519 over ``cosignature/v1\\ntime <unix>\\n`` and the
  checkpoint's note, as C2SP's ``tlog-cosignature`` signs.

Like tlog-witness without proofs, it cannot tell that a larger head extends the smaller one;
``unefois audit verify`` against its checkpoints (``GET /checkpoint?origin=…``) does that.
State is in memory: the sandbox's witness forgets everything when it stops.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WITNESS_NAME = "sandbox.unefois.witness"


def _key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _note(checkpoint: dict[str, Any]) -> bytes:
    # The log's signed text (its checkpoint format): origin, size, base64 head, signing time.
    return (
        f"{checkpoint['origin']}\n{int(checkpoint['size']):d}\n{checkpoint['head']}\n"
        f"{checkpoint['signed_at']}\n"
    ).encode()


@dataclass
class WitnessState:
    """What the witness knows: each log's key, and the last checkpoint it cosigned."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    name: str = WITNESS_NAME
    clock: Callable[[], float] = time.time
    logs: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def public_key_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def add(self, old_size: int, checkpoint: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body for one ``add-checkpoint``."""
        origin = str(checkpoint["origin"])
        size = int(checkpoint["size"])
        key = self.logs.get(origin)
        if key is None:
            return 404, {"error": "unknown log"}
        if _key_id(key) != checkpoint["key_id"]:
            return 403, {"error": "not signed by the log's key"}
        try:
            key.verify(base64.b64decode(checkpoint["signature"], validate=True), _note(checkpoint))
        except (InvalidSignature, ValueError):
            return 403, {"error": "bad signature"}
        if old_size > size:
            return 400, {"error": "old size beyond the checkpoint"}
        with self.lock:
            seen = self.latest.get(origin)
            seen_size = int(seen["size"]) if seen else 0
            if seen is not None and size == seen_size and checkpoint["head"] != seen["head"]:
                return 409, {"size": seen_size, "conflict": True}
            if size < seen_size:
                return 409, {"size": seen_size, "conflict": True}
            if old_size != seen_size:
                return 409, {"size": seen_size}
            self.latest[origin] = dict(checkpoint)
        now = int(self.clock())
        message = f"cosignature/v1\ntime {now:d}\n".encode() + _note(checkpoint)
        cosignature = {
            "witness": self.name,
            "key_id": _key_id(self.key.public_key()),
            "time": now,
            "signature": base64.b64encode(self.key.sign(message)).decode("ascii"),
        }
        return 200, {"cosignatures": [cosignature]}


def build_app(state: WitnessState | None = None) -> Starlette:
    witness = state or WitnessState()

    async def add_checkpoint(request: Request) -> Response:
        try:
            body = await request.json()
            old_size = int(body["old_size"])
            checkpoint = dict(body["checkpoint"])
            for name in ("origin", "size", "head", "signed_at", "key_id", "signature"):
                if name not in checkpoint:
                    raise KeyError(name)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "not a checkpoint"}, status_code=400)
        status, answer = witness.add(old_size, checkpoint)
        return JSONResponse(answer, status_code=status)

    async def register(request: Request) -> Response:
        try:
            body = await request.json()
            key = serialization.load_pem_public_key(str(body["public_key"]).encode())
            origin = str(body["origin"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "origin and an Ed25519 public_key PEM"}, 400)
        if not isinstance(key, Ed25519PublicKey):
            return JSONResponse({"error": "not an Ed25519 key"}, status_code=400)
        witness.logs[origin] = key
        return JSONResponse({"origin": origin, "key_id": _key_id(key)})

    async def latest(request: Request) -> Response:
        checkpoint = witness.latest.get(request.query_params.get("origin", ""))
        if checkpoint is None:
            return JSONResponse({"error": "no checkpoint"}, status_code=404)
        return JSONResponse(checkpoint)

    async def public_key(request: Request) -> Response:
        return Response(witness.public_key_pem(), media_type="application/x-pem-file")

    app = Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/checkpoint", latest, methods=["GET"]),
            Route("/public-key", public_key, methods=["GET"]),
            Route("/_sandbox/logs", register, methods=["POST"]),
        ]
    )
    app.state.witness = witness
    return app
