"""Signing keys for the access tokens this gateway issues.

The keys are a private JWK set: given by ``UNEFOIS_SIGNING_KEYS`` or the file
``UNEFOIS_SIGNING_KEYS_FILE`` names (a mounted secret, the same on every replica), else kept in
``<data_dir>/signing-keys.json`` (mode 0600), created on first start. Each key has its
RFC 7638 thumbprint as ``kid`` and its JWS ``alg``. Rotation
(``unefois keys rotate``) appends a key: the last key of the set signs, every key of the set
verifies, so tokens signed before a rotation stay valid until they expire; an old key is
retired by deleting it from the file once its last token has expired (``token_ttl`` after
the rotation). A running gateway follows the file: before signing, and when a token names a
``kid`` it does not know, it looks at the file (one ``stat``) and reloads it if it changed,
so a rotation takes effect without a restart, on every replica reading the same file (the
configured one, or a shared data directory). A set given as a variable's value is fixed.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, KeySet, OKPKey

from gateway.errors import ConfigurationError
from runtime.settings import Settings

KEYS_FILE = "signing-keys.json"

log = logging.getLogger(__name__)

# JOSE algorithm → how to make a key for it. Ed25519 is the RFC 9864 name of EdDSA over
# Ed25519 (joserfc deprecates the polymorphic "EdDSA"); ES256 for verifiers without it.
SIGNING_ALGORITHMS = ("Ed25519", "ES256")

SigningKey = OKPKey | ECKey


def generate_key(alg: str) -> SigningKey:
    params: KeyParameters = {"alg": alg, "use": "sig"}
    key: SigningKey
    if alg == "Ed25519":
        key = OKPKey.generate_key("Ed25519", parameters=params, private=True)
    elif alg == "ES256":
        key = ECKey.generate_key("P-256", parameters=params, private=True)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}; use one of {SIGNING_ALGORITHMS}")
    key.ensure_kid()
    return key


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    alg: str
    key: SigningKey  # public part only


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells that the file changed: a rewrite is a new inode (atomic replace)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


class SigningKeys:
    """An ordered set of private keys: the newest signs, all verify.

    Built from a file (``source``), the set follows that file: ``refresh`` reloads it when it
    changed, and ``version`` counts the reloads so that users of the set can rebuild what they
    derived from it.
    """

    def __init__(self, keys: list[SigningKey], source: Path | None = None) -> None:
        self._source = source
        self._stamp = _stamp(source) if source is not None else None
        self.version = 0
        self._set(keys)

    def _set(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        public_keys: dict[str, VerificationKey] = {}
        for key in keys:
            kid, alg = key.kid, key.alg
            if not kid or alg not in SIGNING_ALGORITHMS:
                raise ValueError("every signing key needs a kid and a supported alg")
            public = type(key).import_key(key.as_dict(private=False))
            public_keys[kid] = VerificationKey(kid, alg, public)
        self._keys = list(keys)
        self._public = public_keys

    def refresh(self) -> bool:
        """Reload the source file if it changed; True when the keys changed."""
        if self._source is None:
            return False
        stamp = _stamp(self._source)
        if stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            loaded = _parse(self._source, self._source.read_bytes())
        except (ConfigurationError, OSError) as exc:
            # A half-edited or unreadable file must not stop token issuance: keep the keys in
            # use, say so, and try again when the file changes once more.
            log.warning("signing keys not reloaded", extra={"outcome": str(exc)})
            return False
        self._set(loaded._keys)
        self.version += 1
        return True

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    @property
    def algorithms(self) -> frozenset[str]:
        return frozenset(k.alg for k in self._public.values())

    def verification_keys(self) -> Mapping[str, VerificationKey]:
        return dict(self._public)

    def public_jwks(self) -> dict[str, Any]:
        """The JWK set served at ``/.well-known/jwks.json``: public members only."""
        return {"keys": [key.as_dict(private=False) for key in self._keys]}

    def private_jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=True) for key in self._keys]}

    def with_key(self, key: SigningKey) -> SigningKeys:
        """A new set where ``key`` is the newest, hence the signing key."""
        return SigningKeys([*self._keys, key])

    def sign(self, claims: Mapping[str, Any], typ: str = "at+jwt") -> str:
        self.refresh()
        key = self.current
        header = {"alg": key.alg, "kid": key.kid, "typ": typ}
        return jwt.encode(header, dict(claims), key, algorithms=[str(key.alg)])


def _parse(path: Path | str, raw: bytes, source: Path | None = None) -> SigningKeys:
    """The set in ``raw``; messages name ``path`` (a file, or the variable that held it)."""
    try:
        document = orjson.loads(raw)
        key_set = KeySet.import_key_set(document)
    except (orjson.JSONDecodeError, JoseError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"{path}: not a JWK set ({exc.__class__.__name__})") from None
    keys: list[SigningKey] = []
    for i, key in enumerate(key_set.keys):
        if not isinstance(key, OKPKey | ECKey) or not key.is_private:
            raise ConfigurationError(f"{path}: keys[{i}]: must be a private OKP or EC key")
        if key.alg not in SIGNING_ALGORITHMS:
            raise ConfigurationError(f"{path}: keys[{i}].alg: must be one of {SIGNING_ALGORITHMS}")
        if key.kid != key.thumbprint():
            raise ConfigurationError(f"{path}: keys[{i}].kid: must be the RFC 7638 thumbprint")
        keys.append(key)
    try:
        return SigningKeys(keys, source)
    except ValueError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None


def _write_private(path: Path, keys: SigningKeys, *, exclusive: bool) -> bool:
    """Write the key set with mode 0600; with ``exclusive``, only if the file is absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(keys.private_jwks(), option=orjson.OPT_INDENT_2)
    # mkstemp creates the file 0600, so the private keys are never readable by others, not
    # even for the instant between creation and chmod.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-keys-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            try:
                # link() fails if the target exists: two replicas starting at once keep one set.
                os.link(tmp, path)
            except FileExistsError:
                return False
            except OSError:
                # Some volume drivers have no hard links; fall back to a plain atomic rename.
                if path.exists():
                    return False
                os.replace(tmp, path)
                tmp = ""
        else:
            os.replace(tmp, path)
            tmp = ""
        return True
    finally:
        if tmp:
            os.unlink(tmp)


def load_or_create(data_dir: Path, alg: str) -> SigningKeys:
    """The key set of ``data_dir``, created with one ``alg`` key on first start."""
    path = data_dir / KEYS_FILE
    if not path.exists():
        _write_private(path, SigningKeys([generate_key(alg)]), exclusive=True)
    return _parse(path, path.read_bytes(), source=path)


def load(data_dir: Path) -> SigningKeys:
    """The key set of ``data_dir``; a ``ConfigurationError`` if there is none."""
    path = data_dir / KEYS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no signing keys (the gateway creates them)") from None
    return _parse(path, raw, source=path)


def load_file(path: Path) -> SigningKeys:
    """The key set in the file ``path``, followed as it changes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such key set") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
    return _parse(path, raw, source=path)


def configured(settings: Settings) -> SigningKeys | None:
    """The set the settings give (a file is followed as it changes); None: the data directory's."""
    if settings.signing_keys_file is not None:
        return load_file(settings.signing_keys_file)
    if settings.signing_keys is not None:
        return _parse("UNEFOIS_SIGNING_KEYS", settings.signing_keys.encode("utf-8"))
    return None


def for_settings(settings: Settings) -> SigningKeys:
    """The configured set, else the data directory's, created on first start."""
    given = configured(settings)
    return given if given is not None else load_or_create(settings.data_dir, settings.signing_alg)


def rotate(data_dir: Path, alg: str) -> SigningKeys:
    """Append a new ``alg`` key, which signs from now on (running gateways follow the file)."""
    rotated = load(data_dir).with_key(generate_key(alg))
    _write_private(data_dir / KEYS_FILE, rotated, exclusive=False)
    return rotated


def rotate_file(path: Path, alg: str, base: SigningKeys | None = None) -> SigningKeys:
    """Append a new ``alg`` key to the set in ``path`` and replace the file atomically (mode
    0600). A missing file starts from ``base``, or else holds the new key alone."""
    key = generate_key(alg)
    if path.exists():
        rotated = load_file(path).with_key(key)
    else:
        rotated = base.with_key(key) if base is not None else SigningKeys([key])
    _write_private(path, rotated, exclusive=False)
    return rotated
