"""A FranceConnect-style OpenID Connect provider for the sandbox persons, built on authlib.

Like FranceConnect v2: authorization-code flow with ``openid identite_pivot``, confidential
relying parties (``client_secret_post`` or ``client_secret_basic``), a per-client pairwise
``sub``, opaque expiring access tokens, an ``id_token`` and a userinfo answer that are both
JWTs signed with the provider's key (``application/jwt``). The HTTP face, userinfo answer
included, is in ``sandbox.france_connect_pages``.

The access tokens live in ``FranceConnectTokens``, one object shared in-process with API
Particulier's simulation: the real API Particulier introspects the citizen's FranceConnect
token, ours looks it up in the same registry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import ECKey, RSAKey

from sandbox.population import Population

Clock = Callable[[], float]  # epoch seconds: JWT ``iat``/``exp`` are epoch seconds too

SANDBOX_FC_CLIENT_ID = "unefois-sandbox-rp"
SANDBOX_FC_CLIENT_SECRET = "sandbox-fc-secret"  # noqa: S105 - public sandbox credential
SANDBOX_FC_REDIRECT_URI = "http://127.0.0.1:8000/callback"
FC_SCOPE = "openid identite_pivot"
# ``identite_pivot`` grants every claim below; FranceConnect also accepts them one by one.
PIVOT_CLAIMS = tuple(
    "given_name given_name_array family_name birthdate gender birthplace birthcountry"
    " preferred_username".split()
)
SCOPES = ("openid", "identite_pivot", *PIVOT_CLAIMS)
AUTH_METHODS = ("client_secret_post", "client_secret_basic")
CODE_TTL = 60  # seconds: codes are exchanged at once by a relying party's back end


@dataclass(frozen=True)
class RelyingParty:
    client_id: str = SANDBOX_FC_CLIENT_ID
    client_secret: str = SANDBOX_FC_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = (SANDBOX_FC_REDIRECT_URI,)


@dataclass(frozen=True)
class FranceConnectConfig:
    relying_parties: tuple[RelyingParty, ...] = (RelyingParty(),)
    token_ttl: int = 3600
    issuer: str | None = None  # None: the URL the provider is listening on
    signing_alg: Literal["ES256", "RS256"] = "ES256"


@dataclass(frozen=True)
class FcGrant:
    """What an access token stands for."""

    person: int
    client_id: str
    scope: str
    expires_at: float


class FranceConnectTokens:
    """The provider's access tokens: opaque random strings mapped to their grant."""

    def __init__(self, ttl: int = 3600, clock: Clock = time.time) -> None:
        self.ttl = ttl
        self.clock = clock
        self._grants: dict[str, FcGrant] = {}

    def issue(self, person: int, client_id: str, scope: str = FC_SCOPE) -> tuple[str, FcGrant]:
        now = self.clock()
        if len(self._grants) > 50_000:  # a benchmark issues many: drop the dead ones
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
        token = secrets.token_urlsafe(32)
        grant = FcGrant(person, client_id, scope, now + self.ttl)
        self._grants[token] = grant
        return token, grant

    def get(self, token: str) -> FcGrant | None:
        """The grant of a token, expired or not; ``live`` is what resource servers want."""
        return self._grants.get(token)

    def live(self, token: str) -> FcGrant | None:
        grant = self._grants.get(token)
        return grant if grant is not None and grant.expires_at > self.clock() else None


def pairwise_sub(secret: bytes, client_id: str, person: int) -> str:
    """FranceConnect's ``sub``: one pseudonym per (person, relying party), unlinkable across."""
    digest = hmac.new(secret, f"{client_id}|{person}".encode(), hashlib.sha256).hexdigest()
    return digest + "v1"


@dataclass(frozen=True)
class User:
    # A wrapper, not the bare index: authlib tests ``if not user`` and person 0 is falsy.
    index: int
    client_id: str = ""  # bound at the code's issue: the id_token's pairwise ``sub`` needs it


@dataclass(frozen=True)
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "eidas1"

    def get_amr(self) -> list[str]:
        return []


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, party: RelyingParty) -> None:
        self.party = party

    def get_client_id(self) -> str:
        return self.party.client_id

    def get_default_redirect_uri(self) -> str:
        return self.party.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = (scope or FC_SCOPE).split()
        return " ".join(s for s in asked if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.party.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret, self.party.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class OAuthRequest(OAuth2Request):  # type: ignore[misc]
    """A request read off the wire beforehand, so that authlib's sync code never awaits.

    ``params`` are the query (authorize) or the form body (token, login).
    """

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], params: Mapping[str, str]
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = BasicOAuth2Payload(dict(params))
        self.params = params

    @property
    def args(self) -> Mapping[str, str]:
        return self.params

    @property
    def form(self) -> Mapping[str, str]:
        return self.params


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def save_authorization_code(self, code: str, request: OAuthRequest) -> None:
        provider: FranceConnectProvider = self.server.provider
        now = provider.clock()
        if len(provider.codes) > 1000:  # abandoned logins leave codes behind
            provider.codes = {k: c for k, c in provider.codes.items() if c.expires_at > now}
        provider.codes[code] = _Code(
            code,
            request.client.get_client_id(),
            request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            request.scope,
            replace(request.user, client_id=request.client.get_client_id()),
            request.payload.data.get("nonce"),
            int(now),
            now + CODE_TTL,
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        provider: FranceConnectProvider = self.server.provider
        found = provider.codes.get(code)
        if found is None or found.client_id != client.get_client_id():
            return None
        return found if found.expires_at > provider.clock() else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> User:
        return authorization_code.user


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: FranceConnectProvider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuthRequest) -> bool:
        client_id = request.payload.client_id
        return any(
            c.nonce == nonce and c.client_id == client_id for c in self.provider.codes.values()
        )

    def resolve_client_private_key(self, client: _Client) -> ECKey | RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: _Client) -> str:
        return self.provider.config.signing_alg

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": self.provider.config.signing_alg, "kid": self.provider.key.kid or ""}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(self.provider.clock())
        return {
            "iss": self.provider.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + 60,  # an id_token proves a login that just happened
        }

    def generate_user_info(self, user: User, scope: str) -> dict[str, object]:
        # FranceConnect's id_token carries the pseudonym only; the identity is at userinfo.
        return {"sub": self.provider.sub(user.client_id, user.index)}


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: FranceConnectProvider) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.provider = provider

    def query_client(self, client_id: str) -> _Client | None:
        party = self.provider.parties.get(client_id)
        return None if party is None else _Client(party)

    def save_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        # The token generator already registered it in the shared token registry.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, dict[str, str]]:
        return status, body, dict(headers)


@dataclass
class FranceConnectProvider:
    """The provider's state: relying parties, signing key, codes, and the shared tokens."""

    population: Population
    tokens: FranceConnectTokens
    config: FranceConnectConfig = field(default_factory=FranceConnectConfig)
    clock: Clock = time.time
    issuer: str = "http://127.0.0.1:8708"  # replaced by the bound URL once listening
    codes: dict[str, _Code] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parties = {p.client_id: p for p in self.config.relying_parties}
        parameters: Any = {"alg": self.config.signing_alg, "use": "sig"}
        self.key: ECKey | RSAKey = (
            ECKey.generate_key("P-256", parameters, auto_kid=True)
            if self.config.signing_alg == "ES256"
            else RSAKey.generate_key(2048, parameters, auto_kid=True)
        )
        # Stable across restarts for one population, so a relying party's subs stay put.
        self._sub_secret = f"sandbox-fc-pairwise-{self.population.seed}".encode()
        self.server = _Server(self)
        self.server.register_grant(_CodeGrant, [_OpenIDCode(self)])
        self.server.register_token_generator("default", self._generate_token)

    def sub(self, client_id: str, person: int) -> str:
        return pairwise_sub(self._sub_secret, client_id, person)

    def _generate_token(
        self, grant_type: str, client: _Client, user: User, scope: str, **_: Any
    ) -> dict[str, Any]:
        token, grant = self.tokens.issue(user.index, client.get_client_id(), scope)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(grant.expires_at - self.clock()),
            "scope": scope,
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}
