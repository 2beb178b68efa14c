"""Signed checkpoints: the log's size and head at one moment, signed with Ed25519.

The signed message is a note after C2SP's ``tlog-checkpoint`` (the format of RFC 6962's
signed tree heads as Go's sumdb and Sigstore write them)::

    <origin>\\n<size>\\n<base64 head>\\n<signed_at, RFC 3339 UTC>\\n

The fourth line is a checkpoint extension line: signing the time too means that nobody can
move a checkpoint in time without the signature failing. The origin names the log (one per
deployment), so a checkpoint of one log never verifies for another.

``key_id`` is the first 8 bytes of SHA-256 of the raw 32-byte public key, in hex: short enough
to print, and it lets a verifier hold old keys beside the current one after a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.entry import format_time


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    head: bytes
    signed_at: datetime
    key_id: str
    signature: bytes

    def note(self) -> bytes:
        return note(self.origin, self.size, self.head, self.signed_at)


def note(origin: str, size: int, head: bytes, signed_at: datetime) -> bytes:
    """The signed text of a checkpoint."""
    if "\n" in origin or not origin:
        raise ValueError("a checkpoint origin is one non-empty line")
    encoded = base64.b64encode(head).decode("ascii")
    return f"{origin}\n{size:d}\n{encoded}\n{format_time(signed_at)}\n".encode()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def public_keys(*keys: Ed25519PublicKey) -> dict[str, Ed25519PublicKey]:
    """The mapping :func:`verify_checkpoint` and ``verify`` take, keyed by key id."""
    return {key_id_of(key): key for key in keys}


class CheckpointSigner:
    """Signs checkpoints with one Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CheckpointSigner:
        """From a raw 32-byte Ed25519 seed."""
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def from_file(cls, path: Path) -> CheckpointSigner:
        """From a PKCS#8 PEM file, created (mode 0600) with a new key if absent.

        Replicas starting together on a shared volume do not overwrite each other's key: the
        loser of the race reads the winner's.
        """
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = _create(path)
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the checkpoint key file does not hold an Ed25519 private key")
        return cls(key)

    def public_key_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, origin: str, size: int, head: bytes, at: datetime) -> Checkpoint:
        if at.tzinfo is None:
            raise ValueError("a checkpoint time must be timezone-aware")
        signature = self._private.sign(note(origin, size, head, at))
        return Checkpoint(origin, size, head, at, self.key_id, signature)


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written whole under a private name, then linked into place: link() fails if the name
    # exists, so a concurrent reader never sees a half-written key and the first key wins.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        temporary.unlink(missing_ok=True)
    return pem


def verify_checkpoint(cp: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """True if ``cp`` is signed by the key its ``key_id`` names, and that key is trusted."""
    key = public_keys.get(cp.key_id)
    # The id is recomputed: a mapping built by hand under the wrong id trusts nothing.
    if key is None or key_id_of(key) != cp.key_id:
        return False
    try:
        key.verify(cp.signature, note(cp.origin, cp.size, cp.head, cp.signed_at))
    except (InvalidSignature, ValueError):
        return False
    return True
