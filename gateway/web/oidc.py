"""The pages' OpenID Connect relying party: FranceConnect for citizens, ProConnect for agents.

Authorization-code flow for a confidential client (``client_secret_post``), with a ``state``
and a ``nonce`` per sign-in and, where the provider takes it, PKCE (``S256``; FranceConnect v2
takes none). The provider's discovery document is fetched once per process and kept; its keys
come from its JWKS (:class:`~gateway.tokens.JwksCache`, refetched for an unknown ``kid``).

Trusted only once checked: the ``id_token`` (signature with an ES256 or RS256 key of the
provider, ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``sub``) and the userinfo answer, JSON
or a JWT (``application/jwt``) checked the same way, whose ``sub`` must be the id_token's.
Every refusal is an :class:`OidcError` whose ``reason`` may be logged; no token, claim or
identity is ever logged here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeGuard
from urllib.parse import urlencode

import httpx
import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from gateway.errors import Unauthenticated
from gateway.tokens import JwksCache

__all__ = ["LoginState", "OidcError", "OidcReason", "ProviderConfig", "RelyingParty", "SignedIn"]

Clock = Callable[[], datetime]

ALGORITHMS = frozenset({"ES256", "RS256"})
LEEWAY_SECONDS = 30  # clocks of two machines disagree a little
LOGIN_TTL_SECONDS = 600  # from the redirect to the provider to the return: 10 minutes at most
DEFAULT_TOKEN_TTL = 3600  # when the token answer gives no ``expires_in``
MAX_ANSWER_BYTES = 64 * 1024
_FORBIDDEN_HEADERS = frozenset({"crit", "jku", "jwk", "x5u", "x5c"})

OidcReason = Literal[
    "provider_error",  # the provider sent the browser back with an error (a cancelled login…)
    "state_mismatch",  # the return does not belong to the sign-in this browser started
    "login_expired",  # the return came too late
    "missing_code",
    "provider_unavailable",  # discovery, token, keys or userinfo unreachable or failing
    "bad_discovery",  # a discovery document that is not this provider's
    "logout_unsupported",  # the provider lists no end-session endpoint
    "token_refused",  # the token endpoint refused the code (replayed, expired, wrong client)
    "bad_token_response",
    "bad_id_token",  # not a JWT, or a required claim missing
    "unsupported_algorithm",
    "unknown_kid",
    "bad_signature",
    "wrong_issuer",
    "wrong_audience",
    "expired",
    "not_yet_valid",
    "nonce_mismatch",
    "bad_userinfo",
    "subject_mismatch",  # the userinfo answer is about someone else than the id_token
]


class OidcError(Exception):
    """A sign-in or sign-out refused; ``reason`` says why (safe to log and count)."""

    def __init__(self, reason: OidcReason, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason: OidcReason = reason


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    redirect_uri: str
    post_logout_redirect_uri: str
    discovery_url: str | None = None  # None: ``<issuer>/.well-known/openid-configuration``
    pkce: bool = True  # False for FranceConnect v2, which takes no code challenge
    acr_values: str | None = None  # e.g. FranceConnect's ``eidas1``

    @property
    def discovery(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class LoginState:
    """A sign-in in progress: kept server-side (the pre-login session) until the return."""

    state: str
    nonce: str
    code_verifier: str | None
    started_at: float  # epoch seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "started_at": self.started_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoginState:
        state, nonce = data.get("state"), data.get("nonce")
        verifier, started = data.get("code_verifier"), data.get("started_at")
        if not (isinstance(state, str) and isinstance(nonce, str) and _number(started)):
            raise OidcError("state_mismatch", "No sign-in in progress")
        if verifier is not None and not isinstance(verifier, str):
            raise OidcError("state_mismatch", "No sign-in in progress")
        return cls(state, nonce, verifier, float(started))


@dataclass(frozen=True)
class SignedIn:
    access_token: str = field(repr=False)
    id_token: str = field(repr=False)  # kept for the end-session request's id_token_hint
    claims: dict[str, Any] = field(repr=False)  # the userinfo claims, ``sub`` included
    expires_at: datetime  # the access token's end


@dataclass(frozen=True)
class _Endpoints:
    authorization: str
    token: str
    userinfo: str
    jwks: str
    end_session: str | None


class RelyingParty:
    """One client at one provider."""

    def __init__(self, provider: ProviderConfig, http: httpx.AsyncClient, clock: Clock) -> None:
        self.provider = provider
        self._http = http
        self._clock = clock
        self._endpoints: _Endpoints | None = None
        self._keys: JwksCache | None = None
        self._lock = asyncio.Lock()
        self._registries = {alg: JWSRegistry(algorithms=[alg]) for alg in ALGORITHMS}

    async def begin(self) -> tuple[LoginState, str]:
        """A new sign-in: the state to keep server-side, and the provider URL to send to."""
        endpoints = await self._discover()
        verifier = secrets.token_urlsafe(48) if self.provider.pkce else None
        login = LoginState(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            verifier,
            self._clock().timestamp(),
        )
        query = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": self.provider.redirect_uri,
            "scope": self.provider.scope,
            "state": login.state,
            "nonce": login.nonce,
        }
        if verifier is not None:
            digest = hashlib.sha256(verifier.encode("ascii")).digest()
            query["code_challenge"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            query["code_challenge_method"] = "S256"
        if self.provider.acr_values:
            query["acr_values"] = self.provider.acr_values
        return login, _with_query(endpoints.authorization, query)

    async def finish(self, state: LoginState, params: Mapping[str, str]) -> SignedIn:
        """The return to ``redirect_uri`` (its query ``params``) → the signed-in user."""
        returned = params.get("state")
        if not isinstance(returned, str) or not hmac.compare_digest(returned, state.state):
            raise OidcError("state_mismatch", "The return is not this sign-in's")
        if params.get("error"):
            raise OidcError("provider_error", "The identity provider ended the sign-in")
        now = self._clock().timestamp()
        if not 0 <= now - state.started_at <= LOGIN_TTL_SECONDS:
            raise OidcError("login_expired", "The sign-in took too long")
        issuer = params.get("iss")  # RFC 9207: when sent, it must be this provider
        if issuer is not None and issuer != self.provider.issuer:
            raise OidcError("wrong_issuer", "The return names another provider")
        code = params.get("code")
        if not code:
            raise OidcError("missing_code", "The return carries no code")
        endpoints = await self._discover()
        answer = await self._token(endpoints, code, state)
        id_token = answer["id_token"]
        id_claims = await self._verified(id_token, required=("exp", "iat", "sub"))
        nonce = id_claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, state.nonce):
            raise OidcError("nonce_mismatch", "The id_token is not this sign-in's")
        claims = await self._userinfo(endpoints, answer["access_token"])
        if claims.get("sub") != id_claims["sub"]:
            raise OidcError("subject_mismatch", "The userinfo answer is about someone else")
        expires_at = self._clock() + timedelta(seconds=answer["expires_in"])
        return SignedIn(answer["access_token"], id_token, claims, expires_at)

    async def logout_url(self, id_token: str, state: str) -> str:
        """Where to send the browser to end its session at the provider too."""
        endpoints = await self._discover()
        if endpoints.end_session is None:
            raise OidcError("logout_unsupported", "The provider has no end-session endpoint")
        query = {
            "id_token_hint": id_token,
            "state": state,
            "post_logout_redirect_uri": self.provider.post_logout_redirect_uri,
        }
        return _with_query(endpoints.end_session, query)

    async def _discover(self) -> _Endpoints:
        if self._endpoints is not None:
            return self._endpoints
        async with self._lock:
            if self._endpoints is None:
                document = await self._get_json(self.provider.discovery)
                self._endpoints = self._read_discovery(document)
                self._keys = JwksCache(self._endpoints.jwks, self._http, self._clock)
        return self._endpoints

    def _read_discovery(self, document: dict[str, Any]) -> _Endpoints:
        if document.get("issuer") != self.provider.issuer:
            raise OidcError("bad_discovery", "The discovery document names another issuer")
        urls: dict[str, str] = {}
        for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
            url = document.get(name)
            if not _http_url(url):
                raise OidcError("bad_discovery", f"The discovery document has no {name}")
            urls[name] = url
        end_session = document.get("end_session_endpoint")
        return _Endpoints(
            urls["authorization_endpoint"],
            urls["token_endpoint"],
            urls["userinfo_endpoint"],
            urls["jwks_uri"],
            end_session if _http_url(end_session) else None,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise OidcError(
                "provider_unavailable", "The identity provider is unreachable"
            ) from None
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise OidcError("provider_unavailable", f"Discovery answered {response.status_code}")
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise OidcError("bad_discovery", "The discovery document is not JSON") from None
        if not isinstance(document, dict):
            raise OidcError("bad_discovery", "The discovery document is not an object")
        return document

    async def _token(self, endpoints: _Endpoints, code: str, state: LoginState) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.provider.redirect_uri,
            "client_id": self.provider.client_id,
            "client_secret": self.provider.client_secret,
        }
        if state.code_verifier is not None:
            form["code_verifier"] = state.code_verifier
        try:
            response = await self._http.post(
                endpoints.token, data=form, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError:
            raise OidcError("provider_unavailable", "The token endpoint is unreachable") from None
        if response.status_code in (400, 401, 403):
            raise OidcError("token_refused", f"The token endpoint answered {response.status_code}")
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise OidcError("provider_unavailable", f"Token endpoint: {response.status_code}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise OidcError("bad_token_response", "The token answer is not JSON") from None
        if not isinstance(body, dict):
            raise OidcError("bad_token_response", "The token answer is not an object")
        access, id_token = body.get("access_token"), body.get("id_token")
        kind, ttl = body.get("token_type"), body.get("expires_in", DEFAULT_TOKEN_TTL)
        if not (isinstance(access, str) and access and isinstance(id_token, str)):
            raise OidcError("bad_token_response", "The token answer lacks a token")
        if not isinstance(kind, str) or kind.lower() != "bearer":
            raise OidcError("bad_token_response", "The access token is not a bearer token")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            raise OidcError("bad_token_response", "The token answer's expires_in is not usable")
        return {"access_token": access, "id_token": id_token, "expires_in": ttl}

    async def _userinfo(self, endpoints: _Endpoints, access_token: str) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/jwt, application/json",
        }
        try:
            response = await self._http.get(endpoints.userinfo, headers=headers)
        except httpx.HTTPError:
            raise OidcError(
                "provider_unavailable", "The userinfo endpoint is unreachable"
            ) from None
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise OidcError("provider_unavailable", f"Userinfo answered {response.status_code}")
        media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media == "application/jwt":
            return await self._verified(response.text.strip(), required=("sub",))
        if media != "application/json":
            raise OidcError("bad_userinfo", "The userinfo answer is neither JSON nor a JWT")
        try:
            claims = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise OidcError("bad_userinfo", "The userinfo answer is not JSON") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
            raise OidcError("bad_userinfo", "The userinfo answer has no subject")
        return claims

    async def _verified(self, compact: str, required: tuple[str, ...]) -> dict[str, Any]:
        """The claims of a JWT of this provider for this client, or ``OidcError``."""
        try:
            obj = jws.extract_compact(compact.encode("ascii"))
            claims = orjson.loads(obj.payload)
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise OidcError("bad_id_token", "Not a signed JWT") from None
        header = obj.headers()
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(claims, dict) or _FORBIDDEN_HEADERS & header.keys():
            raise OidcError("bad_id_token", "Not a usable JWT")
        if alg not in ALGORITHMS:
            raise OidcError("unsupported_algorithm", "The JWT's algorithm is not accepted")
        # Refused before any key is fetched on a stranger's behalf.
        if claims.get("iss") != self.provider.issuer:
            raise OidcError("wrong_issuer", "The JWT comes from another issuer")
        if not isinstance(kid, str):
            raise OidcError("unknown_kid", "The JWT names no key")
        assert self._keys is not None  # set with the endpoints, which callers fetched first
        try:
            key = await self._keys.get(kid)
        except Unauthenticated:
            raise OidcError("provider_unavailable", "The provider's keys are unreachable") from None
        if key is None:
            raise OidcError("unknown_kid", "The JWT's key is not the provider's")
        if alg not in key.algorithms:
            raise OidcError("unsupported_algorithm", "The JWT's algorithm does not fit its key")
        try:
            valid = jws.validate_compact(obj, key.key, registry=self._registries[alg])
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise OidcError("bad_signature", "The JWT's signature does not verify")
        self._check_claims(claims, required)
        return claims

    def _check_claims(self, claims: dict[str, Any], required: tuple[str, ...]) -> None:
        missing = [name for name in required if name not in claims]
        if missing or ("sub" in claims and not isinstance(claims["sub"], str)):
            raise OidcError("bad_id_token", "The JWT lacks a required claim")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.provider.client_id not in audiences:
            raise OidcError("wrong_audience", "The JWT is for another client")
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise OidcError("wrong_audience", "The JWT is for several clients, not this one")
        now = self._clock().timestamp()
        for name in ("exp", "iat", "nbf"):
            if name in claims and not _number(claims[name]):
                raise OidcError("bad_id_token", f"The JWT's {name} is not a time")
        if "exp" in claims and now >= float(claims["exp"]) + LEEWAY_SECONDS:
            raise OidcError("expired", "The JWT expired")
        if "iat" in claims and float(claims["iat"]) > now + LEEWAY_SECONDS:
            raise OidcError("not_yet_valid", "The JWT is issued in the future")
        if "nbf" in claims and float(claims["nbf"]) > now + LEEWAY_SECONDS:
            raise OidcError("not_yet_valid", "The JWT is not valid yet")


def _with_query(url: str, query: Mapping[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _http_url(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(("https://", "http://"))
