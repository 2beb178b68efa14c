"""The other side of the wire: simulated agencies serving a synthetic population over HTTP.

Never imported by the product packages, and imports none of them.
"""

from sandbox.faults import FaultConfig, load_faults
from sandbox.person import Household, Identity, Person, normalise
from sandbox.population import BirthQuery, Population
from sandbox.runner import (
    AGENCIES,
    SANDBOX_API_PARTICULIER_TOKEN,
    RunningSandbox,
    SandboxConfig,
    serve,
    start_in_thread,
)

__all__ = [
    "AGENCIES",
    "SANDBOX_API_PARTICULIER_TOKEN",
    "BirthQuery",
    "FaultConfig",
    "Household",
    "Identity",
    "Person",
    "Population",
    "RunningSandbox",
    "SandboxConfig",
    "load_faults",
    "normalise",
    "serve",
    "start_in_thread",
]
