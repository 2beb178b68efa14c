import asyncio
import base64
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.errors import Unauthenticated
from gateway.keys import SigningKeys, generate_key
from gateway.tokens import (
    JwksCache,
    TokenVerifier,
    bearer_token,
    build_token_verifier,
    www_authenticate,
)
from runtime.settings import Settings

ISSUER = "https://gateway.test"
EXTERNAL = "https://idp.test"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(NOW.timestamp())
    claims = {
        "iss": ISSUER,
        "sub": "caf-web",
        "aud": "unefois",
        "iat": now,
        "exp": now + 300,
        "jti": "token-1",
        "client_id": "caf-web",
        "scope": "person:read prefill:read",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys([generate_key("Ed25519")])


@pytest.fixture
def verifier(keys: SigningKeys, clock: Clock) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience="unefois", keys=keys, clock=clock)


async def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    # The client-facing message never says which check failed, except for expiry.
    assert info.value.message in ("Invalid or missing access token", "Access token expired")
    return info.value.reason


async def test_valid_token(keys: SigningKeys, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(keys.sign(_claims()))
    assert principal.client_id == "caf-web"
    assert principal.scopes == frozenset({"person:read", "prefill:read"})
    assert principal.issuer == ISSUER
    assert principal.token_id == "token-1"
    assert principal.expires_at == NOW + timedelta(seconds=300)


async def test_audience_list_accepted(keys: SigningKeys, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(keys.sign(_claims(aud=["other", "unefois"])))
    assert principal.client_id == "caf-web"


async def test_forged_signature(keys: SigningKeys, verifier: TokenVerifier) -> None:
    forger = generate_key("Ed25519")
    header = {"alg": "Ed25519", "kid": keys.current.kid, "typ": "at+jwt"}
    forged = jwt.encode(header, _claims(), forger, algorithms=["Ed25519"])
    assert await _reason(verifier, forged) == "bad_signature"
    # A genuine token with its payload swapped keeps a signature over the old payload.
    head, _, sig = keys.sign(_claims()).split(".")
    tampered = f"{head}.{_b64(_claims(scope='person:read eligibility:read'))}.{sig}"
    assert await _reason(verifier, tampered) == "bad_signature"


async def test_alg_none(keys: SigningKeys, verifier: TokenVerifier) -> None:
    header = {"alg": "none", "kid": keys.current.kid, "typ": "at+jwt"}
    token = f"{_b64(header)}.{_b64(_claims())}."
    assert await _reason(verifier, token) == "unsupported_algorithm"


async def test_hs256_with_public_key_as_secret(keys: SigningKeys, verifier: TokenVerifier):
    # The classic confusion attack: HMAC keyed with the published key. joserfc itself refuses
    # such an oct key, so the token is made by hand, for every form the key is published in.
    header = {"alg": "HS256", "kid": keys.current.kid, "typ": "at+jwt"}
    signing_input = f"{_b64(header)}.{_b64(_claims())}"
    for secret in (keys.current.as_bytes(private=False), orjson.dumps(keys.public_jwks())):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        assert await _reason(verifier, token) == "unsupported_algorithm"


async def test_alg_must_match_the_key(keys: SigningKeys, clock: Clock) -> None:
    ec = generate_key("ES256")
    both = SigningKeys([ec, keys.current])
    verifier = TokenVerifier(issuer=ISSUER, audience="unefois", keys=both, clock=clock)
    header = {"alg": "ES256", "kid": keys.current.kid, "typ": "at+jwt"}
    token = jwt.encode(header, _claims(), ec, algorithms=["ES256"])
    assert await _reason(verifier, token) == "unsupported_algorithm"


async def test_expiry_with_leeway(keys: SigningKeys, verifier: TokenVerifier, clock: Clock):
    token = keys.sign(_claims())
    clock.advance(300 + 29)
    assert (await verifier.verify(token)).client_id == "caf-web"
    clock.advance(1)
    assert await _reason(verifier, token) == "expired"


async def test_not_yet_valid(keys: SigningKeys, verifier: TokenVerifier) -> None:
    now = int(NOW.timestamp())
    future = keys.sign(_claims(iat=now + 120, exp=now + 420))
    assert await _reason(verifier, future) == "not_yet_valid"
    nbf = keys.sign(_claims(nbf=now + 120))
    assert await _reason(verifier, nbf) == "not_yet_valid"
    backwards = keys.sign(_claims(exp=now - 10, iat=now))
    assert await _reason(verifier, backwards) == "not_yet_valid"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims(aud="someone-else"), "wrong_audience"),
        (_claims(aud=None), "wrong_audience"),
        (_claims(iss="https://evil.test"), "wrong_issuer"),
        (_claims(iss=None), "wrong_issuer"),
        (_claims(exp=None), "malformed"),
        (_claims(exp="tomorrow"), "malformed"),
        (_claims(client_id=None), "malformed"),
        (_claims(jti=None), "malformed"),
        (_claims(scope=3), "malformed"),
    ],
)
async def test_claims(keys: SigningKeys, verifier: TokenVerifier, claims: dict, reason: str):
    assert await _reason(verifier, keys.sign(claims)) == reason


async def test_unknown_or_missing_kid(keys: SigningKeys, verifier: TokenVerifier) -> None:
    stranger = generate_key("Ed25519")
    token = jwt.encode(
        {"alg": "Ed25519", "kid": stranger.kid, "typ": "at+jwt"},
        _claims(),
        stranger,
        algorithms=["Ed25519"],
    )
    assert await _reason(verifier, token) == "unknown_kid"
    no_kid = jwt.encode(
        {"alg": "Ed25519", "typ": "at+jwt"}, _claims(), keys.current, algorithms=["Ed25519"]
    )
    assert await _reason(verifier, no_kid) == "unknown_kid"


async def test_type_and_header_checks(keys: SigningKeys, verifier: TokenVerifier) -> None:
    id_token = keys.sign(_claims(), typ="JWT")
    assert await _reason(verifier, id_token) == "wrong_type"
    header = {"alg": "Ed25519", "kid": keys.current.kid, "typ": "at+jwt", "crit": ["exp"]}
    token = f"{_b64(header)}.{_b64(_claims())}.AAAA"
    assert await _reason(verifier, token) == "malformed"


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", f"{_b64({'alg': 'Ed25519'})}.bm90IGpzb24.AA"],
)
async def test_malformed(verifier: TokenVerifier, token: str) -> None:
    assert await _reason(verifier, token) in ("malformed", "unsupported_algorithm")


async def test_oversized(keys: SigningKeys, verifier: TokenVerifier) -> None:
    token = keys.sign(_claims(padding="x" * 10_000))
    assert await _reason(verifier, token) == "malformed"


async def test_rotation_keeps_old_tokens_valid(keys: SigningKeys, clock: Clock) -> None:
    old_token = keys.sign(_claims())
    rotated = keys.with_key(generate_key("ES256"))
    verifier = TokenVerifier(issuer=ISSUER, audience="unefois", keys=rotated, clock=clock)
    new_token = rotated.sign(_claims(jti="token-2"))
    assert (await verifier.verify(old_token)).token_id == "token-1"
    assert (await verifier.verify(new_token)).token_id == "token-2"


def test_bearer_header() -> None:
    assert bearer_token(Headers({"Authorization": "Bearer abc.def-_~+/="})) == "abc.def-_~+/="
    assert bearer_token(Headers({"authorization": "bearer  abc"})) == "abc"
    for value, reason in [
        (None, "missing_token"),
        ("", "missing_token"),
        ("Basic dXNlcjpwYXNz", "bad_header"),
        ("Bearer", "bad_header"),
        ("Bearer a b", "bad_header"),
        ("Bearer a,b", "bad_header"),
    ]:
        headers = Headers({} if value is None else {"authorization": value})
        with pytest.raises(Unauthenticated) as info:
            bearer_token(headers)
        assert info.value.reason == reason


def test_challenges() -> None:
    assert www_authenticate(Unauthenticated("missing_token")) == 'Bearer realm="unefois"'
    assert 'error="invalid_request"' in www_authenticate(Unauthenticated("bad_header"))
    assert 'error="invalid_token"' in www_authenticate(Unauthenticated("expired"))


# --- a trusted external issuer, its JWK set served over real HTTP --------------------------


class Idp:
    """A JWK set endpoint whose keys the test changes, counting fetches."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"})]
        for key in self.keys:
            key.ensure_kid()
        self.fetches = 0
        self.down = False

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def sign(self, key: RSAKey, **overrides: Any) -> str:
        claims = _claims(**{"iss": EXTERNAL, **overrides})
        header = {"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, key, algorithms=["RS256"])

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> JSONResponse:
            self.fetches += 1
            if self.down:
                return JSONResponse({"error": "down"}, status_code=503)
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/jwks", endpoint)])


@pytest.fixture
async def idp() -> AsyncIterator[tuple[Idp, str]]:
    provider = Idp()
    # Our own listening socket: its port is known at once, and connections made before
    # uvicorn is up wait in the backlog instead of failing.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(provider.app(), log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield provider, f"http://127.0.0.1:{port}/jwks"
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
async def trusting(
    idp: tuple[Idp, str], keys: SigningKeys, clock: Clock
) -> AsyncIterator[TokenVerifier]:
    _, url = idp
    async with httpx.AsyncClient() as http:
        cache = JwksCache(url, http, clock, ttl=600, min_refetch=30)
        yield TokenVerifier(
            issuer=ISSUER,
            audience="unefois",
            keys=keys,
            clock=clock,
            trusted_issuer=EXTERNAL,
            trusted_keys=cache,
        )


async def test_external_issuer(idp: tuple[Idp, str], trusting: TokenVerifier) -> None:
    provider, _ = idp
    principal = await trusting.verify(provider.sign(provider.keys[0]))
    assert principal.issuer == EXTERNAL
    assert principal.client_id == "caf-web"
    await trusting.verify(provider.sign(provider.keys[0], jti="again"))
    assert provider.fetches == 1  # cached


async def test_external_rotation_and_refetch_limit(
    idp: tuple[Idp, str], trusting: TokenVerifier, clock: Clock
) -> None:
    provider, _ = idp
    await trusting.verify(provider.sign(provider.keys[0]))
    rotated = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"})
    rotated.ensure_kid()
    provider.keys.append(rotated)
    # Too soon after the last fetch: an unknown kid does not reach the issuer.
    assert await _reason(trusting, provider.sign(rotated)) == "unknown_kid"
    assert provider.fetches == 1
    clock.advance(31)
    assert (await trusting.verify(provider.sign(rotated))).issuer == EXTERNAL
    assert provider.fetches == 2
    # A forged kid right after: refused without another fetch.
    forged = RSAKey.generate_key(2048, parameters={"alg": "RS256"})
    forged.ensure_kid()
    assert await _reason(trusting, provider.sign(forged)) == "unknown_kid"
    assert provider.fetches == 2


async def test_issuer_binds_the_key_set(
    idp: tuple[Idp, str], trusting: TokenVerifier, keys: SigningKeys
) -> None:
    provider, _ = idp
    # The external key cannot vouch for a token claiming to be ours, and vice versa.
    ours_by_them = provider.sign(provider.keys[0], iss=ISSUER)
    assert await _reason(trusting, ours_by_them) == "unknown_kid"
    theirs_by_us = keys.sign(_claims(iss=EXTERNAL))
    assert await _reason(trusting, theirs_by_us) == "unknown_kid"


async def test_external_wrong_audience(idp: tuple[Idp, str], trusting: TokenVerifier) -> None:
    provider, _ = idp
    token = provider.sign(provider.keys[0], aud="another-api")
    assert await _reason(trusting, token) == "wrong_audience"


async def test_issuer_outage(idp: tuple[Idp, str], trusting: TokenVerifier, clock: Clock):
    provider, _ = idp
    provider.down = True
    assert await _reason(trusting, provider.sign(provider.keys[0])) == "jwks_unavailable"
    provider.down = False
    clock.advance(31)
    await trusting.verify(provider.sign(provider.keys[0]))
    # Once known, keys outlive an outage: the cache is stale but still used.
    provider.down = True
    clock.advance(601)
    now = int(clock().timestamp())
    later = provider.sign(provider.keys[0], iat=now, exp=now + 300)
    assert (await trusting.verify(later)).issuer == EXTERNAL
    assert provider.fetches == 3


def test_trusted_issuer_needs_its_keys(keys: SigningKeys, clock: Clock) -> None:
    with pytest.raises(ValueError, match="together"):
        TokenVerifier(
            issuer=ISSUER, audience="unefois", keys=keys, clock=clock, trusted_issuer=EXTERNAL
        )


async def test_built_from_settings(idp: tuple[Idp, str], keys: SigningKeys, clock: Clock):
    provider, url = idp
    settings = Settings(token_issuer=ISSUER, trusted_issuer=EXTERNAL, trusted_jwks_url=url)
    with pytest.raises(ValueError, match="AsyncClient"):
        build_token_verifier(settings, keys, clock)
    async with httpx.AsyncClient(timeout=2.0) as http:
        verifier = build_token_verifier(settings, keys, clock, http)
        assert (await verifier.verify(provider.sign(provider.keys[0]))).issuer == EXTERNAL
        assert (await verifier.verify(keys.sign(_claims()))).issuer == ISSUER
    alone = build_token_verifier(Settings(token_issuer=ISSUER), keys, clock)
    # Without a trusted issuer, RSA is not even an accepted algorithm.
    assert await _reason(alone, provider.sign(provider.keys[0])) == "unsupported_algorithm"
