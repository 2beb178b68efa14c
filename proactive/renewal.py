"""Automatic renewal of the complémentaire santé solidaire (CSS) when nothing has changed.

For each person whose CSS ends soon, the agencies' data is read under the ``css_renewal``
purpose (each read audited) and the right is renewed through the CNAM only when all of these
hold: the CNAM says the person receives the CSS with that end date, the rules find them
eligible with complete data, the tier is unchanged (free stays free, paying stays paying),
and no birth or move is known for them since the right started. Any doubt — cannot
evaluate, not eligible, another tier, another end date, an agency failing or refusing —
falls back to an invitation, recorded as an offer exactly as a campaign does.

Every renewal is an ``automatic_act`` audit entry, a row in ``renewals`` and a letter telling
the person the new end date and that they can ask to undo it; :meth:`RenewalRunner.revert`
undoes one. Everything is idempotent: the CNAM request carries a key derived from the
person's pseudonym and the end date renewed, the row and the letter are keyed the same way,
so a rerun after a crash renews nobody twice and writes nobody twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from audit import AuditEntry
from connectors import CallContext, PivotIdentity, records
from connectors.cnam import Cnam
from connectors.errors import ConnectorError
from eligibility import BenefitResult, PersonData, evaluate_population
from eligibility.inputs import HISTORY_MONTHS, fields_for, person_data_from_fields, tax_year
from exchange import Exchange, Pseudonyms
from exchange.auditing import Auditor, new_decision_id
from exchange.caller import PERSON_READ_SCOPE, Client
from exchange.context import AccessContext
from exchange.errors import ExchangeError
from exchange.reference import PersonReference
from exchange.service import PersonRequest
from policies import Catalogue
from proactive import wording
from proactive.campaign import BENEFIT_SHORT, BENEFIT_TO, CLIENT_ID, CONTACT_FIELD, SECTOR
from proactive.notifications.rendering import french_date
from proactive.population import channels, first_day, identity_from_params, territory
from store import Message, Offer, OfferStore, OutboxStore, Renewal, RenewalStore

log = logging.getLogger(__name__)

PURPOSE = "css_renewal"
BENEFIT = "css"
ACTION = "css_renewal"
REVERT_ACTION = "css_renewal_reverted"
AGENCY = "cnam"
FORM = "css"  # the prefilled CSS application an invitation links to
# What the CSS rules read, but the student status, which css_renewal is not granted (the CSS
# renewed is that of someone the CNAM already covers); and the CNAM's coverage, which says
# whose CSS ends.
COVERAGE_FIELD = "healthCoverage"
NOT_GRANTED = frozenset({"studentStatus"})
HOUSEHOLD_EVENTS = frozenset({"birth", "move"})
CONCURRENCY = 8
BATCH = 500
_IDS = uuid.UUID("6f1c1e36-4c3b-4d53-9a55-0d1f0c6e2b7a")  # namespace of the renewal row ids
Clock = Callable[[], datetime]
# Called with the run's counts each time a candidate has been decided (for a progress bar).
Progress = Callable[["Summary"], None]


@dataclass(frozen=True)
class Candidate:
    """A person whose CSS may be due for renewal."""

    identity: PivotIdentity
    ends_on: date | None = None  # the end an expiry event announced; None: the CNAM's
    household_changes: tuple[date, ...] = ()  # births and moves known for the person
    # France Travail's identifier, when known: the key to the contact details the person
    # gave France Travail, so that they are told by e-mail and SMS rather than by post.
    france_travail_id: str | None = None


@dataclass
class Summary:
    examined: int = 0
    renewed: int = 0
    invited: int = 0
    notified: int = 0
    already_done: int = 0
    not_due: int = 0
    invitation_skipped: int = 0  # opted out, or invited within the cooldown
    # Renewed or invited with no way to tell them: no e-mail, no mobile, and no postal
    # address a letter can be sent to (NF Z10-011, ``proactive.postal``).
    without_address: int = 0
    reverted: int = 0
    errors: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


@dataclass(frozen=True)
class _Fetched:
    candidate: Candidate
    pseudonym: str
    coverage: records.HealthInsurance | None
    data: PersonData | None
    contact: records.Contact | None = None
    # The CNAM failed to answer about the coverage (``connectors.errors.AGENCY_FAILURES``),
    # or the exchange refused the read: without an end date from the candidate, nothing
    # says whether the right is due.
    coverage_failed: bool = False


def candidates_from_triggers(triggers: Iterable[Any]) -> list[Candidate]:
    """The persons of the CNAM's CSS expiry events, with the births and moves known for
    them and France Travail's identifier if any event gave it; other events, and subjects
    that are not a whole identity, are left out."""
    ends: dict[str, tuple[PivotIdentity, date]] = {}
    changes: dict[str, list[date]] = {}
    france_travail: dict[str, str] = {}
    for trigger in triggers:
        try:
            identity = identity_from_params(dict(trigger.subject))
        except (KeyError, ValueError, ConnectorError):
            continue
        key = identity.key()
        if trigger.type == "right_expiry" and trigger.feed == AGENCY:
            ends[key] = (identity, trigger.occurred_on)
        elif trigger.type in HOUSEHOLD_EVENTS:
            changes.setdefault(key, []).append(trigger.occurred_on)
        known = getattr(trigger, "france_travail_id", None)
        if known:
            france_travail.setdefault(key, known)
    return [
        Candidate(identity, end, tuple(sorted(changes.get(key, ()))), france_travail.get(key))
        for key, (identity, end) in ends.items()
    ]


def _data_used(result: BenefitResult | None) -> list[dict[str, str]]:
    return [] if result is None else wording.data_used(result.inputs)


def doubt(fetched: _Fetched, result: BenefitResult | None, end: date) -> str | None:
    """Why the right cannot be renewed without asking the person, or None when it can."""
    coverage = fetched.coverage
    if coverage is None or not coverage.css_receiving:
        return "not_receiving"
    if coverage.css_renewal_date != end:
        return "other_end_date"
    if fetched.data is None or result is None or result.status == "CANNOT_EVALUATE":
        return "cannot_evaluate"
    if result.status != "ELIGIBLE":
        return "not_eligible"
    if result.missing or result.monthly_amount is None:
        return "cannot_evaluate"  # entitled, but the tier depends on missing data
    if coverage.css_with_participation is None:
        return "tier_unknown"
    if coverage.css_with_participation != (result.monthly_amount > 0):
        return "tier_changed"
    since = coverage.css_since
    if any(since is None or day >= since for day in fetched.candidate.household_changes):
        return "household_changed"
    return None


class RenewalRunner:
    def __init__(
        self,
        exchange: Exchange,
        cnam: Cnam,
        renewals: RenewalStore,
        offers: OfferStore,
        outbox: OutboxStore,
        pseudonyms: Pseudonyms,
        auditor: Auditor,
        catalogue: Catalogue,
        clock: Clock,
        *,
        recipient: str,
        client_id: str = CLIENT_ID,
        within_days: int = 60,
        cooldown_days: int = 180,
        concurrency: int = CONCURRENCY,
        batch: int = BATCH,
    ) -> None:
        if within_days < 0:
            raise ValueError("the window is a number of days, zero or more")
        purpose = catalogue.purposes.get(PURPOSE)
        if purpose is None:
            raise ValueError(f"the policy catalogue has no {PURPOSE!r} purpose")
        self._legal_basis = (purpose.legal_basis.title, purpose.legal_basis.href)
        self._revision = catalogue.revision
        self._exchange = exchange
        self._cnam = cnam
        self._renewals = renewals
        self._offers = offers
        self._outbox = outbox
        self._pseudonyms = pseudonyms
        self._auditor = auditor
        self._clock = clock
        self._recipient = recipient
        self._client_id = client_id
        self._caller = Client(client_id, frozenset({PERSON_READ_SCOPE}), SECTOR)
        self._within = within_days
        self._cooldown = cooldown_days
        self._concurrency = concurrency
        self._batch = batch

    async def run(
        self, candidates: Iterable[Candidate | PivotIdentity], month: str, campaign_id: str
    ) -> Summary:
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        summary = Summary()
        batch: list[Candidate] = []
        for item in candidates:
            batch.append(item if isinstance(item, Candidate) else Candidate(item))
            summary.examined += 1
            if len(batch) >= self._batch:
                await self._batch_run(batch, month, context, summary)
                batch = []
        if batch:
            await self._batch_run(batch, month, context, summary)
        return summary

    async def examine(
        self,
        candidates: Sequence[Candidate],
        month: str,
        campaign_id: str,
        progress: Progress | None = None,
    ) -> Summary:
        """One batch of a renewal run: read, evaluate, renew or invite, as :meth:`run` does
        for each of its batches; the batch's counts. ``progress`` is called with the counts
        after each candidate is decided. A batch run again after a crash renews and writes
        nobody twice (the CNAM's, the renewals' and the outbox's keys)."""
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        summary = Summary(examined=len(candidates))
        if candidates:
            await self._batch_run(candidates, month, context, summary, progress)
        return summary

    async def _batch_run(
        self,
        batch: Sequence[Candidate],
        month: str,
        context: AccessContext,
        summary: Summary,
        progress: Progress | None = None,
    ) -> None:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(candidate: Candidate) -> _Fetched:
            async with gate:
                return await self._fetch(candidate, month, context, summary)

        got = await asyncio.gather(*(one(c) for c in batch))
        ready = [f for f in got if f.data is not None]
        results: dict[int, BenefitResult] = {}
        if ready:
            answers = await asyncio.to_thread(
                evaluate_population, [f.data for f in ready if f.data is not None], [BENEFIT], month
            )
            results = {id(f): a[0] for f, a in zip(ready, answers, strict=True)}
        for fetched in got:
            await self._decide(fetched, results.get(id(fetched)), month, context, summary)
            if progress is not None:
                progress(summary)

    async def _fetch(
        self, candidate: Candidate, month: str, context: AccessContext, summary: Summary
    ) -> _Fetched:
        pseudonym = self._pseudonyms.pseudonym(candidate.identity, SECTOR)
        wanted = fields_for((BENEFIT,), candidate.identity.birth_date, month) - NOT_GRANTED
        wanted |= {COVERAGE_FIELD}
        if candidate.france_travail_id is not None:
            wanted |= {CONTACT_FIELD}
        request = PersonRequest(
            caller=self._caller,
            ref=PersonReference(
                identity=candidate.identity, france_travail_id=candidate.france_travail_id
            ),
            context=context,
            fields=wanted,
            on=self._clock().date(),
            months=HISTORY_MONTHS,
            period_on=first_day(month),
            tax_year=tax_year(month),
        )
        try:
            view = await self._exchange.person(request)
        except (ExchangeError, ConnectorError) as error:
            # The kind only: the message may describe the person.
            log.warning("renewal fetch failed: %s", type(error).__name__)
            summary.errors += 1
            return _Fetched(candidate, pseudonym, None, None, coverage_failed=True)
        coverage = view.fields.get(COVERAGE_FIELD)
        failed = COVERAGE_FIELD in view.agency_failures()
        if failed:
            log.debug("renewal fetch: the CNAM did not answer")  # counted in errors
            summary.errors += 1
        contact = view.fields.get(CONTACT_FIELD)
        return _Fetched(
            candidate,
            pseudonym,
            coverage if isinstance(coverage, records.HealthInsurance) else None,
            person_data_from_fields(view.fields),
            contact if isinstance(contact, records.Contact) else None,
            coverage_failed=failed,
        )

    async def _decide(
        self,
        fetched: _Fetched,
        result: BenefitResult | None,
        month: str,
        context: AccessContext,
        summary: Summary,
    ) -> None:
        today = self._clock().date()
        coverage = fetched.coverage
        end = fetched.candidate.ends_on or (coverage.css_renewal_date if coverage else None)
        if end is None and fetched.coverage_failed:
            # Not "not due": the CNAM did not say (counted in errors); the next run decides.
            return
        if end is None or end > today + timedelta(days=self._within):
            summary.not_due += 1
            return
        if await self._renewals.find(fetched.pseudonym, BENEFIT, end) is not None:
            summary.already_done += 1
            return
        if end < today:
            reason: str | None = "expired"
        elif fetched.coverage_failed:
            reason = "agency_error"  # the CNAM did not say: invited, as when it refuses
        else:
            reason = doubt(fetched, result, end)
        if reason is None:
            try:
                await self._renew(fetched, result, end, context, summary)
                return
            except ConnectorError as error:
                log.warning("renewal refused or failed: %s", type(error).__name__)
                summary.errors += 1
                reason = "agency_error"
        log.info("renewal replaced by an invitation: %s", reason)
        await self._invite(fetched, result, month, end, context.object, reason, summary)

    async def _renew(
        self,
        fetched: _Fetched,
        result: BenefitResult | None,
        end: date,
        context: AccessContext,
        summary: Summary,
    ) -> None:
        identity = fetched.candidate.identity
        now = self._clock()
        # Derived, not drawn: a rerun after a crash sends the same key, and the CNAM answers
        # the renewal it already made instead of making a second one.
        key = f"css-renewal:{fetched.pseudonym}:{end.isoformat()}"
        row_id = str(uuid.uuid5(_IDS, key))
        ctx = CallContext(recipient=self._recipient, on=now.date())
        made = await self._cnam.renew_css(identity, end, key, ctx)
        audit_id = new_decision_id()
        audit_person = self._auditor.person_of(identity)
        details = (("action", ACTION), ("benefit", BENEFIT), ("renewal", row_id))
        try:
            await self._auditor.append(self._entry(audit_id, now, context, audit_person, details))
        except ExchangeError:
            # Fail closed: an act the log cannot record is undone before anything else.
            await self._cnam.cancel_css_renewal(made.id, ctx)
            raise
        payload = {
            "benefit_to": BENEFIT_TO[BENEFIT],
            "previous_end": french_date(end),
            "new_end": french_date(made.end),
            "with_participation": made.with_participation,
            "data_used": _data_used(result),
            "reference": row_id,
        }
        told = channels(fetched.contact, fetched.data)
        for channel, address in told:
            await self._outbox.enqueue(
                Message(
                    idempotency_key=f"renewal:{row_id}:{channel}",
                    channel=channel,
                    address=address,
                    template="renewal",
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        if told:
            summary.notified += 1
        else:
            summary.without_address += 1
        await self._renewals.record(
            Renewal(
                id=row_id,
                person=fetched.pseudonym,
                benefit=BENEFIT,
                agency_renewal_id=made.id,
                previous_end=end,
                new_end=made.end,
                renewed_at=now,
                campaign=context.object,
                audit_id=audit_id,
                audit_person=audit_person,
            )
        )
        summary.renewed += 1

    async def _invite(
        self,
        fetched: _Fetched,
        result: BenefitResult | None,
        month: str,
        end: date,
        campaign_id: str,
        reason: str,
        summary: Summary,
    ) -> None:
        now = self._clock()
        amount = result.monthly_amount if result is not None else None
        evidence: dict[str, Any] = {
            "renewal": reason,
            "criteria": [c.text for c in result.criteria] if result else [],
            "inputs": [{"name": i.name, "agency": i.agency} for i in result.inputs]
            if result
            else [],
        }
        offer = await self._offers.detect(
            Offer(
                id="",
                person=fetched.pseudonym,
                benefit=BENEFIT,
                month=month,
                campaign=campaign_id,
                territory=territory(fetched.data),
                monthly_amount=amount,
                evidence=evidence,
            ),
            self._cooldown,
            now,
        )
        if offer is None:
            summary.invitation_skipped += 1
            return
        summary.invited += 1
        # Whatever the doubt, the person is told their right ends and how to keep it; the
        # participation only when it is known.
        payload = {
            "benefit": BENEFIT,
            "renewal_end": french_date(end),
            "renewal_ended": end < self._clock().date(),
            "benefit_to": BENEFIT_TO[BENEFIT],
            "benefit_short": BENEFIT_SHORT[BENEFIT],
            "monthly_amount": amount,
            "criteria": wording.reasons(result) if result else [],
            "data_used": _data_used(result),
            "form": FORM,
            # The links name the offer (a random id), never the person.
            "offer_id": offer.id,
        }
        told = channels(fetched.contact, fetched.data)
        if not told:
            summary.without_address += 1
        for channel, address in told:
            await self._outbox.enqueue(
                Message(
                    idempotency_key=f"offer:{offer.id}:{channel}",
                    channel=channel,
                    address=address,
                    template="offer",
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                    offer_id=offer.id,
                )
            )

    async def revert(self, renewal_id: str, campaign_id: str = "revert") -> Renewal:
        """Undo a renewal at the CNAM and mark it reverted; a renewal already reverted is
        returned as it is, with nothing called and nothing written."""
        renewal = await self._renewals.get(renewal_id)
        if renewal.status == "reverted":
            return renewal
        now = self._clock()
        ctx = CallContext(recipient=self._recipient, on=now.date())
        await self._cnam.cancel_css_renewal(renewal.agency_renewal_id, ctx)
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        # Named like the renewal's entry, so the person's access journal shows both.
        details = (
            ("action", REVERT_ACTION),
            ("benefit", BENEFIT),
            ("renewal", renewal.id),
            ("renewal_entry", renewal.audit_id or ""),
        )
        entry = self._entry(new_decision_id(), now, context, renewal.audit_person, details)
        await self._auditor.append(entry)
        return await self._renewals.mark_reverted(renewal.id, now)

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
