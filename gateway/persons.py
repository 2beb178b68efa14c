"""Person tokens: a citizen's FranceConnect access token → who the citizen is.

FranceConnect access tokens are opaque: the only way to open one is to call the provider's
userinfo endpoint with it. FranceConnect v2 answers with a JWT signed by its own key, so the
identity is trusted only once the signature (key from the provider's JWKS, RS256 or ES256)
and the issuer hold. The answer is cached per token digest for a few minutes — never longer
than the token itself lives — so that a citizen's requests do not each cost a round trip.

Neither the token nor the identity is ever logged: only the reason of a refusal.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeGuard

import httpx
import orjson
from cachetools import TLRUCache
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from connectors import ConnectorError, FranceConnectToken, PivotIdentity
from exchange.errors import PersonTokenRefused
from gateway.errors import Unauthenticated
from gateway.tokens import JwksCache
from runtime.settings import Settings

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)

ALGORITHMS = frozenset({"RS256", "ES256"})  # what FranceConnect signs with
FRANCE = "99100"
LEEWAY_SECONDS = 30
MAX_USERINFO_BYTES = 16 * 1024
_SEXES: dict[str, Literal["M", "F"]] = {"male": "M", "female": "F"}
_UNAVAILABLE = "The identity provider is unavailable; try again later"


@dataclass(frozen=True)
class Citizen:
    """A citizen present behind a person token."""

    identity: PivotIdentity
    subject: str  # the provider's ``sub``: a pseudonym for this person and this gateway
    # Kept in memory only, to call API Particulier's FranceConnect routes on their behalf.
    token: str = field(repr=False)


class PersonTokenVerifier:
    """Opens FranceConnect access tokens at the provider's userinfo endpoint."""

    def __init__(
        self,
        userinfo_url: str,
        jwks_url: str,
        issuer: str,
        http: httpx.AsyncClient,
        clock: Clock,
        ttl: float = 300,
        *,
        cache_size: int = 10_000,
        jwks_ttl: float = 600.0,
    ) -> None:
        self._userinfo_url = userinfo_url
        self._issuer = issuer
        self._http = http
        self._clock = clock
        self._ttl = ttl
        self._keys = JwksCache(jwks_url, http, clock, jwks_ttl)
        self._registries = {alg: JWSRegistry(algorithms=[alg]) for alg in ALGORITHMS}
        # Each entry carries its own deadline: min(ttl, the token's remaining lifetime).
        self._cache: TLRUCache[str, tuple[Citizen, float]] = TLRUCache(
            maxsize=cache_size,
            ttu=lambda _key, value, _now: value[1],
            timer=lambda: clock().timestamp(),
        )

    async def verify(self, access_token: str) -> Citizen:
        """The citizen behind ``access_token``; ``Unauthenticated`` otherwise, never another
        exception (an unreachable provider is ``provider_unavailable``)."""
        try:
            FranceConnectToken(access_token)  # shape only: never send garbage upstream
        except ConnectorError:
            raise Unauthenticated("malformed") from None
        digest = hashlib.sha256(access_token.encode()).hexdigest()
        cached = self._cache.get(digest)
        if cached is not None:
            return cached[0]
        claims = await self._verified_claims(await self._userinfo(access_token))
        citizen = Citizen(identity_of(claims), _subject(claims), access_token)
        now = self._clock().timestamp()
        until = now + self._ttl
        exp = claims.get("exp")
        if _number(exp):
            until = min(until, float(exp))
        if until > now:
            self._cache[digest] = (citizen, until)
        return citizen

    async def identity(self, token: FranceConnectToken) -> PivotIdentity:
        """The pivot identity alone, for callers that hold a ``FranceConnectToken`` (the
        exchange's ``PersonTokens``): a refused token is the exchange's
        ``PersonTokenRefused``, told to the client as ``UNAUTHENTICATED``."""
        try:
            return (await self.verify(token.access_token)).identity
        except Unauthenticated as exc:
            # The caller's input, not a defect: the reason is logged, never told.
            log.info("person token refused", extra={"reason": exc.reason})
            message = exc.message
            if exc.reason != "provider_unavailable":
                message = "FranceConnect token refused: " + message[0].lower() + message[1:]
            raise PersonTokenRefused(message) from None

    async def _userinfo(self, access_token: str) -> bytes:
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/jwt"}
        try:
            response = await self._http.get(self._userinfo_url, headers=headers)
        except httpx.HTTPError:
            log.warning("person token: identity provider unreachable")
            raise Unauthenticated("provider_unavailable", _UNAVAILABLE) from None
        if response.status_code in (401, 403):
            raise Unauthenticated("person_token_rejected")
        if response.status_code >= 500 or response.status_code == 429:
            log.warning("person token: provider answered %s", response.status_code)
            raise Unauthenticated("provider_unavailable", _UNAVAILABLE)
        media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if response.status_code != 200 or media != "application/jwt":
            # An unsigned JSON userinfo is refused: anyone on the path could have written it.
            raise Unauthenticated("malformed")
        if len(response.content) > MAX_USERINFO_BYTES:
            raise Unauthenticated("malformed")
        return response.content

    async def _verified_claims(self, compact: bytes) -> dict[str, Any]:
        try:
            obj = jws.extract_compact(compact.strip())
            claims = orjson.loads(obj.payload)
        except (JoseError, ValueError, TypeError):
            raise Unauthenticated("malformed") from None
        header = obj.headers()
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(claims, dict) or {"crit", "jku", "jwk", "x5u", "x5c"} & header.keys():
            raise Unauthenticated("malformed")
        if alg not in ALGORITHMS:
            raise Unauthenticated("unsupported_algorithm")
        # The issuer picks nothing here (one provider), but a JWT from elsewhere is refused
        # before any key is fetched on its behalf.
        if claims.get("iss") != self._issuer:
            raise Unauthenticated("wrong_issuer")
        if not isinstance(kid, str):
            raise Unauthenticated("unknown_kid")
        try:
            key = await self._keys.get(kid)
        except Unauthenticated:
            raise Unauthenticated("provider_unavailable", _UNAVAILABLE) from None
        if key is None:
            raise Unauthenticated("unknown_kid")
        if alg not in key.algorithms:
            raise Unauthenticated("unsupported_algorithm")
        try:
            valid = jws.validate_compact(obj, key.key, registry=self._registries[alg])
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise Unauthenticated("bad_signature")
        exp = claims.get("exp")
        if exp is not None and (
            not _number(exp) or self._clock().timestamp() >= float(exp) + LEEWAY_SECONDS
        ):
            raise Unauthenticated("expired", "Access token expired")
        return claims


def identity_of(claims: dict[str, Any]) -> PivotIdentity:
    """FranceConnect's ``identite_pivot`` claims → API Particulier's pivot identity."""
    try:
        family, gender = claims["family_name"], claims["gender"]
        given = claims.get("given_name_array")
        if not isinstance(given, list) or not given:
            given = str(claims.get("given_name") or "").split()
        if not isinstance(family, str) or not all(isinstance(g, str) for g in given):
            raise TypeError
        country = claims["birthcountry"]
        place = claims.get("birthplace") or None
        usage = claims.get("preferred_username") or None
        return PivotIdentity(
            birth_name=family,
            # API Particulier takes three given names at most; the first ones identify best.
            given_names=tuple(given[:3]),
            birth_date=date.fromisoformat(claims["birthdate"]),
            sex=_SEXES[gender],
            birth_country=country,
            # FranceConnect may send a birthplace for someone born abroad; ours is France's.
            birth_place=place if country == FRANCE else None,
            usage_name=usage,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Unauthenticated("person_identity_invalid") from None
    except ConnectorError:
        raise Unauthenticated("person_identity_invalid") from None


def _subject(claims: dict[str, Any]) -> str:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("malformed")
    return sub


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def person_http_client(settings: Settings) -> httpx.AsyncClient:
    """The client for the provider: its own short timeout, so a slow provider fails fast."""
    return httpx.AsyncClient(timeout=settings.franceconnect_timeout)


def build_person_verifier(
    settings: Settings, http: httpx.AsyncClient, clock: Clock
) -> PersonTokenVerifier:
    """The verifier for the configured FranceConnect issuer (``http``: see above)."""
    return PersonTokenVerifier(
        settings.franceconnect_userinfo_url,
        settings.franceconnect_jwks_url,
        settings.franceconnect_issuer,
        http,
        clock,
        jwks_ttl=settings.jwks_cache_ttl,
    )
