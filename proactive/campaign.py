"""A detection campaign: fetch, evaluate, record offers, enqueue letters.

One run examines one benefit for one month. Every read goes through the exchange under the
``proactive_detection`` purpose, so each person fetched has an audit entry. Persons are
handled in batches: a batch is fetched concurrently (bounded), evaluated in one vectorised
simulation, then its offers and letters are written before the next batch is read, which
keeps memory flat over a large population and leaves little to redo after a crash.

A person living in a couple is evaluated with their partner's resources, read after the
civil registry identified the partner (``proactive.partners``); only when the person could
be offered the benefit, since otherwise nothing about the partner is needed.

Nobody is told they may be entitled when the paying agency says they already receive the
benefit, when it does not say (the receiving status is unknown), or when the rules cannot
evaluate them: a wrong "you are entitled" costs more than a missed one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence, Sized
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from connectors import PivotIdentity, records
from connectors.errors import ConnectorError
from eligibility import BenefitResult, PersonData, evaluate_population
from eligibility.inputs import (
    HISTORY_MONTHS,
    fields_for,
    may_be_due,
    partner_of,
    person_data_from_fields,
    tax_year,
)
from exchange import Exchange, Pseudonyms
from exchange.caller import PERSON_READ_SCOPE, Client
from exchange.context import AccessContext
from exchange.errors import ExchangeError
from exchange.oversight import Campaign
from exchange.pseudonyms import PROACTIVE_SECTOR
from exchange.reference import PersonReference
from exchange.service import FieldFailure, PersonRequest, PersonView
from prefill import load_forms
from proactive import wording
from proactive.partners import PartnerReader
from proactive.population import Subject, channels, first_day, territory
from store.offers import Offer, OfferStore
from store.outbox import Message, OutboxStore

log = logging.getLogger(__name__)

PURPOSE = "proactive_detection"
SECTOR = PROACTIVE_SECTOR  # offers are keyed on this sector's pseudonym
CLIENT_ID = "demo-proactive"
# Persons being read at once. Each calls API Particulier about seven times, whose connection
# pool holds 100 (UNEFOIS_<AGENCY>_POOL_SIZE): far more in flight only queues calls whose
# deadline runs while they wait, and a field lost to a timeout leaves the person unevaluated.
CONCURRENCY = 64
SLICE = 32  # persons per bulk exchange call (one decision, one audit transaction)
BATCH = 1000  # persons per simulation: seconds of CPU, a few tens of MB
# The benefit as it follows "vous avez peut-être droit" in a letter or an e-mail…
BENEFIT_TO = {
    "rsa": "au revenu de solidarité active (RSA)",
    "ppa": "à la prime d'activité",
    "css": "à la complémentaire santé solidaire (CSS)",
    "aspa": "à l'allocation de solidarité aux personnes âgées (ASPA)",
}
# … and in a text message, where two SMS must hold the sentence and both links.
BENEFIT_SHORT = {
    "rsa": "au RSA",
    "ppa": "à la prime d'activité",
    "css": "à la complémentaire santé solidaire",
    "aspa": "à l'ASPA (minimum vieillesse)",
}
CONTACT_FIELD = "contact"
# How long a campaign's declaration covers its reads from its start: a run of 100,000 persons
# takes hours; another worker or a resumed run declares again and widens the period.
DECLARED_FOR = timedelta(days=2)
Clock = Callable[[], datetime]
Progress = Callable[["Summary"], None]


@dataclass
class Summary:
    examined: int = 0  # persons of the campaign (or of the batch)
    fetched: int = 0  # read: their data, and their partner's when the rules need it
    partners_fetched: int = 0  # partners identified and their resources read
    partners_unresolved: int = 0  # partner not identified with certainty, or not read
    eligible: int = 0
    offers_created: int = 0
    offers_resumed: int = 0  # made by an interrupted run of this campaign, messages queued now
    letters_enqueued: int = 0
    emails_enqueued: int = 0
    sms_enqueued: int = 0
    # The SMS segments the campaign's queued text messages go out as (GSM 03.38): what the
    # operator bills. Counted over the outbox once the batches are done, whoever queued them
    # (``cli.campaign``); a batch's own summary leaves it at 0.
    sms_segments: int = 0
    # Offers with no way to tell the person: no e-mail, no mobile, and no postal address a
    # letter can be sent to (NF Z10-011, ``proactive.postal``).
    letters_without_address: int = 0
    # Too young for the benefit whatever their resources (``eligibility.inputs.may_be_due``:
    # under the ASPA's age): the campaign reads nothing about them.
    skipped_age: int = 0
    skipped_receiving: int = 0
    skipped_incomplete: int = 0
    skipped_cooldown_or_opt_out: int = 0
    # Persons left unread: the exchange refused the request, or an agency failed to answer
    # about them or their partner (``connectors.errors.AGENCY_FAILURES``). Most of a batch
    # unread fails it, and the engine runs it again (``proactive.engine.tasks``).
    errors: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


class _Unread:
    """The persons of a batch left unread because an agency failed, and the failures."""

    def __init__(self) -> None:
        self.persons = 0
        self._reasons: Counter[str] = Counter()

    def add(self, failures: Iterable[FieldFailure]) -> None:
        self.persons += 1
        self._reasons.update({f"{x.provider or 'an agency'} {x.code}" for x in failures})

    def add_partner(self) -> None:
        self.persons += 1
        self._reasons["the partner's read"] += 1

    def reasons(self) -> str:
        """``CNAV UPSTREAM_TIMEOUT ×3, GIP-MDS UPSTREAM_UNAVAILABLE ×1``: how many persons
        each failure left unread."""
        return ", ".join(f"{why} ×{n}" for why, n in sorted(self._reasons.items()))


@dataclass(frozen=True)
class _Fetched:
    identity: PivotIdentity
    pseudonym: str
    data: PersonData
    contact: records.Contact | None  # known for job seekers named by France Travail


def _form_for(benefit: str) -> str:
    """The prefilled form the letter links to: a letter without one would ask people to
    fill everything in again, which is what the service exists to avoid."""
    for form_id, form in load_forms().items():
        if form.benefit == benefit:
            return form_id
    raise ValueError(f"no prefilled form applies for {benefit!r}: no campaign for it")


def _fields(benefit: str, subject: Subject, month: str) -> frozenset[str]:
    fields = fields_for((benefit,), subject.identity.birth_date, month)
    return fields if subject.france_travail_id is None else fields | {CONTACT_FIELD}


def _evidence(result: BenefitResult) -> dict[str, Any]:
    # Names and agencies only: the values stay with the agencies, not in the offers table.
    return {
        "criteria": [c.text for c in result.criteria],
        "inputs": [{"name": i.name, "agency": i.agency} for i in result.inputs],
    }


class CampaignRunner:
    def __init__(
        self,
        exchange: Exchange,
        offers: OfferStore,
        outbox: OutboxStore,
        pseudonyms: Pseudonyms,
        clock: Clock,
        *,
        recipient: str,
        client_id: str = CLIENT_ID,
        cooldown_days: int = 180,
        concurrency: int = CONCURRENCY,
        batch: int = BATCH,
        declare: Callable[[Campaign], Awaitable[None]] | None = None,
    ) -> None:
        self._exchange = exchange
        self._offers = offers
        self._outbox = outbox
        self._pseudonyms = pseudonyms
        self._clock = clock
        self._recipient = recipient
        self._caller = Client(client_id, frozenset({PERSON_READ_SCOPE}), SECTOR)
        self._partners = PartnerReader(exchange, self._caller)
        self._cooldown = cooldown_days
        self._concurrency = concurrency
        self._batch = batch
        self._declare = declare

    async def run(
        self,
        persons: Iterable[PivotIdentity | Subject],
        benefit: str,
        month: str,
        campaign_id: str,
        progress: Progress | None = None,
        source: str | None = None,
    ) -> Summary:
        """Examine ``persons`` for ``benefit``; ``source`` says in a word where they come from
        (``population``, ``events``), declared with the campaign for its report."""
        form = _form_for(benefit)
        # Checked before any access: a context the exchange would refuse for every person.
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        size = len(persons) if isinstance(persons, Sized) else None
        await self.declare(campaign_id, size, source)
        summary = Summary()
        batch: list[Subject] = []
        for person in persons:
            subject = person if isinstance(person, Subject) else Subject(person)
            summary.examined += 1
            batch.append(subject)
            if len(batch) >= self._batch:
                await self._batch_run(batch, benefit, month, form, context, summary, progress)
                batch = []
        if batch:
            await self._batch_run(batch, benefit, month, form, context, summary, progress)
        return summary

    async def declare(self, campaign_id: str, size: int | None, source: str | None) -> None:
        """Declare the campaign to oversight (``size`` persons, from ``source``) before its
        first read, so that auditors expect its bulk reads; declaring it again (a resumed run,
        another coordinator) widens its period."""
        if self._declare is None:
            return
        now = self._clock()
        await self._declare(
            Campaign(
                campaign_id,
                self._caller.id,
                PURPOSE,
                now,
                now + DECLARED_FOR,
                now,
                size,
                source,
            )
        )

    async def examine(
        self,
        subjects: Sequence[Subject],
        benefit: str,
        month: str,
        campaign_id: str,
        progress: Progress | None = None,
    ) -> Summary:
        """Examine one batch of a campaign already declared: fetch, evaluate, record offers
        and messages; the batch's counts. A batch run again after a crash records nobody
        twice (the offers' and the outbox's keys) and counts the offers it finds as resumed."""
        form = _form_for(benefit)
        context = AccessContext(PURPOSE, self._recipient, campaign_id)
        summary = Summary(examined=len(subjects))
        if subjects:
            await self._batch_run(subjects, benefit, month, form, context, summary, progress)
        return summary

    async def _batch_run(
        self,
        batch: Sequence[Subject],
        benefit: str,
        month: str,
        form: str,
        context: AccessContext,
        summary: Summary,
        progress: Progress | None,
    ) -> None:
        # The bulk path: slices of persons are each read through one exchange call (one
        # decision, one audit transaction), several slices in flight; then the whole batch is
        # evaluated in one vectorised simulation (its cost is mostly per simulation, not per
        # person), and decided.
        # Data minimisation: nobody is read for a benefit they cannot have at their age.
        of_age = [s for s in batch if may_be_due(benefit, s.identity.birth_date, month)]
        if len(of_age) < len(batch):
            summary.skipped_age += len(batch) - len(of_age)
            batch = of_age
            if progress is not None:
                progress(summary)
        size = min(SLICE, self._concurrency)
        gate = asyncio.Semaphore(max(1, self._concurrency // size))

        async def one(part: Sequence[Subject]) -> list[_Fetched | None]:
            async with gate:
                got = await self._fetch(part, benefit, month, context, summary)
            if progress is not None:
                progress(summary)
            return got

        parts = [batch[i : i + size] for i in range(0, len(batch), size)]
        ready = [f for got in await asyncio.gather(*map(one, parts)) for f in got if f]
        if not ready:
            return
        # One vectorised simulation, in a thread: the simulation releases the GIL in numpy
        # only, but this process has nothing else to do meanwhile. (Evaluation processes were
        # measured slower: each builds its own tax-benefit system, seconds of CPU per run,
        # and the persons and answers cross the process boundary.)
        results = await asyncio.to_thread(
            evaluate_population, [f.data for f in ready], (benefit,), month
        )
        for fetched, answers in zip(ready, results, strict=True):
            await self._decide(fetched, answers[0], month, form, context.object, summary)
        if progress is not None:
            progress(summary)

    async def _fetch(
        self,
        subjects: Sequence[Subject],
        benefit: str,
        month: str,
        context: AccessContext,
        summary: Summary,
    ) -> list[_Fetched | None]:
        on = self._clock().date()
        requests = [
            PersonRequest(
                caller=self._caller,
                ref=PersonReference(
                    identity=subject.identity, france_travail_id=subject.france_travail_id
                ),
                context=context,
                # What the rules of this benefit read about someone of this age, nothing
                # more. The contact details come from France Travail, which names people by
                # its own identifier: only an event of theirs gives it, so only then are
                # they asked.
                fields=_fields(benefit, subject, month),
                on=on,
                months=HISTORY_MONTHS,
                period_on=first_day(month),
                tax_year=tax_year(month),
            )
            for subject in subjects
        ]
        try:
            views = await self._exchange.persons(requests)
        except ConnectorError as error:
            log.warning("campaign fetch failed: %s", type(error).__name__)
            summary.errors += len(requests)
            return [None] * len(requests)
        unread = _Unread()
        fetched = list(
            await asyncio.gather(
                *(
                    self._complete(s.identity, v, benefit, month, context, on, summary, unread)
                    for s, v in zip(subjects, views, strict=True)
                )
            )
        )
        if unread.persons:
            # Once per batch, which agencies failed and how, nothing about the persons: what
            # an operator needs to know where to look.
            log.warning(
                "campaign fetch: %d of %d persons unread, an agency failing: %s",
                unread.persons,
                len(subjects),
                unread.reasons(),
            )
        return fetched

    async def _complete(
        self,
        identity: PivotIdentity,
        view: PersonView | ExchangeError,
        benefit: str,
        month: str,
        context: AccessContext,
        on: date,
        summary: Summary,
        unread: _Unread,
    ) -> _Fetched | None:
        """One person's released data as the rules' input, with their partner's when needed."""
        if isinstance(view, ExchangeError):
            # The kind only: the message may describe the person.
            log.warning("campaign fetch failed: %s", type(view).__name__)
            summary.errors += 1
            return None
        failed = view.agency_failures()
        if failed:
            # Not "incomplete": asked again, the agency may answer. Counted with the persons
            # unread, which fail the batch when they are most of it (``engine.tasks``).
            unread.add(view.failures[f] for f in failed)
            summary.errors += 1
            return None
        data = person_data_from_fields(view.fields)
        if data is None:
            summary.fetched += 1
            summary.skipped_incomplete += 1
            return None
        partner = partner_of(data)
        # The partner is read only for someone who could be offered the benefit: the paying
        # agency says it does not pay it, and their own resources are known.
        if (
            partner is not None
            and data.receiving.get(benefit) is False
            and data.resources is not None
        ):
            completed = await self._partners.complete(
                data, partner, context, on, first_day(month), view.access_id, benefit
            )
            if completed.agency_failed:
                # As for the person's own read: unread (not fetched), to be examined again.
                unread.add_partner()
                summary.errors += 1
                return None
            if completed.data is None:
                # Left without the partner's resources: the rules answer CANNOT_EVALUATE.
                summary.partners_unresolved += 1
            else:
                summary.partners_fetched += 1
                data = completed.data
        summary.fetched += 1
        contact = view.fields.get(CONTACT_FIELD)
        return _Fetched(
            identity,
            self._pseudonyms.pseudonym(identity, SECTOR),
            data,
            contact if isinstance(contact, records.Contact) else None,
        )

    async def _decide(
        self,
        fetched: _Fetched,
        result: BenefitResult,
        month: str,
        form: str,
        campaign_id: str,
        summary: Summary,
    ) -> None:
        if result.receiving is True:
            summary.skipped_receiving += 1
            return
        if result.status == "CANNOT_EVALUATE":
            summary.skipped_incomplete += 1
            return
        if result.status != "ELIGIBLE":
            return
        summary.eligible += 1
        if result.receiving is None:
            # The agency did not say whether it pays it: telling them could be wrong.
            summary.skipped_incomplete += 1
            return
        now = self._clock()
        offer = await self._offers.detect(
            Offer(
                id="",
                person=fetched.pseudonym,
                benefit=result.benefit,
                month=month,
                campaign=campaign_id,
                territory=territory(fetched.data),
                monthly_amount=result.monthly_amount,
                evidence=_evidence(result),
            ),
            self._cooldown,
            now,
        )
        if offer is None:
            # Made by this campaign before a crash, perhaps before its messages were queued:
            # queue them now (each is queued once, whatever the reruns).
            offer = await self._offers.undelivered(
                fetched.pseudonym, result.benefit, month, campaign_id
            )
            if offer is None:
                summary.skipped_cooldown_or_opt_out += 1
                return
            summary.offers_resumed += 1
        else:
            summary.offers_created += 1
        # Entitled whatever the data nobody holds: told too, the amount left to the claim.
        payload = self._payload(result, offer, form)
        told = channels(fetched.contact, fetched.data)
        if not told:
            summary.letters_without_address += 1
        for channel, address in told:
            message_id = str(uuid.uuid4())
            stored = await self._outbox.enqueue(
                Message(
                    id=message_id,
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
            if stored.id != message_id:
                continue  # queued by the interrupted run
            if channel == "email":
                summary.emails_enqueued += 1
            elif channel == "sms":
                summary.sms_enqueued += 1
            else:
                summary.letters_enqueued += 1

    def _payload(self, result: BenefitResult, offer: Offer, form: str) -> dict[str, Any]:
        return {
            "benefit": result.benefit,
            "benefit_to": BENEFIT_TO.get(result.benefit, result.benefit),
            "benefit_short": BENEFIT_SHORT.get(result.benefit, result.benefit),
            "monthly_amount": result.monthly_amount,
            "criteria": wording.reasons(result),
            "data_used": wording.data_used(result.inputs),
            "form": form,
            # The links name the offer (a random id), never the person.
            "offer_id": offer.id,
        }
