"""What a GraphQL execution knows besides the query: the caller, the service, the date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from exchange import Client, Exchange


@dataclass(frozen=True)
class RequestContext:
    exchange: Exchange
    client: Client  # the authenticated caller
    on: date  # the reference date of every rule and window in this request
