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
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TextIO

from audit import AuditFilter
from audit import Campaign as AuditCampaign
from cli.events import pending_triggers
from cli.listing import sandbox_subjects, sandbox_truth
from cli.outbox import add_outbox_parsers, utc_now
from cli.progress import Bar
from cli.renewal import RENEWAL_COMMANDS, add_renewal_parsers, run_renewal
from proactive.campaign import CampaignRunner, Summary
from proactive.population import Subject, identity_or_none
from proactive.report import Parameters, detections, funnel, render_report
from proactive.triggers import Trigger
from runtime import Services
from runtime.settings import RECIPIENT_ENV, Settings

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


def campaign_progress(bar: Bar) -> Callable[[Summary], None]:
    """The runner's progress callback: the persons done (fetched or failed) on ``bar``, whose
    total is the whole population this worker examines, not the batch being read."""

    def show(summary: Summary) -> None:
        bar.update(
            summary.fetched + summary.errors,
            f"{summary.eligible} eligible, {summary.offers_created} offers, "
            f"{summary.errors} errors",
        )

    return show


def describe(campaign_id: str, share: int, population: int, args: argparse.Namespace) -> str:
    if args.workers == 1:
        return f"campaign {campaign_id}"
    return (
        f"campaign {campaign_id}, worker {args.worker_index + 1}/{args.workers}"
        f" ({share} of {population})"
    )


def summary_table(summary: Summary) -> str:
    rows = summary.rows()
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value:>8}" for name, value in rows) + "\n"


async def run_campaign(
    settings: Settings, args: argparse.Namespace, clock: Clock, stderr: TextIO
) -> Summary:
    campaign_id = args.campaign or f"{args.benefit}-{args.month}"
    async with Services.open(settings, clock) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            clock,
            recipient=args.recipient,
            cooldown_days=args.cooldown_days,
            workers=args.workers,
            worker_index=args.worker_index,
            declare=services.oversight.declare_campaign,
        )
        if args.from_events:
            consumer, triggers = await pending_triggers(services, clock)
            subjects = subjects_of([t for t in triggers if args.benefit in t.benefits])
        else:
            registry = settings.upstreams["civil_registry"].url
            subjects = await sandbox_subjects(registry, args.limit)
        # The bar's total: every person this worker examines, counted before the first batch.
        share = sum(1 for s in subjects if runner.mine(s.identity))
        with Bar(describe(campaign_id, share, len(subjects), args), share, stderr) as bar:
            summary = await runner.run(
                subjects,
                args.benefit,
                args.month,
                campaign_id,
                campaign_progress(bar),
                source="events" if args.from_events else "population",
            )
        if args.from_events:
            # Acknowledged only now that the offers are recorded: a crash replays the events.
            await consumer.ack(triggers)
    return summary


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = sub.add_parser("campaign", help="proactive detection campaigns")
    csub = campaign.add_subparsers(dest="campaign_command", required=True)
    add_outbox_parsers(csub)
    add_renewal_parsers(csub)
    run = csub.add_parser("run", help="detect non-claimants of a benefit and record offers")
    run.add_argument("--benefit", required=True, choices=("rsa", "ppa", "css", "aspa"))
    run.add_argument("--month", required=True, help="the month evaluated, YYYY-MM")
    who = run.add_mutually_exclusive_group(required=True)
    who.add_argument("--population", action="store_true", help="the sandbox's population")
    who.add_argument("--from-events", action="store_true", help="the agencies' event feeds")
    run.add_argument("--limit", type=int, help="with --population: at most this many persons")
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--worker-index", type=int, default=0)
    run.add_argument("--campaign", help="the campaign id (default: <benefit>-<month>)")
    run.add_argument("--cooldown-days", type=int, default=180)
    run.add_argument(
        "--recipient",
        help=f"SIRET of the body running the campaign (default: ${RECIPIENT_ENV})",
    )
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
    args.recipient = args.recipient or settings.campaign_recipient
    if not args.recipient:
        print(f"give --recipient or set {RECIPIENT_ENV}", file=sys.stderr)
        return 2
    summary = asyncio.run(run_campaign(settings, args, utc_now, sys.stderr))
    sys.stdout.write(summary_table(summary))
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
        generated_at = clock()
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
    page = render_report(follow_ups, truth, parameters, generated_at)
    steps = funnel(follow_ups)
    lines = [
        f"offers {len(offers)} notified {steps.notified} opened {steps.opened}"
        f" applied {steps.applied} declined {steps.declined} opted_out {steps.opted_out}"
        f" expired {steps.expired} undeliverable {steps.undeliverable}"
        f" without_message {steps.without_message}\n"
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
