"""What a GraphQL execution knows besides the query: the caller, the services, the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from eligibility import EligibilityService
from exchange import Caller, Exchange
from exchange.consents import Consents
from exchange.declarations import Declarations
from exchange.oversight import Oversight
from policies import Catalogue
from store.procedures import ProcedureStore


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
