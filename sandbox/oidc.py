"""The OpenID Connect provider machinery the sandbox's identity providers share (authlib).

Authorization-code flow for confidential relying parties (``client_secret_post`` or
``client_secret_basic``), codes that live a minute and are single-use, optional PKCE
(``S256`` only), an ``id_token`` signed with the provider's key (ES256 or RS256), opaque
expiring access tokens, and the end-session check both FranceConnect and ProConnect make.
:class:`OpenIdProvider` is subclassed by each provider, which says what ``sub`` and which
claims its users have; the HTTP face is in ``sandbox.oidc_routes``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

Clock = Callable[[], float]  # epoch seconds: JWT ``iat``/``exp`` are epoch seconds too
SigningAlg = Literal["ES256", "RS256"]

AUTH_METHODS = ("client_secret_post", "client_secret_basic")
CODE_TTL = 60  # seconds: codes are exchanged at once by a relying party's back end
ID_TOKEN_TTL = 60  # an id_token proves a login that just happened


@dataclass(frozen=True)
class RelyingParty:
    """A client registered at a provider: its secret and the only URIs it may be sent to."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()


def with_gateways(party: RelyingParty, gateway_urls: Iterable[str], area: str) -> RelyingParty:
    """``party`` also accepting the gateway's ``<url>/<area>/connexion/retour`` (and the
    post-logout ``deconnexion/retour``) for each URL, e.g. a gateway on an ephemeral port."""
    redirects = list(party.redirect_uris)
    logouts = list(party.post_logout_redirect_uris)
    for url in gateway_urls:
        base = url.rstrip("/") + "/" + area.strip("/")
        if base + "/connexion/retour" not in redirects:
            redirects.append(base + "/connexion/retour")
        if base + "/deconnexion/retour" not in logouts:
            logouts.append(base + "/deconnexion/retour")
    return replace(party, redirect_uris=tuple(redirects), post_logout_redirect_uris=tuple(logouts))


@dataclass(frozen=True)
class Grant:
    """What an access token stands for: a user (by index) seen by one client."""

    person: int
    client_id: str
    scope: str
    expires_at: float


class AccessTokens:
    """A provider's access tokens: opaque random strings mapped to their grant."""

    default_scope = "openid"

    def __init__(self, ttl: int = 3600, clock: Clock = time.time) -> None:
        self.ttl = ttl
        self.clock = clock
        self._grants: dict[str, Grant] = {}

    def issue(self, person: int, client_id: str, scope: str | None = None) -> tuple[str, Grant]:
        now = self.clock()
        if len(self._grants) > 50_000:  # a benchmark issues many: drop the dead ones
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
        token = secrets.token_urlsafe(32)
        grant = Grant(person, client_id, scope or self.default_scope, now + self.ttl)
        self._grants[token] = grant
        return token, grant

    def get(self, token: str) -> Grant | None:
        """The grant of a token, expired or not; ``live`` is what resource servers want."""
        return self._grants.get(token)

    def live(self, token: str) -> Grant | None:
        grant = self._grants.get(token)
        return grant if grant is not None and grant.expires_at > self.clock() else None


@dataclass(frozen=True)
class User:
    # A wrapper, not the bare index: authlib tests ``if not user`` and index 0 is falsy.
    index: int
    client_id: str = ""  # bound at the code's issue: a pairwise ``sub`` needs it


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
    acr: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return []


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, party: RelyingParty, provider: OpenIdProvider) -> None:
        self.party = party
        self.provider = provider

    def get_client_id(self) -> str:
        return self.party.client_id

    def get_default_redirect_uri(self) -> str:
        return self.party.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = (scope or self.provider.default_scope).split()
        return " ".join(s for s in asked if s in self.provider.scopes)

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
        provider: OpenIdProvider = self.server.provider
        now = provider.clock()
        if len(provider.codes) > 1000:  # abandoned logins leave codes behind
            provider.codes = {k: c for k, c in provider.codes.items() if c.expires_at > now}
        data = request.payload.data
        provider.codes[code] = _Code(
            code,
            request.client.get_client_id(),
            request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            request.scope,
            replace(request.user, client_id=request.client.get_client_id()),
            data.get("nonce"),
            int(now),
            now + CODE_TTL,
            provider.acr,
            data.get("code_challenge"),
            data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        provider: OpenIdProvider = self.server.provider
        found = provider.codes.get(code)
        if found is None or found.client_id != client.get_client_id():
            return None
        return found if found.expires_at > provider.clock() else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> User:
        return authorization_code.user


class _S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, confidential ones included, and only with ``S256``."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: OpenIdProvider) -> None:
        super().__init__(require_nonce=provider.require_nonce)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuthRequest) -> bool:
        client_id = request.payload.client_id
        return any(
            c.nonce == nonce and c.client_id == client_id for c in self.provider.codes.values()
        )

    def resolve_client_private_key(self, client: _Client) -> ECKey | RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: _Client) -> str:
        return self.provider.signing_alg

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": self.provider.signing_alg, "kid": self.provider.key.kid or ""}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(self.provider.clock())
        return {
            "iss": self.provider.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
        }

    def generate_user_info(self, user: User, scope: str) -> dict[str, object]:
        return self.provider.id_token_claims(user, scope)


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: OpenIdProvider) -> None:
        super().__init__(scopes_supported=list(provider.scopes))
        self.provider = provider

    def query_client(self, client_id: str) -> _Client | None:
        party = self.provider.parties.get(client_id)
        return None if party is None else _Client(party, self.provider)

    def save_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        # The token generator already registered it in the provider's token registry.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, dict[str, str]]:
        return status, body, dict(headers)


class EndSessionRefused(Exception):
    """An end-session request the provider must not follow (no redirect is made)."""


class OpenIdProvider:
    """A provider's state: relying parties, signing key, pending codes, access tokens.

    Subclasses set the class attributes and implement :meth:`id_token_claims` and
    :meth:`userinfo_claims`. ``issuer`` is replaced by the bound URL once listening.
    """

    scopes: ClassVar[tuple[str, ...]] = ("openid",)
    default_scope: ClassVar[str] = "openid"
    acr: ClassVar[str] = ""
    pkce: ClassVar[bool] = False  # True: every authorization request carries S256 PKCE
    require_nonce: ClassVar[bool] = False

    def __init__(
        self,
        parties: Iterable[RelyingParty],
        tokens: AccessTokens,
        signing_alg: SigningAlg,
        clock: Clock,
        issuer: str,
    ) -> None:
        self.parties = {p.client_id: p for p in parties}
        self.tokens = tokens
        self.signing_alg: SigningAlg = signing_alg
        self.clock = clock
        self.issuer = issuer
        self.codes: dict[str, _Code] = {}
        parameters: Any = {"alg": signing_alg, "use": "sig"}
        self.key: ECKey | RSAKey = (
            ECKey.generate_key("P-256", parameters, auto_kid=True)
            if signing_alg == "ES256"
            else RSAKey.generate_key(2048, parameters, auto_kid=True)
        )
        self.server = _Server(self)
        extensions: list[Any] = [_OpenIDCode(self)]
        if self.pkce:
            extensions.append(_S256Required())
        self.server.register_grant(_CodeGrant, extensions)
        self.server.register_token_generator("default", self._generate_token)

    def id_token_claims(self, user: User, scope: str) -> dict[str, object]:
        raise NotImplementedError

    def userinfo_claims(self, grant: Grant) -> dict[str, object]:
        raise NotImplementedError

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

    def sign(self, claims: Mapping[str, Any]) -> str:
        header = {"alg": self.signing_alg, "kid": self.key.kid or "", "typ": "JWT"}
        return jwt.encode(header, dict(claims), self.key, algorithms=[self.signing_alg])

    def userinfo_jwt(self, grant: Grant) -> str:
        """The userinfo answer as FranceConnect v2 and ProConnect send it: a signed JWT."""
        return self.sign(
            {
                "iss": self.issuer,
                "aud": grant.client_id,
                "iat": int(self.clock()),
                # Valid as long as the access token: a verifier may cache the identity that long.
                "exp": int(grant.expires_at),
                **self.userinfo_claims(grant),
            }
        )

    def end_session(self, params: Mapping[str, str]) -> str | None:
        """Where to send the browser after a logout (``None``: show the provider's page).

        The ``id_token_hint`` must be one of ours (signature and issuer; an old one is fine:
        logging out happens long after the login) and names the relying party, whose
        registered post-logout URIs alone are followed.
        """
        hint = params.get("id_token_hint", "")
        try:
            claims = jwt.decode(hint, self.key, algorithms=[self.signing_alg]).claims
        except (JoseError, ValueError, TypeError):
            raise EndSessionRefused("The id_token_hint is not one of this provider.") from None
        party = self.parties.get(str(claims.get("aud", "")))
        if claims.get("iss") != self.issuer or party is None:
            raise EndSessionRefused("The id_token_hint is not one of this provider.")
        target = params.get("post_logout_redirect_uri")
        if not target:
            return None
        if target not in party.post_logout_redirect_uris:
            raise EndSessionRefused("The post_logout_redirect_uri is not registered.")
        state = params.get("state")
        if state:
            target += ("&" if "?" in target else "?") + urlencode({"state": state})
        return target
