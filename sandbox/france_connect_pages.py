"""The sandbox FranceConnect provider over HTTP: discovery, sign-in page, token, userinfo,
JWKS and end of session.

Paths are FranceConnect v2's (``/api/v2/...``); the discovery document is served both there
and at the root. The sign-in page lists sandbox persons, each a button of its own, and offers
a separate form to give any person's index; the browser then goes back to the relying party
with a code. ``POST /_sandbox/france_connect/tokens`` skips the browser for tests and
benchmarks: it issues a real access token of this provider (loopback clients only).
"""

from __future__ import annotations

import html
import zlib
from collections.abc import Mapping

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.admin import admin_routes, loopback_only
from sandbox.agency import AgencySetup
from sandbox.faults import FaultInjector
from sandbox.france_connect import (
    SANDBOX_FC_CLIENT_ID,
    SCOPES,
    FranceConnectConfig,
    FranceConnectProvider,
    FranceConnectTokens,
)
from sandbox.oidc_routes import Paths, hidden_fields, oidc_routes, page
from sandbox.population import Population
from sandbox.protocol import JSONResponse, ProtocolError
from sandbox.stats import CountingMiddleware, RequestStats

PATHS = Paths(
    authorize="/api/v2/authorize",
    token="/api/v2/token",  # noqa: S106 - a path, not a secret
    userinfo="/api/v2/userinfo",
    jwks="/api/v2/jwks",
    end_session="/api/v2/session/end",
    discovery=("/.well-known/openid-configuration", "/api/v2/.well-known/openid-configuration"),
)
AUTHORIZE_PATH = PATHS.authorize
_LISTED = 20  # persons offered as one-click choices on the sign-in page


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


def login_page(params: Mapping[str, str], population: Population) -> str:
    """Each listed person is a submit button of the first form; the second form takes any
    person's number. Both carry the authorization request forward in hidden fields."""
    hidden = hidden_fields(params)
    choices = "\n".join(
        f'<li><button type="submit" name="person" value="{p.index}">'
        f"{html.escape(' '.join(p.identity.prenoms))} {html.escape(p.identity.nom_naissance)},"
        f" {'né' if p.identity.sexe == 'M' else 'née'} le"
        f" {p.identity.date_naissance.strftime('%d/%m/%Y')} (n° {p.index})"
        "</button></li>"
        for p in population.persons[:_LISTED]
    )
    last = len(population.persons) - 1
    body = (
        "<h1>FranceConnect — bac à sable</h1>\n"
        "<p>Choisissez la personne du bac à sable au nom de laquelle vous vous connectez. "
        "Ces personnes sont fictives.</p>\n"
        f'<form method="post" action="{AUTHORIZE_PATH}" aria-labelledby="liste">\n{hidden}\n'
        '<h2 id="liste">Personnes proposées</h2>\n'
        f"<ul>\n{choices}\n</ul>\n</form>\n"
        f'<form method="post" action="{AUTHORIZE_PATH}" aria-labelledby="numero">\n{hidden}\n'
        '<h2 id="numero">Autre personne</h2>\n'
        f'<p><label for="person">Numéro de la personne (de 0 à {last}) ou son adresse '
        "électronique</label>\n"
        '<span class="hint" id="person-aide">L\'adresse à laquelle un courriel du bac à sable '
        "lui a été envoyé, par exemple.</span>\n"
        '<input id="person" name="person" type="text" required autocomplete="off" '
        'aria-describedby="person-aide"></p>\n'
        '<p><button type="submit">Se connecter</button></p>\n</form>'
    )
    return page("Connexion — FranceConnect (bac à sable)", body)


def build_app(
    setup: AgencySetup, tokens: FranceConnectTokens, config: FranceConnectConfig
) -> Starlette:
    """The provider's app; ``app.state.provider.issuer`` is set once its URL is known."""
    population = setup.population
    provider = FranceConnectProvider(population, tokens, config, tokens.clock)
    if config.issuer:
        provider.issuer = config.issuer
    seed = population.seed ^ zlib.crc32(b"france_connect")
    faults = FaultInjector("FranceConnect", "45", setup.faults, seed)
    stats = RequestStats()

    # A person's fictitious e-mail address (the one the mail sink shows) signs them in too.
    by_email: dict[str, int] = {}
    for person in population.persons:
        if person.email is not None:
            by_email.setdefault(person.email.lower(), person.index)

    def chosen(form: Mapping[str, str]) -> int | None:
        raw = form.get("person", "").strip()
        if "@" in raw:
            return by_email.get(raw.lower())
        if not raw.isascii() or not raw.isdigit() or int(raw) >= len(population.persons):
            return None
        return int(raw)

    async def test_token(request: Request) -> Response:
        return JSONResponse(shortcut_token(tokens, population, await request.body()))

    discovery_extra = {
        "subject_types_supported": ["pairwise"],
        "claims_supported": ["sub", *SCOPES[2:]],
        "acr_values_supported": ["eidas1"],
    }
    routes = [
        *oidc_routes(
            provider,
            PATHS,
            lambda params: login_page(params, population),
            chosen,
            discovery_extra,
            faults.before,
        ),
        Route("/_sandbox/france_connect/tokens", loopback_only(test_token), methods=["POST"]),
        *admin_routes(population, faults, stats),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(CountingMiddleware, stats=stats)])
    app.state.provider = provider
    return app
