"""``unefois campaign run``: a proactive detection campaign from the command line.

The services are the gateway's own (:meth:`runtime.Services.open`: connectors, policy
decider, pseudonyms, the audit log, the store), so a campaign's accesses are decided and
audited exactly like the API's. Who to examine:

- ``--population``: the sandbox's person list (``GET /_sandbox/persons`` of the civil
  registry). Only the sandbox has such a listing; a production campaign reads its population
  from the paying agency's file.
- ``--from-events``: the persons of the agencies' events whose trigger rules name the
  benefit; the events are acknowledged once the campaign has recorded its offers.

``deliver`` and ``expire`` are in ``cli.outbox``, the renewals in
``cli.renewal``, the sandbox's listing in ``cli.listing``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TextIO

import proactive.notifications as notify
from audit import AuditFilter
from audit import Campaign as AuditCampaign
from cli.batches import run_batches
from cli.events import pending_triggers
from cli.grants import add_grant_parsers
from cli.listing import sandbox_subjects, sandbox_truth
from cli.outbox import add_outbox_parsers, sms_cost, sms_segments, utc_now
from cli.progress import Bar
from cli.renewal import RENEWAL_COMMANDS, add_renewal_parsers, run_renewal
from exchange import Pseudonyms
from proactive.campaign import BATCH, SECTOR, CampaignRunner, Summary
from proactive.engine.planning import digest_of, plan
from proactive.engine.retry import given_up
from proactive.engine.subjects import subject_to_json
from proactive.engine.tasks import Workshop
from proactive.engine.waiting import left_pending, summed
from proactive.population import Subject, identity_or_none
from proactive.renewal import Summary as RenewalSummary
from proactive.report import Parameters, detections, funnel, messages, render_report
from proactive.triggers import Trigger
from runtime import Services
from runtime.settings import RECIPIENT_ENV, Settings
from store.batches import Progress

Clock = Callable[[], datetime]


def subjects_of(triggers: Iterable[Trigger]) -> list[Subject]:
    """One subject per person, in the order of their first trigger; a France Travail
    identifier any of their events gave is kept."""
    out: dict[str, Subject] = {}
    for trigger in triggers:
        identity = identity_or_none(dict(trigger.subject))
        if identity is None:
            continue
        known = out.get(identity.key())
        if known is None or known.france_travail_id is None:
            out[identity.key()] = Subject(identity, trigger.france_travail_id)
    return list(out.values())


def campaign_progress(bar: Bar, before: int = 0) -> Callable[[Summary], None]:
    """The runner's progress callback for one batch: the campaign's persons done on ``bar``
    (``before``: those of the batches done before this one, then this batch's fetched, failed
    or left unread for their age), whose total is the whole campaign."""

    def show(summary: Summary) -> None:
        bar.update(
            before + summary.skipped_age + summary.fetched + summary.errors,
            f"{summary.eligible} eligible, {summary.offers_created} offers, "
            f"{summary.errors} errors (batch)",
        )

    return show


def plan_progress(bar: Bar) -> Callable[[Progress], None]:
    """The coordinator's view of a campaign run by workers: the persons of the done batches."""

    def show(progress: Progress) -> None:
        counts = progress.summary
        bar.update(
            progress.persons_done,
            f"{progress.batches_done}/{progress.batches} batches, "
            f"{counts.get('offers_created', 0)} offers, {counts.get('errors', 0)} errors",
        )

    return show


def summary_table(summary: Summary) -> str:
    rows = summary.rows()
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value:>8}" for name, value in rows) + "\n"


def status_lines(progress: Progress) -> str:
    """``campaign status``: the plan's progress, the summed counts, the batches failing."""
    lines = [
        f"batches  {progress.batches_done}/{progress.batches}\n",
        f"persons  {progress.persons_done}/{progress.persons}\n",
    ]
    for number, attempts, kind in progress.failing:
        state = "left pending" if given_up(attempts) else "retrying"
        lines.append(f"batch {number} failed {attempts} times ({kind}), {state}\n")
    return "".join(lines)


async def _run_batches(
    settings: Settings,
    args: argparse.Namespace,
    workshop: Workshop,
    campaign_id: str,
    persons: int,
    stderr: TextIO,
) -> Progress:
    """The plan's pending batches run here (no broker), or enqueued for the workers and, unless
    ``--no-wait``, waited for (``cli.batches``); the plan's progress at the end."""
    return await run_batches(
        settings,
        workshop,
        campaign_id,
        persons,
        stderr,
        title=f"campaign {campaign_id}",
        in_process=campaign_progress,
        plan_view=plan_progress,
        no_wait=bool(getattr(args, "no_wait", False)),
    )


def default_id(
    args: argparse.Namespace, subjects: Sequence[Subject], pseudonyms: Pseudonyms, stderr: TextIO
) -> str:
    """``<benefit>-<month>`` for the population; from events, followed by a digest of the
    persons examined (``proactive.engine.planning.digest_of``), printed: the same events
    replayed resume their plan, later ones of the month get a plan of their own."""
    if not args.from_events:
        return f"{args.benefit}-{args.month}"
    keys = (pseudonyms.pseudonym(s.identity, SECTOR) for s in subjects)
    campaign_id = f"{args.benefit}-{args.month}-{digest_of(keys)}"
    print(f"campaign {campaign_id}", file=stderr)
    return campaign_id


async def run_campaign(
    settings: Settings, args: argparse.Namespace, clock: Clock, stderr: TextIO
) -> Summary:
    """Plan the campaign (or resume its plan), run its batches, and return its counts summed
    over every batch done, whichever process ran them."""
    source = "events" if args.from_events else "population"
    async with Services.open(settings, clock) as services:
        workshop = Workshop.of(services, clock)
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            clock,
            recipient=args.recipient,
            cooldown_days=args.cooldown_days,
            declare=services.oversight.declare_campaign,
        )
        if args.from_events:
            consumer, triggers = await pending_triggers(services, clock)
            subjects = subjects_of([t for t in triggers if args.benefit in t.benefits])
            if not subjects:
                # No event waiting: nobody to examine (a plan already made stands, counted by
                # ``campaign status``).
                return Summary()
        else:
            registry = settings.upstreams["civil_registry"].url
            subjects = await sandbox_subjects(registry, args.limit)
        campaign_id = args.campaign or default_id(args, subjects, services.pseudonyms, stderr)
        parameters = {
            "benefit": args.benefit,
            "month": args.month,
            "recipient": args.recipient,
            "cooldown_days": args.cooldown_days,
            "source": source,
        }
        made = await plan(
            workshop.batches,
            campaign_id,
            "detection",
            parameters,
            [subject_to_json(s) for s in subjects],
            getattr(args, "batch", None) or BATCH,
            clock(),
        )
        if made.batches == 0:
            return Summary()
        # Declared before the first read, with the plan's persons (a resumed plan's).
        await runner.declare(campaign_id, made.persons, source)
        progress = await _run_batches(settings, args, workshop, campaign_id, made.persons, stderr)
        for number in left_pending(progress):
            print(f"batch {number} left pending after its retries", file=stderr)
        if args.from_events and progress.complete:
            # Acknowledged only once every batch is done: a crash replays the events.
            await consumer.ack(triggers)
        texts = await services.outbox.for_campaign(campaign_id, "sms")
        segments = sms_segments(texts, notify.Renderer(settings.public_url), clock().date())
    result: Summary = summed(progress, Summary)
    result.sms_segments = segments
    return result


async def campaign_status(settings: Settings, campaign: str, clock: Clock) -> Progress:
    async with Services.open(settings, clock) as services:
        return await Workshop.of(services, clock).batches.progress(campaign)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = sub.add_parser("campaign", help="proactive detection campaigns")
    csub = campaign.add_subparsers(dest="campaign_command", required=True)
    add_outbox_parsers(csub)
    add_renewal_parsers(csub)
    add_grant_parsers(csub)
    run = csub.add_parser("run", help="detect non-claimants of a benefit and record offers")
    run.add_argument("--benefit", required=True, choices=("rsa", "ppa", "css", "aspa"))
    run.add_argument("--month", required=True, help="the month evaluated, YYYY-MM")
    who = run.add_mutually_exclusive_group(required=True)
    who.add_argument("--population", action="store_true", help="the sandbox's population")
    who.add_argument("--from-events", action="store_true", help="the agencies' event feeds")
    run.add_argument("--limit", type=int, help="with --population: at most this many persons")
    run.add_argument(
        "--batch", type=int, help=f"persons per batch, the engine's task (default {BATCH})"
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="with a broker: enqueue the batches and return without waiting for the workers",
    )
    run.add_argument("--campaign", help="the campaign id (default: <benefit>-<month>)")
    run.add_argument("--cooldown-days", type=int, default=180)
    run.add_argument(
        "--recipient",
        help=f"SIRET of the body running the campaign (default: ${RECIPIENT_ENV})",
    )
    status = csub.add_parser("status", help="a campaign's progress: batches, persons, counts")
    status.add_argument("--campaign", required=True, help="the campaign id")
    report = csub.add_parser("report", help="write campaigns' HTML report")
    report.add_argument(
        "--campaign",
        required=True,
        action="append",
        help="a campaign id; repeat it for one report over several (one per benefit)",
    )
    report.add_argument("--output", required=True, help="the HTML file to write")
    report.add_argument(
        "--truth-from-sandbox",
        action="store_true",
        help="precision and recall per benefit against the sandbox's ground truth (the "
        "known non-claimants among the adults a --population campaign examines)",
    )
    report.add_argument(
        "--benefit",
        action="append",
        choices=("rsa", "ppa", "css", "aspa"),
        help="with --truth-from-sandbox: a benefit the campaigns examined, judged even "
        "without any offer (default: the benefits of their offers)",
    )
    report.add_argument(
        "--limit",
        type=int,
        help="with --truth-from-sandbox: the persons the campaigns examined, when they did not "
        "declare it (a different number than the one they declared is refused)",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.campaign_command in RENEWAL_COMMANDS:
        return run_renewal(settings, args)
    if args.campaign_command == "report":
        return report(settings, args)
    if args.campaign_command == "status":
        progress = asyncio.run(campaign_status(settings, args.campaign, utc_now))
        if progress.kind is None:
            print(f"no campaign {args.campaign} is planned", file=sys.stderr)
            return 1
        sys.stdout.write(status_lines(progress))
        kinds = {"detection": Summary, "renewal": RenewalSummary}
        sys.stdout.write(summary_table(summed(progress, kinds[progress.kind])))
        return 0
    if args.batch is not None and args.batch < 1:
        print("--batch is one person or more", file=sys.stderr)
        return 2
    args.recipient = args.recipient or settings.campaign_recipient
    if not args.recipient:
        print(f"give --recipient or set {RECIPIENT_ENV}", file=sys.stderr)
        return 2
    summary = asyncio.run(run_campaign(settings, args, utc_now, sys.stderr))
    sys.stdout.write(summary_table(summary))
    cost = sms_cost(summary.sms_segments, settings.sms_segment_price)
    if cost is not None:
        sys.stdout.write(f"sms_cost {cost}\n")
    return 0


def _one(values: Iterable[str]) -> str | None:
    found = list(dict.fromkeys(values))
    return ", ".join(found) if found else None


def examined_population(declared: Iterable[AuditCampaign], limit: int | None) -> int | None:
    """How many persons of the sandbox's listing the campaigns examined: the population they
    declared as they started (the first persons of the listing, as ``--population`` reads it).
    ``limit`` (the report's ``--limit``) must agree with it; ValueError when it does not, or
    when the campaigns examined different populations: their persons would be judged on a
    population they did not examine."""
    sizes = sorted({c.population for c in declared if c.population is not None})
    if len(sizes) > 1:
        raise ValueError(
            f"these campaigns examined different populations ({sizes}): report them apart"
        )
    if limit is not None and sizes and sizes[0] != limit:
        raise ValueError(
            f"the campaigns examined {sizes[0]} persons, not --limit {limit}: "
            "recall would divide by other persons' non-claimants"
        )
    return sizes[0] if sizes else limit


# Where a campaign's persons came from, as it declared it (``campaign run``), in words.
SOURCES = {
    "population": "liste des personnes du bac à sable",
    "events": "flux d'événements des organismes (pertes d'emploi, naissances…)",
}


async def _recipient(services: Services, campaign: str) -> str | None:
    """The SIRET the campaign's reads were made for, as its audit entries record it."""
    page = await services.audit_reader.entries(
        AuditFilter(object=campaign, kind="person_access"), first=1
    )
    return page.items[0].entry.recipient if page.items else None


async def build_report(
    settings: Settings, args: argparse.Namespace, clock: Clock
) -> tuple[str, str]:
    """The report page, and lines of counts for the terminal (one per benefit when judged)."""
    campaigns = [args.campaign] if isinstance(args.campaign, str) else list(args.campaign)
    async with Services.open(settings, clock) as services:
        follow_ups = [f for c in campaigns for f in await services.offers.follow_ups(c)]
        offers = [f.offer for f in follow_ups]
        declared = [c for c in await services.audit_reader.campaigns() if c.object in campaigns]
        population = examined_population(declared, args.limit)
        recipients = [r for c in campaigns if (r := await _recipient(services, c)) is not None]
        truth: dict[str, dict[str, bool]] | None = None
        named = getattr(args, "benefit", None) or []
        benefits = list(dict.fromkeys([*named, *(o.benefit for o in offers)]))
        sources = {c.source for c in declared if c.source is not None}
        source = SOURCES.get(next(iter(sources))) if len(sources) == 1 else None
        if args.truth_from_sandbox:
            if population is None:
                raise ValueError(
                    "no campaign declared how many persons it examined: give its --limit"
                )
            if sources - {"population"}:
                raise ValueError(
                    "the sandbox's truth judges a campaign over its listing (--population): "
                    "these campaigns examined other persons"
                )
            source = (
                f"liste des personnes du bac à sable, ses {population} premiers adultes "
                "vivants à l'identité utilisable"
            )
            registry = settings.upstreams["civil_registry"].url
            truth = {}
            for benefit in benefits:
                truth[benefit] = await sandbox_truth(
                    registry, services.pseudonyms, benefit, population
                )
        queued = [m for c in campaigns for m in await services.outbox.for_campaign(c)]
        segments = sms_segments(
            [m for m in queued if m.channel == "sms"],
            notify.Renderer(settings.public_url),
            clock().date(),
        )
        generated_at = clock()
    price = settings.sms_segment_price
    cost = None
    if price is not None:
        cost = f"{(price * segments).quantize(Decimal('0.01'))} € HT".replace(".", ",")
    sent = messages([(m.channel, m.status) for m in queued], segments, cost)
    parameters = Parameters(
        campaigns=tuple(campaigns),
        benefits=tuple(benefits),
        months=tuple(sorted({o.month for o in offers})),
        population_source=source,
        population=population,
        recipients=tuple(dict.fromkeys(recipients)),
        client=_one(c.client for c in declared),
        purpose=_one(c.purpose for c in declared),
        declared_from=min((c.start for c in declared), default=None),
        declared_until=max((c.end for c in declared), default=None),
    )
    page = render_report(follow_ups, truth, parameters, generated_at, sent)
    steps = funnel(follow_ups)
    lines = [
        f"offers {len(offers)} notified {steps.notified} opened {steps.opened}"
        f" applied {steps.applied} declined {steps.declined} opted_out {steps.opted_out}"
        f" expired {steps.expired} undeliverable {steps.undeliverable}"
        f" without_message {steps.without_message} sms_segments {segments}\n"
    ]
    for benefit, d in ({} if truth is None else detections(offers, truth)).items():
        count = sum(1 for o in offers if o.benefit == benefit)
        lines.append(
            f"benefit {benefit} offers {count} true_positives {d.true_positives}"
            f" false_positives {d.false_positives} unknown {d.unknown}"
            f" non_claimants {d.non_claimants} precision {d.precision} recall {d.recall}"
            f" examined {d.examined}\n"
        )
    return page, "".join(lines)


def report(settings: Settings, args: argparse.Namespace) -> int:
    try:
        page, line = asyncio.run(build_report(settings, args, utc_now))
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(page)
    sys.stdout.write(line)
    return 0
