"""Automatic grant of the free complémentaire santé solidaire (CSS) to new RSA recipients.

The law deems RSA recipients to meet the conditions of the CSS without participation and
gives it to them unless they object (code de la sécurité sociale, art. L861-2; loi n°
2021-1754 du 23 décembre 2021 de financement de la sécurité sociale pour 2022; see
docs/proactive.md). So for each ``rsa_granted`` event of the CAF, the person's CNAM coverage
is read under the ``css_automatic_grant`` purpose (audited like any read) and the free CSS is
attributed through the CNAM, unless the person already has the CSS, or refused a grant
before (a grant they undid: their objection holds).

Every grant is an ``automatic_act`` audit entry, a row in ``grants`` and a message telling
the person what was granted, why, and how to refuse it; :meth:`GrantRunner.revert` undoes one
(the CNAM withdraws it, audited). An open CSS offer of the person has no object any more: it
becomes obsolete. Everything is idempotent: the CNAM request carries a key derived from the
person's pseudonym and the day of the RSA, the row and the messages are keyed the same way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from audit import AuditEntry
from connectors import CallContext, PivotIdentity, records
from connectors.cnam import AttributionRefused, Cnam
from connectors.errors import ConnectorError
from eligibility.inputs import person_data_from_fields
from exchange import Exchange, Pseudonyms
from exchange.auditing import Auditor, new_decision_id
from exchange.caller import PERSON_READ_SCOPE, Client
from exchange.context import AccessContext
from exchange.errors import ExchangeError
from exchange.reference import PersonReference
from exchange.service import PersonRequest
from policies import Catalogue
from proactive.campaign import CLIENT_ID, CONTACT_FIELD, SECTOR
from proactive.notifications.rendering import french_date
from proactive.population import channels, identity_from_params
from proactive.triggers import Rules
from store import Grant, GrantStore, Message, OfferStore, OutboxStore

log = logging.getLogger(__name__)

PURPOSE = "css_automatic_grant"
BENEFIT = "css"
CAUSE = "rsa_granted"
ACTION = "css_automatic_grant"
REVERT_ACTION = "css_automatic_grant_reverted"
CLOSE_ACTION = "css_automatic_grant_closed"
AGENCY = "cnam"
# Who the person is, whether the CNAM covers them, and where to tell them: nothing else.
FIELDS = frozenset({"identity", "healthCoverage", "household"})
CONCURRENCY = 8
_IDS = uuid.UUID("0b7f6c8e-2d4a-4f0e-9c51-7a3e5d2b9f14")  # namespace of the grant row ids
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Candidate:
    """A person whose right to the RSA opened on ``rsa_since``."""

    identity: PivotIdentity
    rsa_since: date
    # France Travail's identifier, when an event gave it: the key to the contact details the
    # person gave France Travail, so that they are told by e-mail and SMS.
    france_travail_id: str | None = None


@dataclass
class Summary:
    examined: int = 0
    granted: int = 0
    notified: int = 0
    already_has: int = 0  # the CNAM covers them with the CSS already
    objected: int = 0  # they undid a grant before
    already_done: int = 0  # granted by an earlier run
    refused: int = 0  # the CNAM refused the attribution (covered meanwhile, deceased…)
    reverted: int = 0
    # Granted with no way to tell them: no e-mail, no mobile, no postal address a letter can
    # be sent to (NF Z10-011, ``proactive.postal``).
    without_address: int = 0
    errors: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def candidates_from_triggers(triggers: Iterable[object]) -> list[Candidate]:
    """The persons of the CAF's ``rsa_granted`` events, one per person (their latest RSA
    start); other events, and subjects that are not a whole identity, are left out."""
    found: dict[str, Candidate] = {}
    for trigger in triggers:
        if getattr(trigger, "type", None) != CAUSE:
            continue
        try:
            identity = identity_from_params(dict(getattr(trigger, "subject", {})))
        except (KeyError, ValueError, ConnectorError):
            continue
        since: date = getattr(trigger, "occurred_on")  # noqa: B009 - a Trigger's field
        known = found.get(identity.key())
        if known is None or known.rsa_since < since:
            ft = getattr(trigger, "france_travail_id", None)
            found[identity.key()] = Candidate(identity, since, ft)
    return list(found.values())


def grant_rules() -> Rules:
    """What the grant reader of the feeds takes: the CAF's RSA events, for the CSS."""
    return Rules(events={CAUSE: (BENEFIT,)})


def grant_key(pseudonym: str, rsa_since: date) -> str:
    """The idempotency key of a grant at the CNAM, from which its row id derives too."""
    return f"css-grant:{pseudonym}:{rsa_since.isoformat()}"


def first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


class GrantRunner:
    def __init__(
        self,
        exchange: Exchange,
        cnam: Cnam,
        grants: GrantStore,
        offers: OfferStore,
        outbox: OutboxStore,
        pseudonyms: Pseudonyms,
        auditor: Auditor,
        catalogue: Catalogue,
        clock: Clock,
        *,
        recipient: str,
        client_id: str = CLIENT_ID,
        concurrency: int = CONCURRENCY,
    ) -> None:
        purpose = catalogue.purposes.get(PURPOSE)
        if purpose is None:
            raise ValueError(f"the policy catalogue has no {PURPOSE!r} purpose")
        self._legal_basis = (purpose.legal_basis.title, purpose.legal_basis.href)
        self._revision = catalogue.revision
        self._exchange = exchange
        self._cnam = cnam
        self._grants = grants
        self._offers = offers
        self._outbox = outbox
        self._pseudonyms = pseudonyms
        self._auditor = auditor
        self._clock = clock
        self._recipient = recipient
        self._client_id = client_id
        self._caller = Client(client_id, frozenset({PERSON_READ_SCOPE}), SECTOR)
        self._concurrency = concurrency

    async def run(self, candidates: Iterable[Candidate], campaign_id: str) -> Summary:
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        summary = Summary()
        gate = asyncio.Semaphore(self._concurrency)

        async def one(candidate: Candidate) -> None:
            async with gate:
                await self._one(candidate, context, summary)

        todo = list(candidates)
        summary.examined = len(todo)
        await asyncio.gather(*(one(c) for c in todo))
        return summary

    async def _one(self, candidate: Candidate, context: AccessContext, summary: Summary) -> None:
        pseudonym = self._pseudonyms.pseudonym(candidate.identity, SECTOR)
        if await self._grants.find(pseudonym, BENEFIT, candidate.rsa_since) is not None:
            summary.already_done += 1
            return
        mine = await self._grants.for_person(pseudonym)
        if any(g.benefit == BENEFIT and g.status == "reverted" for g in mine):
            summary.objected += 1
            return
        wanted = FIELDS if candidate.france_travail_id is None else FIELDS | {CONTACT_FIELD}
        request = PersonRequest(
            caller=self._caller,
            ref=PersonReference(
                identity=candidate.identity, france_travail_id=candidate.france_travail_id
            ),
            context=context,
            fields=wanted,
            on=self._clock().date(),
        )
        try:
            view = await self._exchange.person(request)
        except (ExchangeError, ConnectorError) as error:
            # The kind only: the message may describe the person.
            log.warning("grant fetch failed: %s", type(error).__name__)
            summary.errors += 1
            return
        if view.agency_failures():
            # An agency did not answer (the CAF file's address, the contact details…):
            # granted now, the person might not be told how to refuse it. The next run will.
            log.debug("grant fetch: an agency did not answer")  # counted in errors
            summary.errors += 1
            return
        coverage = view.fields.get("healthCoverage")
        if not isinstance(coverage, records.HealthInsurance):
            summary.errors += 1  # the person is unknown to the CNAM, or it was not released
            return
        start = first_of_next_month(self._clock().date())
        if coverage.css_receiving and coverage.css_since != start:
            summary.already_has += 1
            return
        # Covered from the very day this run would grant it: perhaps by this grant, made
        # before a crash left it unrecorded. The same key makes the CNAM answer it again (and
        # refuse any other).
        contact = view.fields.get(CONTACT_FIELD)
        told = channels(
            contact if isinstance(contact, records.Contact) else None,
            person_data_from_fields(view.fields),
        )
        try:
            await self._grant(candidate, pseudonym, start, told, context, summary)
        except AttributionRefused:
            if coverage.css_receiving:
                summary.already_has += 1
            else:
                summary.refused += 1
        except ConnectorError as error:
            log.warning("grant refused or failed: %s", type(error).__name__)
            summary.errors += 1

    async def _grant(
        self,
        candidate: Candidate,
        pseudonym: str,
        start: date,
        told: list[tuple[str, str]],
        context: AccessContext,
        summary: Summary,
    ) -> None:
        now = self._clock()
        # Derived, not drawn: a rerun after a crash sends the same key, and the CNAM answers
        # the attribution it already made instead of making a second one.
        key = grant_key(pseudonym, candidate.rsa_since)
        row_id = str(uuid.uuid5(_IDS, key))
        ctx = CallContext(recipient=self._recipient, on=now.date())
        made = await self._cnam.attribute_css(candidate.identity, start, key, ctx)
        audit_id = new_decision_id()
        audit_person = self._auditor.person_of(candidate.identity)
        details = (
            ("action", ACTION),
            ("benefit", BENEFIT),
            ("cause", CAUSE),
            ("grant", row_id),
        )
        try:
            await self._auditor.append(self._entry(audit_id, now, context, audit_person, details))
        except ExchangeError:
            # Fail closed: an act the log cannot record is undone before anything else.
            await self._cnam.withdraw_css_attribution(made.id, ctx)
            raise
        payload = {
            "rsa_since": french_date(candidate.rsa_since),
            "start": french_date(made.start),
            "end": french_date(made.end),
            "reference": row_id,
        }
        for channel, address in told:
            await self._outbox.enqueue(
                Message(
                    idempotency_key=f"grant:{row_id}:{channel}",
                    channel=channel,
                    address=address,
                    template="grant",
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        if told:
            summary.notified += 1
        else:
            summary.without_address += 1
        await self._grants.record(
            Grant(
                id=row_id,
                person=pseudonym,
                benefit=BENEFIT,
                cause=CAUSE,
                cause_on=candidate.rsa_since,
                agency_grant_id=made.id,
                start=made.start,
                end=made.end,
                granted_at=now,
                campaign=context.object,
                audit_id=audit_id,
                audit_person=audit_person,
            )
        )
        # An invitation to ask for the CSS has no object once it is granted.
        stale = await self._offers.obsolete(pseudonym, "granted", now, benefits=(BENEFIT,))
        if stale:
            await self._outbox.cancel(offer_ids=tuple(o.id for o in stale))
        summary.granted += 1

    async def revert(self, grant_id: str, campaign_id: str = "revert") -> Grant:
        """Undo a grant: withdrawn at the CNAM, audited, marked reverted; its messages not
        yet sent are cancelled. A grant already ended is returned as it is, with nothing
        called and nothing written."""
        grant = await self._grants.get(grant_id)
        if grant.status != "granted":
            return grant
        now = self._clock()
        ctx = CallContext(recipient=self._recipient, on=now.date())
        await self._cnam.withdraw_css_attribution(grant.agency_grant_id, ctx)
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        # Named like the grant's entry, so the person's access journal shows both.
        details = (
            ("action", REVERT_ACTION),
            ("benefit", BENEFIT),
            ("grant", grant.id),
            ("grant_entry", grant.audit_id or ""),
        )
        await self._auditor.append(
            self._entry(new_decision_id(), now, context, grant.audit_person, details)
        )
        await self._outbox.cancel(key_prefixes=(f"grant:{grant.id}:",))
        return await self._grants.mark_reverted(grant.id, now)

    def _entry(
        self,
        entry_id: str,
        now: datetime,
        context: AccessContext,
        person: str | None,
        details: tuple[tuple[str, str], ...],
    ) -> AuditEntry:
        return AuditEntry(
            id=entry_id,
            time=now,
            kind="automatic_act",
            client=self._client_id,
            caller="client",
            purpose=PURPOSE,
            recipient=context.recipient,
            object=context.object,
            legal_basis=self._legal_basis,
            person=person,
            released=(),
            denied=(),
            agencies=(AGENCY,),
            outcome="released",
            policy_revision=self._revision,
            details=details,
        )
