"""What a GraphQL execution knows besides the query: the caller, the services, the time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from eligibility import EligibilityService
from exchange import Caller, Exchange
from exchange.consents import Consents
from exchange.declarations import Declarations
from exchange.oversight import Oversight
from policies import Catalogue
from store.procedures import ProcedureStore

# The request headers a federation router forwards with an entity read: its access context
# (``schema.federation``), lower-case as HTTP/2 and the ASGI scope spell header names.
ACCESS_HEADERS = ("unefois-purpose", "unefois-recipient", "unefois-object")


@dataclass(frozen=True)
class RequestContext:
    exchange: Exchange
    consents: Consents
    oversight: Oversight
    eligibility: EligibilityService
    declarations: Declarations
    catalogue: Catalogue
    caller: Caller  # the authenticated client or citizen
    now: datetime  # the request's instant (UTC); every rule and window reads ``on``
    on: date
    # The démarches-simplifiées procedures registered for the forms (prefill's dsPayload).
    procedures: ProcedureStore | None = None
    # The ``ACCESS_HEADERS`` the request carried, by lower-case name.
    access_headers: Mapping[str, str] = field(default_factory=dict)
