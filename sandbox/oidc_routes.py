"""The HTTP face the sandbox's OpenID Connect providers share: discovery, sign-in, token,
userinfo, JWKS and end-session routes over an :class:`~sandbox.oidc.OpenIdProvider`.

Each provider brings its paths, its sign-in page and how a submitted page names the user.
Pages are plain HTML in French (labels, no script, no style from elsewhere): the sandbox is
driven by browsers and by tests that post the form as a browser would.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from authlib.oauth2.rfc6749.errors import OAuth2Error
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.oidc import AUTH_METHODS, EndSessionRefused, OAuthRequest, OpenIdProvider, User
from sandbox.protocol import JSONResponse, bearer

_FORM_LIMIT = 8 * 1024
# The authorization request's parameters a sign-in page carries forward, and no others.
FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "acr_values",
    "prompt",
    "claims",
)


@dataclass(frozen=True)
class Paths:
    authorize: str
    token: str
    userinfo: str
    jwks: str
    end_session: str
    discovery: tuple[str, ...] = ("/.well-known/openid-configuration",)


LoginPage = Callable[[Mapping[str, str]], str]  # the authorize request's params → HTML
Chosen = Callable[[Mapping[str, str]], int | None]  # the posted form → the user's index
Before = Callable[[Request], Awaitable[Response | None]]


def answer(result: tuple[int, Any, Mapping[str, str]]) -> Response:
    status, body, headers = result
    content = orjson.dumps(body) if isinstance(body, dict) else str(body).encode()
    media = "application/json" if isinstance(body, dict) else "text/plain"
    return Response(content, status_code=status, headers=dict(headers), media_type=media)


def oauth_error(status: int, error: str, description: str, bearer_challenge: bool) -> Response:
    headers = {"Cache-Control": "no-store"}
    if bearer_challenge:
        headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=headers)


async def read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded body (``None`` when too large); a repeated field keeps its first value."""
    body = await request.body()
    if len(body) > _FORM_LIMIT:
        return None
    form: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(key, value)
    return form


def hidden_fields(params: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in FORWARDED
    )


def page(title: str, body: str) -> str:
    """A whole HTML page: French, no script, readable without any style sheet."""
    return (
        '<!doctype html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        "</body>\n</html>\n"
    )


def _discovery_document(provider: OpenIdProvider, paths: Paths) -> dict[str, Any]:
    issuer = provider.issuer
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": issuer + paths.authorize,
        "token_endpoint": issuer + paths.token,
        "userinfo_endpoint": issuer + paths.userinfo,
        "jwks_uri": issuer + paths.jwks,
        "end_session_endpoint": issuer + paths.end_session,
        "scopes_supported": list(provider.scopes),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "id_token_signing_alg_values_supported": [provider.signing_alg],
        "userinfo_signing_alg_values_supported": [provider.signing_alg],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
    }
    if provider.pkce:
        document["code_challenge_methods_supported"] = ["S256"]
    return document


def oidc_routes(
    provider: OpenIdProvider,
    paths: Paths,
    login_page: LoginPage,
    chosen: Chosen,
    discovery_extra: Mapping[str, Any],
    before_userinfo: Before | None = None,
) -> list[BaseRoute]:
    server = provider.server

    def oauth_request(request: Request, params: Mapping[str, str]) -> OAuthRequest:
        return OAuthRequest(request.method, str(request.url), request.headers, params)

    async def discovery(request: Request) -> Response:
        return JSONResponse({**_discovery_document(provider, paths), **discovery_extra})

    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            server.get_consent_grant(oauth_request(request, params))
        except OAuth2Error as error:
            return answer(server.handle_error_response(None, error))
        return HTMLResponse(login_page(params), headers={"Cache-Control": "no-store"})

    async def authorize_login(request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return oauth_error(413, "invalid_request", "Request body too large.", False)
        index = chosen(form)
        if index is None:
            return oauth_error(400, "invalid_request", "Choose a sandbox user.", False)
        params = {k: v for k, v in form.items() if k in FORWARDED}
        login = oauth_request(request, params)
        try:
            grant = server.get_consent_grant(login)
        except OAuth2Error as error:
            return answer(server.handle_error_response(None, error))
        return answer(
            server.create_authorization_response(login, grant_user=User(index), grant=grant)
        )

    async def token(request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return oauth_error(413, "invalid_request", "Request body too large.", False)
        return answer(server.create_token_response(oauth_request(request, form)))

    async def userinfo(request: Request) -> Response:
        if before_userinfo is not None:
            early = await before_userinfo(request)
            if early is not None:
                return early
        access_token = bearer(request.headers.get("authorization"))
        grant = provider.tokens.get(access_token) if access_token else None
        if grant is None:
            return oauth_error(401, "invalid_token", "Unknown access token.", True)
        if grant.expires_at <= provider.clock():
            return oauth_error(401, "invalid_token", "The access token expired.", True)
        return Response(provider.userinfo_jwt(grant), media_type="application/jwt")

    jwks_body = orjson.dumps(provider.jwks())

    async def jwks(request: Request) -> Response:
        return Response(jwks_body, media_type="application/json")

    async def end_session(request: Request) -> Response:
        try:
            target = provider.end_session(dict(request.query_params))
        except EndSessionRefused as refused:
            body = f"<h1>Déconnexion refusée</h1>\n<p>{html.escape(str(refused))}</p>"
            return HTMLResponse(page("Déconnexion refusée", body), status_code=400)
        if target is not None:
            return RedirectResponse(target, status_code=302)
        body = "<h1>Vous êtes déconnecté</h1>\n<p>Vous pouvez fermer cette page.</p>"
        return HTMLResponse(page("Déconnexion", body))

    return [
        *(Route(path, discovery, methods=["GET"]) for path in paths.discovery),
        Route(paths.authorize, authorize_page, methods=["GET"]),
        Route(paths.authorize, authorize_login, methods=["POST"]),
        Route(paths.token, token, methods=["POST"]),
        Route(paths.userinfo, userinfo, methods=["GET", "POST"]),
        Route(paths.jwks, jwks, methods=["GET"]),
        Route(paths.end_session, end_session, methods=["GET"]),
    ]
