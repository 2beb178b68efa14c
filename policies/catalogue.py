"""The loaded policy catalogue: purposes, clients and field categories, with their revision.

A catalogue is built once (by the loader, or directly in tests) and shared read-only by every
request; the indexes below are computed here so that a decision only does dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from policies.auditors import AuditorOrganisation
from policies.errors import PolicyError, UnknownField
from policies.model import Category, ClientPolicy, Purpose

# The group a citizen acting on their own behalf belongs to. Reserved: no client may declare
# it, or that client would be given every purpose meant for citizens.
CITIZEN_GROUP = "citizen"


# eq=False: a catalogue is identified by the object (and named by its revision); comparing
# or hashing its mappings field by field would be slow and is never what a caller means.
@dataclass(frozen=True, eq=False)
class Catalogue:
    purposes: Mapping[str, Purpose]
    clients: Mapping[str, ClientPolicy]
    categories: Mapping[str, Category]
    revision: str  # short sha256 of the canonical content: which catalogue a decision used
    # SIRET → the organisation whose agents may audit (the auditors' console)
    auditors: Mapping[str, AuditorOrganisation] = field(default_factory=dict)
    _category_of: Mapping[str, str] = field(init=False, repr=False)
    _users: Mapping[str, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Copies behind read-only views: a caller keeping the dicts it passed cannot change
        # the policy under a running gateway.
        object.__setattr__(self, "purposes", MappingProxyType(dict(self.purposes)))
        object.__setattr__(self, "clients", MappingProxyType(dict(self.clients)))
        object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))
        object.__setattr__(self, "auditors", MappingProxyType(dict(self.auditors)))
        category_of: dict[str, str] = {}
        for category in self.categories.values():
            for name in category.fields:
                other = category_of.setdefault(name, category.id)
                if other != category.id:
                    raise PolicyError(
                        f"field {name!r} is in two categories: {other!r} and {category.id!r}"
                    )
        object.__setattr__(self, "_category_of", MappingProxyType(category_of))
        users = {pid: self._clients_of(purpose) for pid, purpose in self.purposes.items()}
        object.__setattr__(self, "_users", MappingProxyType(users))

    def _clients_of(self, purpose: Purpose) -> frozenset[str]:
        named = {c for c in purpose.clients if c in self.clients}
        grouped = {c.id for c in self.clients.values() if c.groups & purpose.groups}
        return frozenset(named | grouped)

    @property
    def fields(self) -> frozenset[str]:
        """Every person-view field some category holds."""
        return frozenset(self._category_of)

    def category_of(self, field: str) -> str:
        try:
            return self._category_of[field]
        except KeyError:
            raise UnknownField(field) from None

    def client_may_use(self, client_id: str, purpose_id: str) -> bool:
        """Whether the client, by id or by one of its groups, is listed on the purpose.

        Says nothing of dates: a purpose not in force is refused by the engine separately.
        """
        users = self._users.get(purpose_id)
        return users is not None and client_id in users

    def auditor(self, siret: str, email: str | None) -> AuditorOrganisation | None:
        """The organisation an agent of ``siret`` with this e-mail may audit for, if any."""
        organisation = self.auditors.get(siret)
        return organisation if organisation is not None and organisation.admits(email) else None

    def citizen_may_use(self, purpose_id: str) -> bool:
        purpose = self.purposes.get(purpose_id)
        return purpose is not None and CITIZEN_GROUP in purpose.groups
