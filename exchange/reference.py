"""Turning the person reference of a request into who the agencies are asked about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors import FranceConnectToken, PivotIdentity
from exchange.caller import Caller, Citizen
from exchange.errors import AccessRefused, InvalidRequest
from exchange.pseudonyms import Pseudonyms


class PersonTokens(Protocol):
    """Opens a FranceConnect access token into the person's pivot identity."""

    async def identity(self, token: FranceConnectToken) -> PivotIdentity: ...


@dataclass(frozen=True)
class PersonReference:
    """Exactly one of: a pivot identity, a sector handle, a FranceConnect token, or ``self``
    (the citizen calling)."""

    identity: PivotIdentity | None = None
    handle: str | None = None
    france_connect: FranceConnectToken | None = None
    self_: bool = False
    france_travail_id: str | None = None

    def __post_init__(self) -> None:
        given = [
            self.identity is not None,
            self.handle is not None,
            self.france_connect is not None,
            self.self_,
        ]
        if sum(given) != 1:
            raise InvalidRequest(
                "give exactly one of ref.identity, ref.handle, ref.franceConnectToken "
                "and ref.franceConnect"
            )


@dataclass(frozen=True)
class Subjects:
    """Who the agencies are asked about: the identity, and the citizen's token when present
    (API Particulier then answers in its FranceConnect mode)."""

    identity: PivotIdentity
    france_connect: FranceConnectToken | None = None
    france_travail_id: str | None = None

    @property
    def person(self) -> PivotIdentity | FranceConnectToken:
        return self.france_connect or self.identity


async def resolve(
    ref: PersonReference,
    caller: Caller,
    pseudonyms: Pseudonyms,
    tokens: PersonTokens | None,
) -> Subjects:
    if isinstance(caller, Citizen):
        if not ref.self_:
            raise AccessRefused("a citizen may only read their own data: use ref.franceConnect")
        return Subjects(caller.identity, caller.token, ref.france_travail_id)
    if ref.self_:
        raise InvalidRequest("ref.franceConnect is for citizens reading their own data")
    if ref.identity is not None:
        return Subjects(ref.identity, None, ref.france_travail_id)
    if ref.handle is not None:
        return Subjects(pseudonyms.open(ref.handle, caller.sector), None, ref.france_travail_id)
    assert ref.france_connect is not None
    if tokens is None:
        raise InvalidRequest("FranceConnect tokens are not accepted by this gateway")
    identity = await tokens.identity(ref.france_connect)
    return Subjects(identity, ref.france_connect, ref.france_travail_id)
