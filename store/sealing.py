"""Sealing a small JSON value at rest: AES-256-GCM under a key of the gateway's own.

What must be kept about a person between two steps, read back later by whichever process
takes the next step, is sealed so that the database alone does not give it away: the pivot
identity behind a dossier created on démarches-simplifiées (until the person submits it), the
persons of a campaign's batch (until a worker runs it). The key is derived from the pseudonym
secret (every replica and worker shares it); the associated data binds a sealed value to its
row, so that a value copied onto another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
VERSION = "v1."


class SealBroken(Exception):
    """The sealed value was altered, belongs to another row, or was sealed under another key."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a sealing key is 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, value: Mapping[str, Any], binding: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        sealed = self._aead.encrypt(nonce, plain, binding.encode())
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str, binding: str) -> dict[str, Any]:
        if not token.startswith(VERSION):
            raise SealBroken("unknown sealing version")
        try:
            raw = base64.b64decode(token[len(VERSION) :], altchars=b"-_", validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], binding.encode())
            value = json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag, UnicodeError):
            raise SealBroken("the sealed value does not open") from None
        if not isinstance(value, dict):
            raise SealBroken("the sealed value is not an object")
        return value
