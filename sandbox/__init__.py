"""The other side of the wire: simulated agencies serving a synthetic population over HTTP,
a FranceConnect-style OpenID Connect provider for its persons, and a cosigning witness for
audit logs.

Never imported by the product packages, and imports none of them.
"""

from sandbox.faults import FaultConfig, load_faults
from sandbox.france_connect import (
    FC_SCOPE,
    SANDBOX_FC_CLIENT_ID,
    SANDBOX_FC_CLIENT_SECRET,
    SANDBOX_FC_REDIRECT_URI,
    FranceConnectConfig,
    FranceConnectTokens,
    RelyingParty,
)
from sandbox.person import Household, Identity, Person, normalise
from sandbox.population import BirthQuery, Population
from sandbox.runner import (
    AGENCIES,
    SANDBOX_API_PARTICULIER_TOKEN,
    SERVERS,
    RunningSandbox,
    SandboxConfig,
    serve,
    start_in_thread,
)
from sandbox.witness import WitnessState

__all__ = [
    "AGENCIES",
    "FC_SCOPE",
    "SANDBOX_API_PARTICULIER_TOKEN",
    "SANDBOX_FC_CLIENT_ID",
    "SANDBOX_FC_CLIENT_SECRET",
    "SANDBOX_FC_REDIRECT_URI",
    "SERVERS",
    "BirthQuery",
    "FaultConfig",
    "FranceConnectConfig",
    "FranceConnectTokens",
    "Household",
    "Identity",
    "Person",
    "Population",
    "RelyingParty",
    "RunningSandbox",
    "SandboxConfig",
    "WitnessState",
    "load_faults",
    "normalise",
    "serve",
    "start_in_thread",
]
