"""The sandbox ProConnect-style provider over HTTP: discovery, sign-in page, token, userinfo,
JWKS and end of session, at ProConnect's paths (``/api/v2/...``; discovery also at the root).

The sign-in page lists the sandbox agents, each a button of its own: a tester picks who signs
in, and the browser goes back to the relying party with a code.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from starlette.applications import Starlette

from sandbox.agent_connect import SCOPES, Agent, AgentConnectConfig, AgentConnectProvider
from sandbox.oidc import Clock
from sandbox.oidc_routes import Paths, hidden_fields, oidc_routes, page

PATHS = Paths(
    authorize="/api/v2/authorize",
    token="/api/v2/token",  # noqa: S106 - a path, not a secret
    userinfo="/api/v2/userinfo",
    jwks="/api/v2/jwks",
    end_session="/api/v2/session/end",
    discovery=("/.well-known/openid-configuration", "/api/v2/.well-known/openid-configuration"),
)


def login_page(params: Mapping[str, str], agents: Sequence[Agent]) -> str:
    hidden = hidden_fields(params)
    choices = "\n".join(
        f'<li><button type="submit" name="agent" value="{index}">'
        f"{html.escape(a.given_name)} {html.escape(a.usual_name)} — {html.escape(a.role)},"
        f" {html.escape(a.organisation)} (SIRET {a.siret})</button>"
        f"<br>{html.escape(a.note)}</li>"
        for index, a in enumerate(agents)
    )
    body = (
        "<h1>ProConnect — bac à sable</h1>\n"
        "<p>Choisissez l'agent public du bac à sable au nom duquel vous vous connectez. "
        "Ces agents et leurs organismes sont fictifs.</p>\n"
        f'<form method="post" action="{PATHS.authorize}" aria-labelledby="liste">\n{hidden}\n'
        '<h2 id="liste">Agents proposés</h2>\n'
        f"<ul>\n{choices}\n</ul>\n</form>"
    )
    return page("Connexion — ProConnect (bac à sable)", body)


def build_app(config: AgentConnectConfig, clock: Clock) -> Starlette:
    """The provider's app; ``app.state.provider.issuer`` is set once its URL is known."""
    provider = AgentConnectProvider(config, clock)
    if config.issuer:
        provider.issuer = config.issuer
    agents = provider.agents

    def chosen(form: Mapping[str, str]) -> int | None:
        raw = form.get("agent", "").strip()
        return int(raw) if raw.isdigit() and int(raw) < len(agents) else None

    discovery_extra = {
        "subject_types_supported": ["pairwise"],
        "claims_supported": ["sub", *SCOPES[1:]],
        "acr_values_supported": ["eidas1"],
    }
    routes = oidc_routes(
        provider, PATHS, lambda params: login_page(params, agents), chosen, discovery_extra
    )
    app = Starlette(routes=routes)
    app.state.provider = provider
    return app
