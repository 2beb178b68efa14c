"""A FranceConnect-style OpenID Connect provider for the sandbox persons, built on authlib.

Like FranceConnect v2: authorization-code flow with ``openid identite_pivot``, confidential
relying parties (``client_secret_post`` or ``client_secret_basic``), a per-client pairwise
``sub``, opaque expiring access tokens, an ``id_token`` and a userinfo answer that are both
JWTs signed with the provider's key (``application/jwt``), and an end-session endpoint that
sends the browser back to a registered post-logout URI. The machinery is
``sandbox.oidc``'s; the HTTP face is in ``sandbox.france_connect_pages``.

The access tokens live in ``FranceConnectTokens``, one object shared in-process with API
Particulier's simulation: the real API Particulier introspects the citizen's FranceConnect
token, ours looks it up in the same registry.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from sandbox.oidc import (
    AccessTokens,
    Clock,
    Grant,
    OAuthRequest,
    OpenIdProvider,
    RelyingParty,
    SigningAlg,
    User,
    with_gateways,
)
from sandbox.person import Identity
from sandbox.population import Population

__all__ = [
    "FC_SCOPE",
    "SANDBOX_FC_CLIENT_ID",
    "SANDBOX_FC_CLIENT_SECRET",
    "SANDBOX_FC_POST_LOGOUT_REDIRECT_URI",
    "SANDBOX_FC_REDIRECT_URI",
    "Clock",
    "FcGrant",
    "FranceConnectConfig",
    "FranceConnectProvider",
    "FranceConnectTokens",
    "OAuthRequest",
    "RelyingParty",
    "User",
    "identity_claims",
    "pairwise_sub",
]

SANDBOX_FC_CLIENT_ID = "unefois-sandbox-rp"
SANDBOX_FC_CLIENT_SECRET = "sandbox-fc-secret"  # noqa: S105 - public sandbox credential
# The gateway's citizen space, at its default address.
SANDBOX_FC_REDIRECT_URI = "http://127.0.0.1:8000/mon-espace/connexion/retour"
SANDBOX_FC_POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:8000/mon-espace/deconnexion/retour"
CITIZEN_AREA = "mon-espace"
FC_SCOPE = "openid identite_pivot"
# ``identite_pivot`` grants every claim below; FranceConnect also accepts them one by one.
PIVOT_CLAIMS = tuple(
    "given_name given_name_array family_name birthdate gender birthplace birthcountry"
    " preferred_username".split()
)
SCOPES = ("openid", "identite_pivot", *PIVOT_CLAIMS)
SANDBOX_FC_PARTY = RelyingParty(
    SANDBOX_FC_CLIENT_ID,
    SANDBOX_FC_CLIENT_SECRET,
    (SANDBOX_FC_REDIRECT_URI,),
    (SANDBOX_FC_POST_LOGOUT_REDIRECT_URI,),
)

FcGrant = Grant  # what a FranceConnect access token stands for (``person`` is its index)


@dataclass(frozen=True)
class FranceConnectConfig:
    relying_parties: tuple[RelyingParty, ...] = (SANDBOX_FC_PARTY,)
    token_ttl: int = 3600
    issuer: str | None = None  # None: the URL the provider is listening on
    signing_alg: SigningAlg = "ES256"

    def with_gateways(self, gateway_urls: Iterable[str]) -> FranceConnectConfig:
        """The sandbox relying party also sent back to these gateways' citizen space."""
        urls = tuple(gateway_urls)
        parties = tuple(
            with_gateways(p, urls, CITIZEN_AREA) if p.client_id == SANDBOX_FC_CLIENT_ID else p
            for p in self.relying_parties
        )
        return FranceConnectConfig(parties, self.token_ttl, self.issuer, self.signing_alg)


class FranceConnectTokens(AccessTokens):
    """FranceConnect's access tokens, also read by API Particulier's simulation."""

    default_scope = FC_SCOPE

    def __init__(self, ttl: int = 3600, clock: Clock = time.time) -> None:
        super().__init__(ttl, clock)


def pairwise_sub(secret: bytes, client_id: str, person: int) -> str:
    """FranceConnect's ``sub``: one pseudonym per (person, relying party), unlinkable across."""
    digest = hmac.new(secret, f"{client_id}|{person}".encode(), hashlib.sha256).hexdigest()
    return digest + "v1"


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


class FranceConnectProvider(OpenIdProvider):
    """The provider's state over the sandbox population, with the shared access tokens."""

    scopes: ClassVar[tuple[str, ...]] = SCOPES
    default_scope: ClassVar[str] = FC_SCOPE
    acr: ClassVar[str] = "eidas1"

    def __init__(
        self,
        population: Population,
        tokens: AccessTokens,
        config: FranceConnectConfig | None = None,
        clock: Clock = time.time,
        issuer: str = "http://127.0.0.1:8708",  # replaced by the bound URL once listening
    ) -> None:
        self.population = population
        self.config = config or FranceConnectConfig()
        super().__init__(
            self.config.relying_parties, tokens, self.config.signing_alg, clock, issuer
        )
        # Stable across restarts for one population, so a relying party's subs stay put.
        self._sub_secret = f"sandbox-fc-pairwise-{population.seed}".encode()

    def sub(self, client_id: str, person: int) -> str:
        return pairwise_sub(self._sub_secret, client_id, person)

    def id_token_claims(self, user: User, scope: str) -> dict[str, object]:
        # FranceConnect's id_token carries the pseudonym only; the identity is at userinfo.
        return {"sub": self.sub(user.client_id, user.index)}

    def userinfo_claims(self, grant: Grant) -> dict[str, object]:
        identity = self.population.persons[grant.person].identity
        return {
            "sub": self.sub(grant.client_id, grant.person),
            **identity_claims(identity, grant.scope),
        }
