"""A ProConnect-style OpenID Connect provider for civil servants, built on ``sandbox.oidc``.

Like ProConnect (formerly AgentConnect, the State's federation for public agents):
authorization-code flow with PKCE (``S256``, required) and a nonce (required), scopes
``openid email given_name usual_name siret uid idp_id``, confidential relying parties
(``client_secret_post``), an ``id_token`` and a userinfo answer that are JWTs signed with the
provider's key, discovery, JWKS and an end-session endpoint. Its agents are fictitious
civil servants read from ``agents.yaml``; the HTTP face is ``sandbox.agent_connect_pages``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import yaml

from sandbox.france_connect import pairwise_sub
from sandbox.gazetteer import luhn_valid
from sandbox.oidc import (
    AccessTokens,
    Clock,
    Grant,
    OpenIdProvider,
    RelyingParty,
    SigningAlg,
    User,
    with_gateways,
)

# The sandbox console's credentials at this provider (public: known to nothing in production).
AGENT_CONNECT_CLIENT_ID = "unefois-sandbox-console"
AGENT_CONNECT_CLIENT_SECRET = "sandbox-agent-secret"  # noqa: S105 - public sandbox credential
AGENT_CONNECT_REDIRECT_URI = "http://127.0.0.1:8000/console/connexion/retour"
AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:8000/console/deconnexion/retour"
CONSOLE_AREA = "console"
AGENT_CONNECT_SCOPE = "openid email given_name usual_name siret uid idp_id"
SCOPES = tuple(AGENT_CONNECT_SCOPE.split())
# The identity provider of the federation the sandbox agents sign in with (ProConnect tells
# relying parties which one in ``idp_id``).
SANDBOX_IDP_ID = "0f8e3c41-5b7a-4d52-9c1e-7a3b2d6e9f10"
SHIPPED_AGENTS = Path(__file__).with_name("agents.yaml")
AGENT_CONNECT_PARTY = RelyingParty(
    AGENT_CONNECT_CLIENT_ID,
    AGENT_CONNECT_CLIENT_SECRET,
    (AGENT_CONNECT_REDIRECT_URI,),
    (AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI,),
)
_FIELDS = ("uid", "given_name", "usual_name", "email", "organisation", "siret", "role", "note")


@dataclass(frozen=True)
class Agent:
    uid: str
    given_name: str
    usual_name: str
    email: str
    organisation: str
    siret: str
    role: str  # the agent's function, shown on the sign-in page
    note: str  # what the agent is for in the sandbox, shown on the sign-in page


def load_agents(path: Path = SHIPPED_AGENTS) -> tuple[Agent, ...]:
    """The agents of ``path``; ``ValueError`` names the first entry that is not usable."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = raw.get("agents") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path.name}: expected a non-empty 'agents' list")
    agents: list[Agent] = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != set(_FIELDS):
            raise ValueError(f"{path.name}: agent {number} must have exactly {', '.join(_FIELDS)}")
        if not all(isinstance(entry[k], str) and entry[k] for k in _FIELDS):
            raise ValueError(f"{path.name}: agent {number}: every field is a non-empty string")
        agent = Agent(**{k: entry[k] for k in _FIELDS})
        siret = agent.siret
        if len(siret) != 14 or not siret.isdigit() or not luhn_valid(siret):
            raise ValueError(f"{path.name}: agent {number}: the SIRET is not valid")
        if "@" not in agent.email.strip("@"):
            raise ValueError(f"{path.name}: agent {number}: the e-mail is not an address")
        if agent.uid in {a.uid for a in agents}:
            raise ValueError(f"{path.name}: agent {number}: uid {agent.uid!r} is repeated")
        agents.append(agent)
    return tuple(agents)


@dataclass(frozen=True)
class AgentConnectConfig:
    relying_parties: tuple[RelyingParty, ...] = (AGENT_CONNECT_PARTY,)
    token_ttl: int = 3600
    issuer: str | None = None  # None: the URL the provider is listening on
    signing_alg: SigningAlg = "ES256"
    agents: Path = SHIPPED_AGENTS

    def with_gateways(self, gateway_urls: Iterable[str]) -> AgentConnectConfig:
        """The sandbox console's client also sent back to these gateways' console."""
        urls = tuple(gateway_urls)
        parties = tuple(
            with_gateways(p, urls, CONSOLE_AREA) if p.client_id == AGENT_CONNECT_CLIENT_ID else p
            for p in self.relying_parties
        )
        return AgentConnectConfig(
            parties, self.token_ttl, self.issuer, self.signing_alg, self.agents
        )


class AgentConnectProvider(OpenIdProvider):
    """The provider's state over the sandbox agents."""

    scopes: ClassVar[tuple[str, ...]] = SCOPES
    default_scope: ClassVar[str] = AGENT_CONNECT_SCOPE
    acr: ClassVar[str] = "eidas1"
    pkce: ClassVar[bool] = True
    require_nonce: ClassVar[bool] = True

    def __init__(
        self,
        config: AgentConnectConfig | None = None,
        clock: Clock = time.time,
        issuer: str = "http://127.0.0.1:8712",  # replaced by the bound URL once listening
    ) -> None:
        self.config = config or AgentConnectConfig()
        self.agents = load_agents(self.config.agents)
        tokens = AccessTokens(self.config.token_ttl, clock)
        tokens.default_scope = AGENT_CONNECT_SCOPE
        super().__init__(
            self.config.relying_parties, tokens, self.config.signing_alg, clock, issuer
        )
        self._sub_secret = b"sandbox-agent-connect-pairwise"

    def sub(self, client_id: str, agent: int) -> str:
        return pairwise_sub(self._sub_secret, client_id, agent)

    def id_token_claims(self, user: User, scope: str) -> dict[str, object]:
        return {"sub": self.sub(user.client_id, user.index), "idp_id": SANDBOX_IDP_ID}

    def userinfo_claims(self, grant: Grant) -> dict[str, object]:
        agent = self.agents[grant.person]
        available: dict[str, object] = {
            "email": agent.email,
            "given_name": agent.given_name,
            "usual_name": agent.usual_name,
            "siret": agent.siret,
            "uid": agent.uid,
            "idp_id": SANDBOX_IDP_ID,
        }
        scopes = set(grant.scope.split())
        granted = {k: v for k, v in available.items() if k in scopes}
        return {"sub": self.sub(grant.client_id, grant.person), **granted}
