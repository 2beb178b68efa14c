"""The values policies speak in: legal bases, purposes, clients, categories, consents, decisions.

All frozen: a catalogue is loaded once and shared; a decision is a value that the audit log
records as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Effect = Literal["allow", "deny"]
LawfulGround = Literal["public_task", "legal_obligation", "consent"]
# The code a denied field carries to the client (DESIGN §2).
DenialCode = Literal["FORBIDDEN", "CONSENT_REQUIRED"]


@dataclass(frozen=True)
class LegalBasis:
    title: str
    href: str


@dataclass(frozen=True)
class Period:
    """``start`` included, ``end`` excluded; ``end=None``: still in force."""

    start: date
    end: date | None = None

    def contains(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on < self.end)


@dataclass(frozen=True)
class Provision:
    """Field categories a purpose may release during a period."""

    period: Period
    categories: frozenset[str]


@dataclass(frozen=True)
class PartnerAccess:
    """What a purpose may read about the partner the examined person's household names.

    The partner is not the person the request is about: reading their data needs its own
    grant, with its own legal basis (the rules that count "the household's resources"), and
    only the categories listed here — never the purpose's own list.
    """

    legal_basis: LegalBasis
    provisions: tuple[Provision, ...]  # non-overlapping, ordered by start

    def categories_on(self, on: date) -> frozenset[str]:
        for provision in self.provisions:
            if provision.period.contains(on):
                return provision.categories
        return frozenset()


@dataclass(frozen=True)
class Purpose:
    id: str
    label: str  # plain French, shown to citizens
    legal_basis: LegalBasis
    lawful_ground: LawfulGround
    provisions: tuple[Provision, ...]  # non-overlapping, ordered by start
    clients: frozenset[str]  # client ids
    groups: frozenset[str]  # client groups
    retention_days: int
    source: str  # the file it was read from, for messages
    # None: the purpose never reads anything about a member of the person's household.
    partner: PartnerAccess | None = None

    def categories_on(self, on: date) -> frozenset[str]:
        for provision in self.provisions:
            if provision.period.contains(on):
                return provision.categories
        return frozenset()

    def in_force(self, on: date) -> bool:
        return any(p.period.contains(on) for p in self.provisions)


@dataclass(frozen=True)
class ClientPolicy:
    id: str
    name: str  # the organisation, shown to citizens
    groups: frozenset[str]


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    fields: frozenset[str]  # person-view fields (exchange's catalogue)


@dataclass(frozen=True)
class Consent:
    """A person's consent, given to one client or for one purpose, on some categories.

    ``person`` is the consent-sector pseudonym, never a name. Valid from ``valid_from``
    (included) to ``valid_until`` (included); a revocation ends it at once.
    """

    id: str
    person: str
    client_id: str | None
    purpose: str | None
    categories: frozenset[str]
    granted_at: datetime
    valid_from: date
    valid_until: date
    revoked_at: datetime | None = None

    def active(self, on: date) -> bool:
        return self.revoked_at is None and self.valid_from <= on <= self.valid_until


@dataclass(frozen=True)
class Decision:
    effect: Effect
    rule_id: str
    reasons: tuple[str, ...]
    legal_basis: LegalBasis | None
    policy_revision: str
    code: DenialCode = "FORBIDDEN"
