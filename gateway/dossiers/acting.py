"""The gateway acting for a procedure: its client's caller and a request context of its own.

A registered démarches-simplifiées procedure names the client it acts for (the form builder
running the procedure): the prefill behind a dossier is that client's access, under the
procedure's purpose, recipient and reference, decided and audited like any GraphQL call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from exchange import AccessContext, Client
from gateway.clients import ClientRegistry
from prefill.champs import ChampDescriptor, descriptors_from_data
from prefill.procedure import Procedure, procedure_from_data
from runtime import Services
from schema.context import RequestContext
from store.procedures import ProcedureRecord


class ProcedureUnavailable(Exception):
    """The procedure cannot be acted for now: its client is unknown or disabled."""


@dataclass(frozen=True)
class Registered:
    """A registered procedure, read back: its mapping and the champs DS described."""

    procedure: Procedure
    champs: tuple[ChampDescriptor, ...]
    retention_days: int = 90  # the purpose's: how long what was read for a dossier is kept

    @classmethod
    def of(cls, record: ProcedureRecord) -> Registered:
        return cls(procedure_from_data(record.mapping), descriptors_from_data(record.champs))

    def with_retention(self, days: int) -> Registered:
        return replace(self, retention_days=days)

    def context(self) -> AccessContext:
        p = self.procedure
        return AccessContext(purpose=p.purpose, recipient=p.recipient, object=reference(p.number))


def reference(procedure: int) -> str:
    """The access's object: the procedure, as the audit log and the citizen's journal name it."""
    return f"demarche-{procedure}"


def acting_for(
    services: Services, registry: ClientRegistry, client_id: str, now: datetime
) -> RequestContext:
    """The context of ``client_id`` acting at ``now``, looked up in the client registry as a
    token of its would be (a client disabled since the procedure's registration cannot act)."""
    client = registry.get(client_id)
    if client is None or not client.active:
        raise ProcedureUnavailable("the procedure's client is unknown or disabled")
    if services.eligibility is None:
        raise ProcedureUnavailable("this gateway evaluates no benefit")
    return RequestContext(
        exchange=services.exchange,
        consents=services.consents,
        oversight=services.oversight,
        eligibility=services.eligibility,
        declarations=services.declarations,
        catalogue=services.catalogue,
        caller=Client(client.id, client.scopes, client.sector),
        now=now,
        on=now.date(),
        procedures=services.procedures,
    )
