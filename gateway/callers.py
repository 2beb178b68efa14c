"""Who is calling: an API client with our access token, or a citizen with a person token.

Our access tokens are JWTs (three dot-separated parts); FranceConnect access tokens are
opaque. A JWT is only ever checked as ours, so a forged JWT cannot be passed off as a person
token, and an opaque token only ever as a person token.
"""

from __future__ import annotations

import logging
from typing import Protocol

from starlette.requests import Request

from connectors import ConnectorError, FranceConnectToken, PivotIdentity
from exchange import Caller, Citizen, Client
from exchange.errors import PersonTokenRefused
from gateway.client_store import ClientSource, StaticClients
from gateway.clients import Client as ClientEntry
from gateway.clients import ClientRegistry
from gateway.errors import Unauthenticated
from gateway.graphql_http import Authenticate, GraphQLRequestError
from gateway.state import services_of
from gateway.tokens import Principal, TokenVerifier, bearer_token, www_authenticate
from store import StoreError

log = logging.getLogger(__name__)
DEFAULT_SECTOR = "default"
CITIZEN_SECTOR = "citizen"


class PersonTokenCheck(Protocol):
    """Opens a person token into the person's identity; raises ``PersonTokenRefused`` (and
    has logged why)."""

    async def identity(self, token: FranceConnectToken) -> PivotIdentity: ...


def _is_jwt(token: str) -> bool:
    return token.count(".") == 2


def _still_allowed(principal: Principal, client: ClientEntry) -> bool:
    """A token of ours holds while its client is active and was issued no earlier than the
    client's last secret (``iat`` has whole seconds: the second of the change counts)."""
    if not client.active:
        return False
    rotated = client.secret_rotated_at
    if rotated is None or principal.issued_at is None:
        return True
    return principal.issued_at >= rotated.replace(microsecond=0)


def authenticator(
    verifier: TokenVerifier,
    clients: ClientSource | ClientRegistry,
    persons: PersonTokenCheck | None,
    issuer: str | None = None,
) -> Authenticate:
    """``issuer``: our own tokens' issuer, whose clients must still be in good standing in the
    registry at each request (disabled, or their secret changed since the token: refused)."""
    source = StaticClients(clients) if isinstance(clients, ClientRegistry) else clients

    async def authenticate(request: Request) -> Caller:
        try:
            token = bearer_token(request.headers)
            if _is_jwt(token) or persons is None:
                principal = await verifier.verify(token)
                try:
                    client = (await source.current(request)).get(principal.client_id)
                except StoreError:
                    log.warning("client registry unavailable")
                    raise GraphQLRequestError(
                        503, "INTERNAL", "the client registry cannot be read; retry later"
                    ) from None
                if (
                    client is not None
                    and principal.issuer == issuer
                    and not _still_allowed(principal, client)
                ):
                    raise Unauthenticated("client_revoked", "Invalid or missing access token")
                # A client of the trusted external issuer is not in our registry: default sector.
                sector = client.sector if client is not None else DEFAULT_SECTOR
                return Client(principal.client_id, principal.scopes, sector)
            fc = FranceConnectToken(token)
            identity = await persons.identity(fc)
            # The citizen's id (rate limits, logs) is a pseudonym: never a name.
            pseudonym = services_of(request).pseudonyms.pseudonym(identity, CITIZEN_SECTOR)
            return Citizen(identity=identity, token=fc, id="citizen:" + pseudonym)
        except Unauthenticated as exc:
            # The precise reason is logged, never told: it would help probe our keys.
            log.info("token refused", extra={"reason": exc.reason})
            raise GraphQLRequestError(
                401, "UNAUTHENTICATED", exc.message, challenge=www_authenticate(exc)
            ) from None
        except PersonTokenRefused as exc:
            raise GraphQLRequestError(401, "UNAUTHENTICATED", exc.message) from None
        except ConnectorError:  # a malformed person token
            raise GraphQLRequestError(
                401, "UNAUTHENTICATED", "Invalid or missing access token"
            ) from None

    return authenticate
