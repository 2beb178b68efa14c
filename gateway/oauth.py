"""The OAuth 2.0 authorisation server: client credentials (RFC 6749 §4.4) with authlib.

Clients authenticate with HTTP Basic or form parameters and receive a short-lived JWT access
token (RFC 9068) signed with our keys. authlib is synchronous and client authentication
spends a scrypt, so the grant runs in a worker thread, never on the event loop; the body is
read (bounded) on the loop beforehand. Before any of that, the request passes the endpoint's
admission (``gateway.admission``): rate buckets per source address and per client id, and a
bounded number of hashes at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    JsonPayload,
    JsonRequest,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.admission import Overloaded, TokenAdmission, TokenLimits
from gateway.client_store import ClientSource, StaticClients
from gateway.clients import ClientRegistry
from gateway.keys import SigningKeys
from gateway.ratelimit import MemoryRateLimiter, RateLimiter, retry_after_header
from runtime.settings import Settings
from store import StoreError

Clock = Callable[[], datetime]

log = logging.getLogger("gateway.oauth")

TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a secret)
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"
# A client-credentials request is a few short parameters; anything bigger is not one.
TOKEN_BODY_LIMIT = 4 * 1024
_MAX_FIELDS = 16
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("client_credentials",)
# The registry this token request is checked against: read (version checked) on the event loop
# before the exchange moves to its worker thread, where authlib asks for the client by id.
_REGISTRY: ContextVar[ClientRegistry] = ContextVar("unefois_client_registry")


@dataclass(frozen=True)
class HttpForm:
    """A token request read off the wire: what authlib needs, detached from the event loop."""

    method: str
    headers: Headers
    query: Mapping[str, str]
    form: Mapping[str, str]
    body: bytes


class _Client(ClientMixin):  # type: ignore[misc]
    """authlib's view of one of our clients.

    Built for any ``client_id`` — known or not — so that an unknown id costs the same scrypt
    as a wrong secret and answers the same ``invalid_client``.
    """

    def __init__(self, registry: ClientRegistry, client_id: str) -> None:
        self._registry = registry
        self.client_id = client_id
        self.client = registry.get(client_id)

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return self._registry.authenticate(self.client_id, client_secret) is not None

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES

    def get_allowed_scope(self, scope: str | None) -> str | None:
        if self.client is None:  # unreachable after authentication; None is invalid_scope
            return None
        # RFC 6749 §3.3: no scope asked means the client's whole pre-arranged scope.
        requested = scope.split() if scope else self.client.scopes
        return " ".join(sorted(set(requested) & self.client.scopes))


class _Grant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        scope = self.request.payload.scope
        if scope is None:
            return
        requested = set(scope.split())
        if not requested or not requested <= self.request.client.client.scopes:
            raise InvalidScopeError()


class _OAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, uri: str, http: HttpForm) -> None:
        super().__init__(method=http.method, uri=uri, headers=http.headers)
        self.payload = BasicOAuth2Payload(dict(http.form))
        self._http = http

    @property
    def args(self) -> Mapping[str, str]:
        return self._http.query

    @property
    def form(self) -> Mapping[str, str]:
        return self._http.form


class _JsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, body: bytes) -> None:
        self._body = body

    @property
    def data(self) -> Any:
        return orjson.loads(self._body)


class _AccessTokens(BearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 JWT access tokens, timed by the injected clock."""

    def __init__(self, issuer: str, audience: str, ttl: int, keys: SigningKeys, clock: Clock):
        super().__init__(self._access_token, expires_generator=ttl)
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._keys = keys
        self._clock = clock

    def _access_token(self, client: _Client, grant_type: str, user: Any, scope: str) -> str:
        now = int(self._clock().timestamp())
        audience = client.client.audience if client.client else None
        claims = {
            "iss": self._issuer,
            "sub": client.client_id,
            "aud": audience or self._audience,
            "exp": now + self._ttl,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "client_id": client.client_id,
            "scope": scope,
        }
        return self._keys.sign(claims, typ="at+jwt")


class GatewayAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's generic server, bound to Starlette, our client registry and our keys.

    The clients may change between two requests (``unefois clients``): each request brings
    the registry current at its start (:meth:`token_response`); the scopes are the grant's
    to check (:class:`_Grant`), against the client's own.
    """

    def __init__(
        self, settings: Settings, clients: ClientSource | ClientRegistry, keys: SigningKeys
    ) -> None:
        super().__init__(scopes_supported=None)
        self.issuer = settings.token_issuer
        self.public_url = settings.public_url
        self.keys = keys
        self.clients = StaticClients(clients) if isinstance(clients, ClientRegistry) else clients
        self.token_limits = TokenLimits.from_settings(settings)

    def query_client(self, client_id: str) -> _Client:
        return _Client(_REGISTRY.get(), client_id)

    def save_token(self, token: dict[str, Any], request: _OAuth2Request) -> None:
        # Tokens are self-contained JWTs: nothing to store. Record the issuance, not the token.
        log.info(
            "token issued",
            extra={"client_id": request.client.client_id, "scope": token.get("scope")},
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        if name == "after_authenticate_client":
            log.debug("client authenticated", extra={"client_id": kwargs["client"].client_id})

    def create_oauth2_request(self, request: HttpForm | _OAuth2Request) -> _OAuth2Request:
        if isinstance(request, _OAuth2Request):
            return request
        # The advertised endpoint, not the Host header: authlib refuses plain http on a
        # non-loopback address, and behind a TLS-terminating proxy only the configured
        # public URL says whether clients really speak https.
        return _OAuth2Request(self.public_url + TOKEN_PATH, request)

    def create_json_request(self, request: HttpForm) -> JsonRequest:
        json_request = JsonRequest(request.method, self.public_url + TOKEN_PATH, request.headers)
        json_request.payload = _JsonPayload(request.body)
        return json_request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = orjson.dumps(body) if isinstance(body, dict) else str(body).encode()
        return Response(content, status_code=status, headers=dict(headers))

    def token_response(self, http: HttpForm, registry: ClientRegistry) -> Response:
        """The whole token exchange against ``registry``; blocking (scrypt), run it in a
        thread."""
        _REGISTRY.set(registry)
        try:
            if "grant_type" not in http.form:
                raise InvalidRequestError("Missing 'grant_type' parameter.")
            if "authorization" in http.headers and "client_secret" in http.form:
                # RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
                raise InvalidRequestError("Use one client authentication method.")
            response: Response = self.create_token_response(http)
        except OAuth2Error as error:
            response = self.handle_error_response(None, error)
        return response

    def metadata(self, registry: ClientRegistry) -> dict[str, Any]:
        """RFC 8414 authorisation server metadata (the scopes: those of the clients)."""
        return {
            "issuer": self.issuer,
            "token_endpoint": self.public_url + TOKEN_PATH,
            "jwks_uri": self.public_url + JWKS_PATH,
            "grant_types_supported": list(GRANT_TYPES),
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "scopes_supported": sorted(registry.all_scopes()),
            "response_types_supported": [],
        }


def build_authorization_server(
    settings: Settings,
    clients: ClientSource | ClientRegistry,
    keys: SigningKeys,
    clock: Clock,
) -> GatewayAuthorizationServer:
    server = GatewayAuthorizationServer(settings, clients, keys)
    server.register_grant(_Grant)
    generator = _AccessTokens(
        settings.token_issuer, settings.token_audience, settings.token_ttl, keys, clock
    )
    server.register_token_generator("default", generator)
    return server


def _oauth_error(
    status: int, error: str, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})},
    )


def _slow_down(wait: float) -> Response:
    return _oauth_error(
        429,
        "slow_down",
        "Too many token requests; retry later.",
        {"Retry-After": retry_after_header(wait)},
    )


def _client_id(headers: Headers, form: Mapping[str, str]) -> str | None:
    """The client id the request claims, read as authlib will read it."""
    basic_id, _ = extract_basic_authorization(headers)
    claimed = basic_id or form.get("client_id")
    return claimed if isinstance(claimed, str) and claimed else None


async def _read_bounded(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_form(body: bytes) -> dict[str, str]:
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters MUST NOT be repeated
            raise ValueError(f"Parameter '{name}' is repeated.")
        form[name] = value
    return form


class _JwksDocument:
    """The public key set, serialised once per version of the keys (rotations included)."""

    def __init__(self, keys: SigningKeys) -> None:
        self._keys = keys
        self._version = -1
        self._body = b""

    def body(self) -> bytes:
        self._keys.refresh()
        if self._keys.version != self._version:
            self._version = self._keys.version
            self._body = orjson.dumps(self._keys.public_jwks())
        return self._body


def oauth_routes(
    server: GatewayAuthorizationServer, limiter: RateLimiter | None = None
) -> list[Route]:
    """``POST /oauth/token`` and the two well-known documents. ``limiter`` holds the token
    endpoint's buckets: give the shared one (Redis) when replicas run behind one address."""
    admission = TokenAdmission(limiter or MemoryRateLimiter(), server.token_limits)

    async def token(request: Request) -> Response:
        wait = await admission.address_wait(request.client.host if request.client else None)
        if wait is not None:
            return _slow_down(wait)
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            return _oauth_error(
                400, "invalid_request", "Use application/x-www-form-urlencoded parameters."
            )
        body = await _read_bounded(request, TOKEN_BODY_LIMIT)
        if body is None:
            return _oauth_error(413, "invalid_request", "Request body too large.")
        try:
            form = _parse_form(body)
        except ValueError as exc:
            message = str(exc) if "repeated" in str(exc) else "Malformed form parameters."
            return _oauth_error(400, "invalid_request", message)
        client_id = _client_id(request.headers, form)
        if client_id is not None:
            wait = await admission.client_wait(client_id)
            if wait is not None:
                return _slow_down(wait)
        http = HttpForm(request.method, request.headers, dict(request.query_params), form, body)
        try:
            registry = await server.clients.current(request)
        except StoreError:
            log.warning("client registry unavailable")
            return _oauth_error(503, "temporarily_unavailable", "Retry later.")
        try:
            async with admission.hashing():
                response: Response = await run_in_threadpool(server.token_response, http, registry)
        except Overloaded:
            return _slow_down(1.0)
        return response

    jwks = _JwksDocument(server.keys)
    # The metadata of the last registry seen: serialised once per version of the clients.
    document: list[tuple[ClientRegistry, bytes]] = []
    # Public documents that change rarely: let verifiers cache them a little. A new key is
    # published before its tokens matter to them: they refetch on an unknown kid.
    public_headers = {"Cache-Control": "public, max-age=300"}

    async def jwks_document(request: Request) -> Response:
        return Response(jwks.body(), media_type="application/json", headers=public_headers)

    async def metadata(request: Request) -> Response:
        try:
            registry = await server.clients.current(request)
        except StoreError:
            log.warning("client registry unavailable")
            return _oauth_error(503, "temporarily_unavailable", "Retry later.")
        if not document or document[0][0] is not registry:
            document[:] = [(registry, orjson.dumps(server.metadata(registry)))]
        return Response(document[0][1], media_type="application/json", headers=public_headers)

    return [
        Route(TOKEN_PATH, token, methods=["POST"], name="oauth_token"),
        Route(JWKS_PATH, jwks_document, methods=["GET"], name="jwks"),
        Route(METADATA_PATH, metadata, methods=["GET"], name="oauth_metadata"),
    ]
