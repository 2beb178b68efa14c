"""The "decide" step: which selected fields a client may receive for this request.

A decision is a value. The engine is pluggable so that the purpose and consent policies
(``policies/``) replace the scope check below without touching planning or fetching.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from exchange.context import AccessContext

Effect = Literal["allow", "deny"]


@dataclass(frozen=True)
class LegalBasis:
    title: str
    href: str


@dataclass(frozen=True)
class Decision:
    effect: Effect
    rule_id: str
    reasons: tuple[str, ...]
    legal_basis: LegalBasis | None
    policy_revision: str
    code: str = "FORBIDDEN"  # the error code a denied field carries


@dataclass(frozen=True)
class Client:
    """The authenticated caller, as the exchange needs to know it."""

    id: str
    scopes: frozenset[str]


class Decider(Protocol):
    def decide(
        self, client: Client, context: AccessContext, fields: frozenset[str], on: date
    ) -> Mapping[str, Decision]: ...


PERSON_READ_SCOPE = "person:read"


class ScopeDecider:
    """Allows every field to clients holding the ``person:read`` scope, denies otherwise.

    This is the gateway's coarse client check; field-level purpose policies refine it.
    """

    revision = "scope-v1"

    def decide(
        self, client: Client, context: AccessContext, fields: frozenset[str], on: date
    ) -> Mapping[str, Decision]:
        if PERSON_READ_SCOPE in client.scopes:
            allow = Decision("allow", "scope.person_read", (), None, self.revision)
            return dict.fromkeys(fields, allow)
        deny = Decision(
            "deny",
            "scope.person_read",
            (f"the client lacks the {PERSON_READ_SCOPE} scope",),
            None,
            self.revision,
        )
        return dict.fromkeys(fields, deny)
