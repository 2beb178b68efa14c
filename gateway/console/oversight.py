"""The console's way to the audit log: :class:`exchange.oversight.Oversight`, with the signed-in
agent recorded on every query and a person searched by the pseudonym the console keeps.

Two small additions over the oversight API, for what the console needs and the API does not
take:

- every entry the console's queries append names the agent who made them (``agent_sub``, the
  identity provider's subject, and ``agent_siret``, their organisation): the API records the
  auditor client, the console adds who was behind it (never a name or an e-mail);
- a person is searched by their audit pseudonym (``AuditQuery.person_pseudonym``): the
  console turns the identity the auditor typed into it once, keeps only the pseudonym, and
  searches with it on the next pages, the exports and the entry links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors import PivotIdentity
from exchange import Client
from exchange.auditing import Auditor
from exchange.oversight import Oversight
from gateway.console.agent import Agent
from runtime import Services

Clock = Callable[[], datetime]


class _AgentSink:
    """The audit log, with the agent behind the console's queries added to their details."""

    def __init__(self, log: Any, agent: Agent) -> None:
        self._log = log
        self._details = (("agent_siret", agent.siret), ("agent_sub", agent.sub))

    async def append(self, entry: Any) -> Any:
        if entry.kind == "audit_query":
            entry = replace(entry, details=(*entry.details, *self._details))
        return await self._log.append(entry)


def oversight_for(services: Services, agent: Agent, clock: Clock) -> Oversight:
    """The oversight service as this agent uses it: their queries recorded in their name."""
    auditor = Auditor(_AgentSink(services.audit_log, agent), services.pseudonyms, clock)
    return Oversight(services.audit_reader, auditor, services.catalogue, services.pseudonyms, clock)


def caller_of(agent: Agent) -> Client:
    """The auditor client the agent's organisation acts as towards the log."""
    return Client(agent.client, frozenset(), "console")


def pseudonym_of(services: Services, identity: PivotIdentity) -> str:
    return services.oversight.audit_pseudonym(identity)
