"""API clients: who may ask the gateway for a token, with which scopes.

The registry lives in the database (``store.ClientStore``, managed with ``unefois clients``);
this module holds its in-memory view, the secret hashes, and the YAML import format::

    clients:
      - id: demo-agency-app
        name: Demo agency application
        secret_hash: scrypt$16384$8$1$<salt b64>$<hash b64>
        scopes: [person:read, eligibility:read]
        sector: social
        audience: unefois        # optional: the resource server its tokens are meant for

Only hashes of secrets are stored, so a leaked file does not leak credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from gateway.errors import ConfigurationError

# Client secrets are generated, high-entropy strings, not human passwords: scrypt at N=2^14
# (~16 MiB, tens of ms) already makes offline guessing pointless while keeping the token
# endpoint cheap. The parameters are stored with each hash, so they can be raised later.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# Refuse parameters that would let a crafted file exhaust memory or CPU at verification.
_MAX_N = 2**20
_MAXMEM = 256 * 1024 * 1024

DEMO_CLIENT_ID = "demo-agency-app"
DEMO_SCOPES = ("person:read", "eligibility:read", "prefill:read", "prefill:write")

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_FIELDS = frozenset({"id", "name", "secret_hash", "scopes", "sector", "audience"})
_REQUIRED = ("id", "name", "secret_hash", "scopes", "sector")


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    sector: str
    audience: str | None = None
    active: bool = True
    # Tokens issued before the secret last changed are no longer accepted.
    secret_rotated_at: datetime | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=_MAXMEM
    )


def hash_secret(secret: str, n: int | None = None, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Hash a client secret for the clients file (``scrypt$n$r$p$salt$hash``)."""
    n = SCRYPT_N if n is None else n
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(secret, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


@dataclass(frozen=True)
class _Hash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def _parse_hash(encoded: str) -> _Hash:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("expected scrypt$n$r$p$salt$hash")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise ValueError("expected integers n, r, p and base64 salt and hash") from None
    if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ValueError("scrypt parameters out of range")
    if len(salt) < 8 or len(digest) != _HASH_BYTES:
        raise ValueError("salt or hash has the wrong length")
    return _Hash(n, r, p, salt, digest)


def _cost(encoded: str) -> tuple[int, int, int]:
    parsed = _parse_hash(encoded)
    return parsed.n, parsed.r, parsed.p


def verify_secret(secret: str, encoded: str) -> bool:
    parsed = _parse_hash(encoded)
    candidate = _scrypt(secret, parsed.salt, parsed.n, parsed.r, parsed.p)
    return hmac.compare_digest(candidate, parsed.digest)


class ClientRegistry:
    """The configured clients, looked up by id."""

    def __init__(self, clients: Iterable[Client], previous: ClientRegistry | None = None) -> None:
        self._clients: dict[str, Client] = {}
        for client in clients:
            if client.id in self._clients:
                raise ValueError(f"duplicate client id {client.id!r}")
            self._clients[client.id] = client
        # Spent on unknown ids so that response time does not reveal which ids exist. Its
        # parameters are those most clients' hashes use (raised parameters cost more): an
        # unknown id then takes as long as a known one. A new version of the registry keeps
        # the previous decoy when those parameters did not change: making one costs a hash.
        costs = Counter(_cost(c.secret_hash) for c in self._clients.values())
        n, r, p = costs.most_common(1)[0][0] if costs else (SCRYPT_N, SCRYPT_R, SCRYPT_P)
        self._decoy: str
        if previous is not None and _cost(previous._decoy) == (n, r, p):
            self._decoy = previous._decoy
        else:
            self._decoy = hash_secret(secrets.token_urlsafe(32), n, r, p)

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def __len__(self) -> int:
        return len(self._clients)

    def clients(self) -> list[Client]:
        return list(self._clients.values())

    def all_scopes(self) -> frozenset[str]:
        return frozenset().union(*(c.scopes for c in self._clients.values()))

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        """The client if it is active and ``secret`` is its secret; one scrypt is spent
        either way (a disabled client's id costs what an unknown one does)."""
        client = self._clients.get(client_id)
        usable = client if client is not None and client.active else None
        ok = verify_secret(secret, usable.secret_hash if usable else self._decoy)
        return usable if ok else None


def _fail(path: Path, key: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{path}: {key}: {problem}")


def _string(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, "must be a non-empty string")
    return value


def _client(path: Path, where: str, raw: Any) -> Client:
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "must be a mapping")
    unknown = sorted(set(raw) - _FIELDS, key=str)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", "unknown key")
    for name in _REQUIRED:
        if name not in raw:
            raise _fail(path, f"{where}.{name}", "missing")
    client_id = _string(path, f"{where}.id", raw["id"])
    if not _ID.match(client_id):
        raise _fail(path, f"{where}.id", "letters, digits, '.', '_' or '-' (at most 64)")
    secret_hash = _string(path, f"{where}.secret_hash", raw["secret_hash"])
    try:
        _parse_hash(secret_hash)
    except ValueError as exc:
        raise _fail(path, f"{where}.secret_hash", str(exc)) from None
    scopes = raw["scopes"]
    if not isinstance(scopes, list) or not scopes:
        raise _fail(path, f"{where}.scopes", "must be a non-empty list")
    for i, scope in enumerate(scopes):
        if not isinstance(scope, str) or not _SCOPE.match(scope):
            raise _fail(path, f"{where}.scopes[{i}]", "must be a scope token without spaces")
    audience = raw.get("audience")
    if audience is not None:
        audience = _string(path, f"{where}.audience", audience)
    return Client(
        id=client_id,
        name=_string(path, f"{where}.name", raw["name"]),
        secret_hash=secret_hash,
        scopes=frozenset(scopes),
        sector=_string(path, f"{where}.sector", raw["sector"]),
        audience=audience,
    )


def parse_clients(path: Path, text: str) -> ClientRegistry:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, Mapping):
        raise _fail(path, "clients", "missing (the file must be a mapping with 'clients')")
    unknown = sorted(set(document) - {"clients"}, key=str)
    if unknown:
        raise _fail(path, str(unknown[0]), "unknown key")
    if "clients" not in document:
        raise _fail(path, "clients", "missing")
    raw_clients = document["clients"]
    if not isinstance(raw_clients, list):
        raise _fail(path, "clients", "must be a list")
    clients = [_client(path, f"clients[{i}]", raw) for i, raw in enumerate(raw_clients)]
    seen: set[str] = set()
    for i, client in enumerate(clients):
        if client.id in seen:
            raise _fail(path, f"clients[{i}].id", f"duplicate id {client.id!r}")
        seen.add(client.id)
    return ClientRegistry(clients)


def load_clients(path: Path) -> ClientRegistry:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_clients(path, text)


def ensure_default_clients(path: Path) -> str | None:
    """Create a clients file at ``path`` holding the demo client, to be imported.

    Returns the demo client's secret when the file was created — it exists nowhere else, so
    the caller must show it once — and ``None`` when the file was already there.
    """
    secret = secrets.token_urlsafe(32)
    document = {
        "clients": [
            {
                "id": DEMO_CLIENT_ID,
                "name": "Demo agency application",
                "secret_hash": hash_secret(secret),
                "scopes": list(DEMO_SCOPES),
                "sector": "social",
            }
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting together must not both write (and print) a secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# API clients of this gateway; secrets are stored as scrypt hashes.\n")
        yaml.safe_dump(document, out, sort_keys=False)
    return secret
