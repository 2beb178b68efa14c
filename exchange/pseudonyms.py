"""Sector pseudonyms and handles (DESIGN §5, after Austria's bPK).

From one gateway secret, per sector:

- a *pseudonym*, ``HMAC-SHA256(k, normalised identity ‖ sector)``: one-way, stable, the key
  under which the gateway files what it must keep about a person (consents, audit entries);
- a *handle*, the normalised identity sealed with AES-SIV under a key derived for the sector:
  a client may send it back as a person reference, and only the gateway can open it. AES-SIV
  is deterministic, so one person has one handle per sector; handles of two sectors cannot be
  linked, nor opened across sectors, without the secret. Nothing about the person is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from connectors import ConnectorError, PivotIdentity, normalise_name
from exchange.errors import InvalidRequest

HANDLE_PREFIX = "h1."
MIN_SECRET_BYTES = 32
CONSENT_SECTOR = "consent"
AUDIT_SECTOR = "audit"
# Proactive offers and opt-outs are filed under this sector's pseudonym: the campaign that
# finds a person and the form they later submit must name them alike.
PROACTIVE_SECTOR = "proactive"


def _derive(secret: bytes, purpose: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(secret)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalised(identity: PivotIdentity) -> PivotIdentity:
    """The identity as agencies match it: names upper-case, accents and extra spaces gone."""
    return PivotIdentity(
        birth_name=normalise_name(identity.birth_name),
        given_names=tuple(normalise_name(n) for n in identity.given_names),
        birth_date=identity.birth_date,
        sex=identity.sex,
        birth_country=identity.birth_country,
        birth_place=identity.birth_place,
        usage_name=normalise_name(identity.usage_name) if identity.usage_name else None,
    )


class Pseudonyms:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the pseudonym secret needs at least {MIN_SECRET_BYTES} bytes")
        self._mac_key = _derive(secret, b"unefois pseudonym", 32)
        self._seal_secret = _derive(secret, b"unefois handle", 32)
        self._sealers: dict[str, AESSIV] = {}

    def pseudonym(self, identity: PivotIdentity, sector: str) -> str:
        message = f"{identity.key()}|{sector}".encode()
        return _b64(hmac.new(self._mac_key, message, hashlib.sha256).digest())

    def handle(self, identity: PivotIdentity, sector: str) -> str:
        n = normalised(identity)
        plain = orjson.dumps(
            [
                n.birth_name,
                list(n.given_names),
                n.birth_date.isoformat(),
                n.sex,
                n.birth_country,
                n.birth_place,
                n.usage_name,
            ]
        )
        return HANDLE_PREFIX + _b64(self._sealer(sector).encrypt(plain, [sector.encode()]))

    def open(self, handle: str, sector: str) -> PivotIdentity:
        """The identity behind a handle issued to ``sector``; any other handle is refused."""
        refused = InvalidRequest("this handle was not issued to your sector, or is malformed")
        if not handle.startswith(HANDLE_PREFIX) or len(handle) > 1024:
            raise refused
        try:
            text = handle[len(HANDLE_PREFIX) :]
            sealed = _unb64(text)
            if _b64(sealed) != text:
                # Base64 leaves spare bits in its last character: only the canonical spelling
                # of a handle is accepted, so one handle has exactly one text.
                raise ValueError("non-canonical handle")
            plain = self._sealer(sector).decrypt(sealed, [sector.encode()])
            name, given, born, sex, country, place, usage = orjson.loads(plain)
            return PivotIdentity(
                birth_name=name,
                given_names=tuple(given),
                birth_date=date.fromisoformat(born),
                sex=sex,
                birth_country=country,
                birth_place=place,
                usage_name=usage,
            )
        except (InvalidTag, ValueError, TypeError, ConnectorError):
            raise refused from None

    def _sealer(self, sector: str) -> AESSIV:
        sealer = self._sealers.get(sector)
        if sealer is None:
            # AES-256-SIV takes a 512-bit key; one per sector, derived once.
            key = _derive(self._seal_secret, b"sector " + sector.encode(), 64)
            sealer = self._sealers[sector] = AESSIV(key)
        return sealer
