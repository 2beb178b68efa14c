"""Bearer access tokens: reading the header and verifying the JWT.

Accepted tokens are JWTs (RFC 9068 profile) signed by this gateway's own keys, or by the one
trusted external authorisation server whose JWK set is fetched from its URL. The issuer
claim chooses the key set *before* the signature is checked, so a key of one issuer can
never vouch for a token claiming to come from the other. Algorithms come from an allow-list
and must match the key's own ``alg``: no ``none``, no HMAC, no public-key-as-secret.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

import httpx
import orjson
from cachetools import LRUCache
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from gateway.errors import Unauthenticated
from gateway.keys import SigningKeys
from runtime.settings import Settings

Clock = Callable[[], datetime]

LEEWAY_SECONDS = 30
MAX_TOKEN_BYTES = 8 * 1024
# What an external issuer may sign with: asymmetric only, so a public JWK can never be
# turned into a shared secret. "EdDSA" is the pre-RFC 9864 name still used by most servers.
EXTERNAL_ALGORITHMS = frozenset({"RS256", "PS256", "ES256", "Ed25519", "EdDSA"})
_ALGS_BY_KEY = {
    "RSA": frozenset({"RS256", "PS256"}),
    "EC": frozenset({"ES256"}),
    "OKP": frozenset({"Ed25519", "EdDSA"}),
}
VERIFIED_CACHE_SIZE = 10_000
# RFC 7519 §2 NumericDate: seconds since the epoch. Accepted from 1970 to the last second of
# year 9999, the range a datetime holds: anything outside is no time a token of ours or of a
# real issuer carries, and past 9999 it cannot even be turned into the principal's expiry.
_LAST_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# RFC 6750 §2.1 b64token
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
_HEADER_REJECTED = frozenset({"crit", "b64", "jku", "jwk", "x5u", "x5c"})

VerifyingKey = OKPKey | ECKey | RSAKey


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    issuer: str
    token_id: str
    expires_at: datetime
    issued_at: datetime | None = None


@dataclass(frozen=True)
class _Key:
    key: VerifyingKey
    algorithms: frozenset[str]


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer`` header (pass Starlette's case-insensitive
    ``Headers``)."""
    value = headers.get("authorization")
    if not value:
        raise Unauthenticated("missing_token", "Missing bearer token")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _B64TOKEN.match(token):
        raise Unauthenticated("bad_header", "Authorization header must be 'Bearer <token>'")
    return token


def www_authenticate(error: Unauthenticated, realm: str = "unefois") -> str:
    """The RFC 6750 §3 challenge for a refused request."""
    if error.reason == "missing_token":
        return f'Bearer realm="{realm}"'
    code = "invalid_request" if error.reason == "bad_header" else "invalid_token"
    return f'Bearer realm="{realm}", error="{code}"'


class JwksCache:
    """The trusted issuer's public keys, fetched over HTTP and kept ``ttl`` seconds.

    An unknown ``kid`` triggers one refetch (the issuer may have rotated), but never more
    often than every ``min_refetch`` seconds, so forged kids cannot make us hammer the issuer.
    """

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        clock: Clock,
        ttl: float = 600.0,
        min_refetch: float = 30.0,
    ) -> None:
        self._url = url
        self._http = http
        self._clock = clock
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._keys: dict[str, _Key] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> _Key | None:
        now = self._clock().timestamp()
        stale = self._fetched_at is None or now - self._fetched_at >= self._ttl
        if stale or kid not in self._keys:
            await self._refresh(now)
        if not self._keys and self._fetched_at is None:
            raise Unauthenticated("jwks_unavailable")
        return self._keys.get(kid)

    async def _refresh(self, now: float) -> None:
        async with self._lock:
            # Another task may have refreshed while we waited for the lock.
            if self._attempted_at is not None and now - self._attempted_at < self._min_refetch:
                return
            self._attempted_at = now
            try:
                response = await self._http.get(self._url, headers={"accept": "application/json"})
                response.raise_for_status()
                keys = _import_jwks(orjson.loads(response.content))
            except (httpx.HTTPError, orjson.JSONDecodeError, ValueError, TypeError):
                # Keep serving the keys we had: an issuer outage must not log everyone out.
                return
            self._keys = keys
            self._fetched_at = now


def _import_jwks(document: Any) -> dict[str, _Key]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, _Key] = {}
    for raw in document["keys"]:
        if not isinstance(raw, dict) or raw.get("use", "sig") != "sig":
            continue
        kid, kty, alg = raw.get("kid"), raw.get("kty"), raw.get("alg")
        allowed = _ALGS_BY_KEY.get(kty) if isinstance(kty, str) else None
        if not isinstance(kid, str) or allowed is None:
            continue
        if alg is not None:
            if alg not in allowed or alg not in EXTERNAL_ALGORITHMS:
                continue
            allowed = frozenset({alg})
        public = {k: v for k, v in raw.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        try:
            imported = KeySet.import_key_set({"keys": [public]}).keys[0]
        except (JoseError, ValueError, KeyError, TypeError):
            continue
        if isinstance(imported, OKPKey | ECKey | RSAKey):
            keys[kid] = _Key(imported, allowed)
    return keys


class TokenVerifier:
    """Checks bearer JWTs and returns who is calling."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: SigningKeys,
        clock: Clock,
        trusted_issuer: str | None = None,
        trusted_keys: JwksCache | None = None,
        leeway: int = LEEWAY_SECONDS,
    ) -> None:
        if (trusted_issuer is None) != (trusted_keys is None):
            raise ValueError("trusted_issuer and trusted_keys go together")
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._leeway = leeway
        self._trusted_issuer = trusted_issuer
        self._trusted_keys = trusted_keys
        self._keys = keys
        self._index_keys()
        # Signature checks are the costliest step of a request's authentication, and a client
        # reuses its token for minutes: remember the tokens whose signature held.
        self._verified: LRUCache[str, tuple[str, dict[str, Any]]] = LRUCache(VERIFIED_CACHE_SIZE)

    def _index_keys(self) -> None:
        # Parsed once per key set: the hot path only looks keys and registries up.
        keys = self._keys
        self._keys_version = keys.version
        self._own = {
            kid: _Key(vk.key, frozenset({vk.alg})) for kid, vk in keys.verification_keys().items()
        }
        external = EXTERNAL_ALGORITHMS if self._trusted_issuer else frozenset()
        self._registries = {
            alg: JWSRegistry(algorithms=[alg]) for alg in keys.algorithms | external
        }

    def _follow_rotation(self) -> bool:
        """After a rotation (maybe by another process) a token may name a key we have not
        loaded yet: look at the key file again. True if the keys changed."""
        self._keys.refresh()
        if self._keys.version == self._keys_version:
            return False
        self._index_keys()
        return True

    async def verify(self, token: str) -> Principal:
        seen = self._verified.get(token)
        if seen is not None:
            # The signature of this exact token was checked already; time and audience are
            # checked again on every use.
            return self._principal(*seen)
        return await self._verify_signed(token)

    async def _verify_signed(self, token: str) -> Principal:
        if self._keys.version != self._keys_version:  # the signer reloaded the file
            self._index_keys()
        obj, header, claims = self._parse(token)
        issuer = claims.get("iss")
        if not isinstance(issuer, str):
            raise Unauthenticated("wrong_issuer")
        if issuer == self._issuer:
            typ = header.get("typ")
            if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPES:
                raise Unauthenticated("wrong_type")
            key = self._own.get(header["kid"])
            if key is None and self._follow_rotation():
                key = self._own.get(header["kid"])
        elif self._trusted_keys is not None and issuer == self._trusted_issuer:
            key = await self._trusted_keys.get(header["kid"])
        else:
            raise Unauthenticated("wrong_issuer")
        if key is None:
            raise Unauthenticated("unknown_kid")
        alg = header["alg"]
        if alg not in key.algorithms:
            raise Unauthenticated("unsupported_algorithm")
        try:
            valid = jws.validate_compact(obj, key.key, registry=self._registries[alg])
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise Unauthenticated("bad_signature")
        principal = self._principal(issuer, claims)
        self._verified[token] = (issuer, claims)
        return principal

    def _parse(self, token: str) -> tuple[jws.CompactSignature, dict[str, Any], dict[str, Any]]:
        raw = token.encode("ascii", errors="replace")
        if len(raw) > MAX_TOKEN_BYTES:
            raise Unauthenticated("malformed")
        try:
            obj = jws.extract_compact(raw)
            claims = orjson.loads(obj.payload)
        except (JoseError, ValueError, TypeError):
            raise Unauthenticated("malformed") from None
        header = obj.headers()
        if not isinstance(claims, dict) or _HEADER_REJECTED & header.keys():
            raise Unauthenticated("malformed")
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise Unauthenticated("unsupported_algorithm")
        if alg not in self._registries and not (
            self._follow_rotation() and alg in self._registries
        ):
            raise Unauthenticated("unsupported_algorithm")
        if not isinstance(header.get("kid"), str):
            raise Unauthenticated("unknown_kid")
        return obj, header, claims

    def _principal(self, issuer: str, claims: dict[str, Any]) -> Principal:
        now = self._clock().timestamp()
        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf", 0)
        if not _time(exp) or not _time(iat) or not _time(nbf):
            raise Unauthenticated("malformed")
        if now >= exp + self._leeway:
            raise Unauthenticated("expired", "Access token expired")
        if iat > now + self._leeway or nbf > now + self._leeway or exp <= iat:
            raise Unauthenticated("not_yet_valid")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or self._audience not in audiences:
            raise Unauthenticated("wrong_audience")
        client_id, jti, sub = claims.get("client_id"), claims.get("jti"), claims.get("sub")
        if not _text(client_id) or not _text(jti) or not _text(sub):
            raise Unauthenticated("malformed")
        return Principal(
            client_id=client_id,
            scopes=_scopes(claims),
            issuer=issuer,
            token_id=jti,
            expires_at=datetime.fromtimestamp(exp, UTC),
            issued_at=datetime.fromtimestamp(iat, UTC),
        )


def build_token_verifier(
    settings: Settings, keys: SigningKeys, clock: Clock, http: httpx.AsyncClient | None = None
) -> TokenVerifier:
    """The verifier for ``settings``; ``http`` (with a short timeout) fetches the trusted
    issuer's keys and is required when one is configured."""
    trusted_keys = None
    if settings.trusted_issuer and settings.trusted_jwks_url:
        if http is None:
            raise ValueError("a trusted issuer is configured: pass an httpx.AsyncClient")
        trusted_keys = JwksCache(settings.trusted_jwks_url, http, clock, settings.jwks_cache_ttl)
    return TokenVerifier(
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        keys=keys,
        clock=clock,
        trusted_issuer=settings.trusted_issuer if trusted_keys else None,
        trusted_keys=trusted_keys,
    )


def _time(value: Any) -> TypeGuard[float]:
    """A NumericDate in the accepted range (a bool is an int to Python, not to JSON)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return 0 <= value <= _LAST_TIME


def _text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if scope is None:
        scope = claims.get("scp", [])  # the list form some issuers use
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scope, list) and all(isinstance(s, str) for s in scope):
        return frozenset(scope)
    raise Unauthenticated("malformed")
