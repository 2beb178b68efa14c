"""Status updates: a known change of situation makes open offers and pending acts obsolete.

On a ``job_found``, ``birth`` or ``move`` event, the person's open offers (detected, notified
or opened) for the benefits that event may change (``proactive/rules.yaml``) become
``obsolete`` with the event as reason, and their messages not yet sent are cancelled: nobody
is told of an amount computed on a situation that is no longer theirs. The person is then
examined again on the new situation by the campaigns reading the same events
(``unefois campaign run --from-events``, whose rules are the same file); an obsolete offer does
not hold back the new one.

On a ``death``, every open offer of the person becomes obsolete, every automatic grant still
in force is closed, and every message still to be sent about them (offers, grants, renewals)
is cancelled: nothing is sent, and nothing is examined again.

Each change that closed something is an ``automatic_act`` audit entry naming the reason. Reads
nothing from the agencies: the event is the news. A replayed event finds nothing open and
writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime

from audit import AuditEntry
from connectors import PivotIdentity
from connectors.errors import ConnectorError
from eligibility.model import BENEFITS
from exchange import Pseudonyms
from exchange.auditing import Auditor, new_decision_id
from policies import Catalogue
from proactive.campaign import CLIENT_ID, SECTOR
from proactive.population import identity_from_params
from proactive.triggers import Rules
from store import GrantStore, OfferStore, OutboxStore, RenewalStore

log = logging.getLogger(__name__)

PURPOSE = "proactive_detection"  # the purpose the offers were made under
ACTION = "situation_update"
DEATH = "death"
UPDATE_EVENTS = ("job_found", "birth", "move", DEATH)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Change:
    """A change of situation an agency reported for a person."""

    identity: PivotIdentity
    kind: str  # one of UPDATE_EVENTS
    occurred_on: date


@dataclass
class Summary:
    examined: int = 0
    obsolete: int = 0  # offers made obsolete
    cancelled: int = 0  # messages cancelled before they were sent
    grants_closed: int = 0
    to_examine_again: int = 0  # persons whose benefits the campaigns examine again
    deaths: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def changes_from_triggers(triggers: Iterable[object]) -> list[Change]:
    """The changes of situation among the triggers, one per person and kind (the latest);
    a death, if any, comes last for its person."""
    found: dict[tuple[str, str], Change] = {}
    for trigger in triggers:
        kind = getattr(trigger, "type", None)
        if kind not in UPDATE_EVENTS:
            continue
        try:
            identity = identity_from_params(dict(getattr(trigger, "subject", {})))
        except (KeyError, ValueError, ConnectorError):
            continue
        on: date = getattr(trigger, "occurred_on")  # noqa: B009 - a Trigger's field
        key = (identity.key(), str(kind))
        known = found.get(key)
        if known is None or known.occurred_on < on:
            found[key] = Change(identity, str(kind), on)
    return sorted(found.values(), key=lambda c: (c.kind == DEATH, c.occurred_on))


def update_rules() -> Rules:
    """What the update reader of the feeds takes: the changes of situation, with every
    benefit (the runner narrows a change to its shipped rule's benefits; a death closes all)."""
    return Rules(events=dict.fromkeys(UPDATE_EVENTS, BENEFITS))


class UpdateRunner:
    def __init__(
        self,
        offers: OfferStore,
        outbox: OutboxStore,
        grants: GrantStore,
        renewals: RenewalStore,
        pseudonyms: Pseudonyms,
        auditor: Auditor,
        catalogue: Catalogue,
        rules: Rules,
        clock: Clock,
        *,
        recipient: str,
        client_id: str = CLIENT_ID,
    ) -> None:
        purpose = catalogue.purposes.get(PURPOSE)
        if purpose is None:
            raise ValueError(f"the policy catalogue has no {PURPOSE!r} purpose")
        self._legal_basis = (purpose.legal_basis.title, purpose.legal_basis.href)
        self._revision = catalogue.revision
        self._offers = offers
        self._outbox = outbox
        self._grants = grants
        self._renewals = renewals
        self._pseudonyms = pseudonyms
        self._auditor = auditor
        self._rules = rules
        self._clock = clock
        self._recipient = recipient
        self._client_id = client_id

    async def run(self, changes: Iterable[Change], campaign_id: str) -> Summary:
        summary = Summary()
        for change in changes:
            summary.examined += 1
            if change.kind == DEATH:
                await self._death(change, campaign_id, summary)
            else:
                await self._changed(change, campaign_id, summary)
        return summary

    async def _changed(self, change: Change, campaign_id: str, summary: Summary) -> None:
        benefits = self._rules.benefits_for(change.kind)
        pseudonym = self._pseudonyms.pseudonym(change.identity, SECTOR)
        now = self._clock()
        stale = await self._offers.obsolete(pseudonym, change.kind, now, benefits=benefits)
        if benefits:
            summary.to_examine_again += 1
        if not stale:
            return
        ids = tuple(o.id for o in stale)
        summary.obsolete += len(stale)
        summary.cancelled += await self._outbox.cancel(offer_ids=ids)
        details = (("action", ACTION), ("reason", change.kind), ("offers", ",".join(ids)))
        await self._auditor.append(self._entry(now, campaign_id, change, details))

    async def _death(self, change: Change, campaign_id: str, summary: Summary) -> None:
        summary.deaths += 1
        pseudonym = self._pseudonyms.pseudonym(change.identity, SECTOR)
        now = self._clock()
        stale = await self._offers.obsolete(pseudonym, DEATH, now)
        closed = []
        for grant in await self._grants.for_person(pseudonym):
            if grant.status == "granted":
                closed.append((await self._grants.mark_closed(grant.id, now)).id)
        renewed = [r.id for r in await self._renewals.for_person(pseudonym)]
        prefixes = tuple(f"grant:{g}:" for g in closed) + tuple(f"renewal:{r}:" for r in renewed)
        ids = tuple(o.id for o in stale)
        cancelled = await self._outbox.cancel(offer_ids=ids, key_prefixes=prefixes)
        summary.obsolete += len(stale)
        summary.grants_closed += len(closed)
        summary.cancelled += cancelled
        if not (stale or closed or cancelled):
            return
        details = (
            ("action", ACTION),
            ("reason", DEATH),
            ("offers", ",".join(ids)),
            ("grants", ",".join(closed)),
        )
        await self._auditor.append(self._entry(now, campaign_id, change, details))

    def _entry(
        self,
        now: datetime,
        campaign_id: str,
        change: Change,
        details: tuple[tuple[str, str], ...],
    ) -> AuditEntry:
        return AuditEntry(
            id=new_decision_id(),
            time=now,
            kind="automatic_act",
            client=self._client_id,
            caller="client",
            purpose=PURPOSE,
            recipient=self._recipient,
            object=campaign_id,
            legal_basis=self._legal_basis,
            person=self._auditor.person_of(change.identity),
            released=(),
            denied=(),
            agencies=(),
            outcome="released",
            policy_revision=self._revision,
            details=details,
        )
