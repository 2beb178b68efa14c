"""Who is asking: an agency application (OAuth2 client) or a citizen (person token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors import FranceConnectToken, PivotIdentity

CallerKind = Literal["client", "citizen"]
PERSON_READ_SCOPE = "person:read"


@dataclass(frozen=True)
class Client:
    """An authenticated API client, as the exchange needs to know it."""

    id: str
    scopes: frozenset[str]
    sector: str = "default"
    kind: CallerKind = "client"


@dataclass(frozen=True)
class Citizen:
    """A person authenticated by their FranceConnect token: they may only read themselves."""

    identity: PivotIdentity
    token: FranceConnectToken
    id: str = "citizen"
    kind: CallerKind = "citizen"
    sector: str = "citizen"
    scopes: frozenset[str] = frozenset({PERSON_READ_SCOPE})


Caller = Client | Citizen
