"""The sandbox FranceConnect provider over HTTP: discovery, login page, token, userinfo, JWKS.

Paths are FranceConnect v2's (``/api/v2/...``). The "login" is a page where a tester picks a
sandbox person by index; the browser then goes back to the relying party with a code.
``POST /_sandbox/france_connect/tokens`` skips the browser for tests and benchmarks: it
issues a real access token of this provider (loopback clients only).
"""

from __future__ import annotations

import html
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.admin import admin_routes, loopback_only
from sandbox.agency import AgencySetup
from sandbox.faults import FaultInjector
from sandbox.france_connect import (
    AUTH_METHODS,
    SANDBOX_FC_CLIENT_ID,
    SCOPES,
    FcGrant,
    FranceConnectConfig,
    FranceConnectProvider,
    FranceConnectTokens,
    OAuthRequest,
    User,
)
from sandbox.person import Identity
from sandbox.population import Population
from sandbox.protocol import JSONResponse, ProtocolError, bearer
from sandbox.stats import CountingMiddleware, RequestStats

AUTHORIZE_PATH = "/api/v2/authorize"
TOKEN_PATH = "/api/v2/token"  # noqa: S105 - a path, not a secret
USERINFO_PATH = "/api/v2/userinfo"
JWKS_PATH = "/api/v2/jwks"
_FORM_LIMIT = 8 * 1024
_LISTED = 20  # persons offered as one-click choices on the login page


def shortcut_token(
    tokens: FranceConnectTokens, population: Population, body: bytes
) -> dict[str, object]:
    """``{"person": <index>[, "client_id": ...]}`` → a live access token for that person."""
    try:
        raw = orjson.loads(body or b"{}")
        index = raw["person"]
        client_id = raw.get("client_id", SANDBOX_FC_CLIENT_ID)
        if isinstance(index, bool) or not isinstance(index, int) or not isinstance(client_id, str):
            raise ValueError
        if not 0 <= index < len(population.persons):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ProtocolError(
            422, "00300", "Entité non traitable", 'Le corps doit être {"person": <index>}'
        ) from None
    token, grant = tokens.issue(index, client_id)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(grant.expires_at - tokens.clock()),
        "scope": grant.scope,
    }


def identity_claims(identity: Identity, scope: str) -> dict[str, object]:
    """The pivot-identity claims the scope grants, in FranceConnect's names and formats."""
    scopes = set(scope.split())
    everything = "identite_pivot" in scopes
    claims: dict[str, object] = {
        "given_name": " ".join(identity.prenoms),
        "given_name_array": list(identity.prenoms),
        "family_name": identity.nom_naissance,
        "birthdate": identity.date_naissance.isoformat(),
        "gender": "male" if identity.sexe == "M" else "female",
        # FranceConnect sends an empty birthplace for a person born abroad.
        "birthplace": identity.code_commune_naissance or "",
        "birthcountry": identity.code_pays_naissance,
    }
    if identity.nom_usage:
        claims["preferred_username"] = identity.nom_usage
    return {k: v for k, v in claims.items() if everything or k in scopes}


def userinfo_jwt(provider: FranceConnectProvider, grant: FcGrant) -> str:
    """The userinfo answer as FranceConnect v2 sends it: a JWT signed by the provider."""
    identity = provider.population.persons[grant.person].identity
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "aud": grant.client_id,
        "iat": int(provider.clock()),
        # Valid as long as the access token: a verifier may cache the identity that long.
        "exp": int(grant.expires_at),
        "sub": provider.sub(grant.client_id, grant.person),
        **identity_claims(identity, grant.scope),
    }
    header = {"alg": provider.config.signing_alg, "kid": provider.key.kid or "", "typ": "JWT"}
    return jwt.encode(header, claims, provider.key, algorithms=[provider.config.signing_alg])


def _answer(result: tuple[int, Any, Mapping[str, str]]) -> Response:
    status, body, headers = result
    content = orjson.dumps(body) if isinstance(body, dict) else str(body).encode()
    media = "application/json" if isinstance(body, dict) else "text/plain"
    return Response(content, status_code=status, headers=dict(headers), media_type=media)


def _oauth_error(status: int, error: str, description: str, bearer_challenge: bool) -> Response:
    headers = {"Cache-Control": "no-store"}
    if bearer_challenge:
        headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=headers)


async def _form(request: Request) -> dict[str, str] | None:
    body = await request.body()
    if len(body) > _FORM_LIMIT:
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _login_page(params: Mapping[str, str], population: Population) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    choices = "".join(
        f'<li><button name="person" value="{p.index}">#{p.index} '
        f"{html.escape(' '.join(p.identity.prenoms))} {html.escape(p.identity.nom_naissance)}"
        f" ({p.identity.date_naissance.isoformat()})</button></li>"
        for p in population.persons[:_LISTED]
    )
    return (
        '<!doctype html><html lang="fr"><meta charset="utf-8">'
        "<title>FranceConnect (bac à sable)</title>"
        "<h1>FranceConnect — bac à sable</h1>"
        "<p>Choisissez la personne du bac à sable au nom de laquelle vous vous connectez.</p>"
        f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}<ol start="0">{choices}</ol>'
        f'<label>ou son numéro : <input name="person" type="number" min="0" '
        f'max="{len(population.persons) - 1}"></label> <button>Se connecter</button></form>'
        "</html>"
    )


def _routes(provider: FranceConnectProvider, faults: FaultInjector) -> list[BaseRoute]:
    server = provider.server
    population = provider.population

    def http_form(request: Request, params: Mapping[str, str]) -> OAuthRequest:
        return OAuthRequest(request.method, str(request.url), request.headers, params)

    async def discovery(request: Request) -> Response:
        issuer = provider.issuer
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": issuer + AUTHORIZE_PATH,
                "token_endpoint": issuer + TOKEN_PATH,
                "userinfo_endpoint": issuer + USERINFO_PATH,
                "jwks_uri": issuer + JWKS_PATH,
                "scopes_supported": list(SCOPES),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": [provider.config.signing_alg],
                "userinfo_signing_alg_values_supported": [provider.config.signing_alg],
                "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
                "claims_supported": ["sub", *SCOPES[2:]],
                "acr_values_supported": ["eidas1"],
            }
        )

    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            server.get_consent_grant(http_form(request, params))
        except OAuth2Error as error:
            return _answer(server.handle_error_response(None, error))
        return HTMLResponse(_login_page(params, population))

    async def authorize_login(request: Request) -> Response:
        params = await _form(request)
        if params is None:
            return _oauth_error(413, "invalid_request", "Request body too large.", False)
        raw = params.pop("person", "")
        if not raw.isdigit() or int(raw) >= len(population.persons):
            return _oauth_error(400, "invalid_request", "Choose a sandbox person.", False)
        form = http_form(request, params)
        try:
            grant = server.get_consent_grant(form)
        except OAuth2Error as error:
            return _answer(server.handle_error_response(None, error))
        return _answer(
            server.create_authorization_response(form, grant_user=User(int(raw)), grant=grant)
        )

    async def token(request: Request) -> Response:
        params = await _form(request)
        if params is None:
            return _oauth_error(413, "invalid_request", "Request body too large.", False)
        return _answer(server.create_token_response(http_form(request, params)))

    async def userinfo(request: Request) -> Response:
        early = await faults.before(request)
        if early is not None:
            return early
        access_token = bearer(request.headers.get("authorization"))
        grant = provider.tokens.get(access_token) if access_token else None
        if grant is None:
            return _oauth_error(401, "invalid_token", "Unknown access token.", True)
        if grant.expires_at <= provider.clock():
            return _oauth_error(401, "invalid_token", "The access token expired.", True)
        return Response(userinfo_jwt(provider, grant), media_type="application/jwt")

    jwks_body = orjson.dumps(provider.jwks())

    async def jwks(request: Request) -> Response:
        return Response(jwks_body, media_type="application/json")

    async def test_token(request: Request) -> Response:
        body = shortcut_token(provider.tokens, population, await request.body())
        return JSONResponse(body)

    return [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route(AUTHORIZE_PATH, authorize_page, methods=["GET"]),
        Route(AUTHORIZE_PATH, authorize_login, methods=["POST"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(USERINFO_PATH, userinfo, methods=["GET", "POST"]),
        Route(JWKS_PATH, jwks, methods=["GET"]),
        Route("/_sandbox/france_connect/tokens", loopback_only(test_token), methods=["POST"]),
    ]


def build_app(
    setup: AgencySetup, tokens: FranceConnectTokens, config: FranceConnectConfig
) -> Starlette:
    """The provider's app; ``app.state.provider.issuer`` is set once its URL is known."""
    provider = FranceConnectProvider(setup.population, tokens, config, tokens.clock)
    if config.issuer:
        provider.issuer = config.issuer
    seed = setup.population.seed ^ zlib.crc32(b"france_connect")
    faults = FaultInjector("FranceConnect", "45", setup.faults, seed)
    stats = RequestStats()
    routes = _routes(provider, faults) + admin_routes(setup.population, faults, stats)
    app = Starlette(routes=routes, middleware=[Middleware(CountingMiddleware, stats=stats)])
    app.state.provider = provider
    return app
