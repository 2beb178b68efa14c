"""``unefois campaign renew`` and ``unefois campaign revert-renewal``: automatic CSS renewal.

The services are the gateway's (:meth:`runtime.Services.open`): reads go through
the exchange under the ``css_renewal`` purpose and are audited like the API's, and each
renewal or revert is an ``automatic_act`` entry of the same audit log. Who to examine:

- ``--from-events``: the persons of the CNAM's CSS expiry events (with the births and moves
  the feeds report for them); the events are acknowledged once every batch is done; the
  run's default id is ``css-renewal-<month>-<digest of its candidates>`` (printed);
- ``--population``: the sandbox's person list; only persons whose CSS ends within
  ``--within-days`` are renewed or invited.

The candidates run on the campaigns' engine (``proactive.engine``), as a detection campaign's
persons do: planned as batches of kind ``renewal`` (sealed, with their end dates, births and
moves, France Travail ids), then run in this process, or by ``unefois worker`` when a broker
is configured; ``campaign status --campaign <id>`` reads their progress.

Only counts are printed: nothing about anyone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from cli.batches import run_batches
from cli.events import pending_triggers
from cli.listing import sandbox_subjects
from cli.progress import Bar
from exchange import Pseudonyms
from proactive.campaign import SECTOR
from proactive.engine.planning import PlanMismatch, digest_of, plan
from proactive.engine.subjects import candidate_to_json
from proactive.engine.tasks import Workshop
from proactive.engine.waiting import left_pending, summed
from proactive.renewal import (
    BATCH,
    BENEFIT,
    Candidate,
    RenewalRunner,
    Summary,
    candidates_from_triggers,
)
from runtime import Services
from runtime.settings import RECIPIENT_ENV, Settings
from store import RenewalNotFound
from store.batches import Progress

Clock = Callable[[], datetime]
RENEWAL_COMMANDS = frozenset({"renew", "revert-renewal"})
# What ``renew`` prints, in this order.
COUNTS = ("renewed", "invited", "reverted", "errors")


def utc_now() -> datetime:
    return datetime.now(UTC)


def add_renewal_parsers(csub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    renew = csub.add_parser(
        "renew", help="renew the CSS when nothing changed; invite the person otherwise"
    )
    renew.add_argument("--month", required=True, help="the month evaluated, YYYY-MM")
    who = renew.add_mutually_exclusive_group(required=True)
    who.add_argument("--population", action="store_true", help="the sandbox's population")
    who.add_argument("--from-events", action="store_true", help="the CNAM's CSS expiry events")
    renew.add_argument("--limit", type=int, help="with --population: at most this many persons")
    renew.add_argument(
        "--within-days",
        type=int,
        default=60,
        help="renew rights ending within this many days (default 60)",
    )
    renew.add_argument(
        "--batch", type=int, help=f"candidates per batch, the engine's task (default {BATCH})"
    )
    renew.add_argument(
        "--no-wait",
        action="store_true",
        help="with a broker: enqueue the batches and return without waiting for the workers",
    )
    renew.add_argument("--campaign", help="the run's id (default: css-renewal-<month>)")
    renew.add_argument(
        "--recipient", help=f"SIRET of the body renewing (default: ${RECIPIENT_ENV})"
    )
    revert = csub.add_parser("revert-renewal", help="undo an automatic renewal")
    revert.add_argument("--id", required=True, help="the renewal's id (its letter's reference)")
    revert.add_argument(
        "--recipient", help=f"SIRET of the body renewing (default: ${RECIPIENT_ENV})"
    )


def runner_for(
    services: Services,
    settings: Settings,
    args: argparse.Namespace,
    clock: Clock,
) -> RenewalRunner:
    return RenewalRunner(
        services.exchange,
        services.connectors.cnam,
        services.renewals,
        services.offers,
        services.outbox,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        clock,
        recipient=args.recipient,
        within_days=getattr(args, "within_days", 60),
    )


def renewal_progress(bar: Bar, before: int = 0) -> Callable[[Summary], None]:
    """The runner's progress callback for one batch run here: the candidates decided on
    ``bar`` (``before``: those of the batches taken before this one), whose total is the
    whole run's."""
    decided = 0

    def show(summary: Summary) -> None:
        nonlocal decided
        decided += 1
        bar.update(
            before + decided,
            f"{summary.renewed} renewed, {summary.invited} invited, "
            f"{summary.errors} errors (batch)",
        )

    return show


def plan_progress(bar: Bar) -> Callable[[Progress], None]:
    """The coordinator's view of a renewal run by workers: the candidates of the done
    batches."""

    def show(progress: Progress) -> None:
        counts = progress.summary
        bar.update(
            progress.persons_done,
            f"{progress.batches_done}/{progress.batches} batches, "
            f"{counts.get('renewed', 0)} renewed, {counts.get('invited', 0)} invited, "
            f"{counts.get('errors', 0)} errors",
        )

    return show


def events_run_id(month: str, candidates: Sequence[Candidate], pseudonyms: Pseudonyms) -> str:
    """The default id of a ``--from-events`` run: the month and a digest of its candidates
    (their proactive pseudonyms, keyed by the pseudonym secret, and end dates). The same events
    replayed after a crash give the same id, and the run resumes its plan; events that came
    since give another, and a new plan: a run planned earlier in the month never swallows
    them."""
    lines = (f"{pseudonyms.pseudonym(c.identity, SECTOR)}|{c.ends_on}" for c in candidates)
    return f"css-renewal-{month}-{digest_of(lines)}"


async def renew(
    settings: Settings, args: argparse.Namespace, clock: Clock, stderr: TextIO | None = None
) -> Summary:
    """Plan the run's candidates as batches (or resume its plan), run them here or on the
    workers (``cli.batches``) with a progress bar on ``stderr`` (a terminal only), and return
    the counts summed over every batch done, whichever process ran them."""
    stderr = stderr or sys.stderr
    async with Services.open(settings, clock) as services:
        workshop = Workshop.of(services, clock)
        if args.from_events:
            consumer, triggers = await pending_triggers(services, clock)
            candidates = list(candidates_from_triggers(triggers))
        else:
            registry = settings.upstreams["civil_registry"].url
            subjects = await sandbox_subjects(registry, args.limit)
            candidates = [
                Candidate(s.identity, france_travail_id=s.france_travail_id) for s in subjects
            ]
        if not candidates:
            # No expiry among the events (or nobody listed): nobody to examine, nothing to
            # record about the events. A plan already made stands, counted by ``status``.
            if args.from_events:
                await consumer.ack(triggers)
            return Summary()
        campaign_id = args.campaign or (
            events_run_id(args.month, candidates, services.pseudonyms)
            if args.from_events
            else f"css-renewal-{args.month}"
        )
        parameters = {
            "benefit": BENEFIT,
            "month": args.month,
            "recipient": args.recipient,
            "within_days": getattr(args, "within_days", 60),
            "source": "events" if args.from_events else "population",
        }
        made = await plan(
            workshop.batches,
            campaign_id,
            "renewal",
            parameters,
            [candidate_to_json(c) for c in candidates],
            getattr(args, "batch", None) or BATCH,
            clock(),
        )
        # The id and counts only: ``campaign status`` needs the id of a run given none.
        print(f"renewal {campaign_id}: {made.batches} batches", file=stderr)
        progress = await run_batches(
            settings,
            workshop,
            campaign_id,
            made.persons,
            stderr,
            title=f"renewal {campaign_id}",
            in_process=renewal_progress,
            plan_view=plan_progress,
            no_wait=bool(getattr(args, "no_wait", False)),
        )
        for number in left_pending(progress):
            print(f"batch {number} left pending after its retries", file=stderr)
        if args.from_events and progress.complete:
            # Acknowledged only once every batch is done: a crash replays the events, and
            # the replay renews nobody twice.
            await consumer.ack(triggers)
    result: Summary = summed(progress, Summary)
    return result


async def revert(settings: Settings, args: argparse.Namespace, clock: Clock) -> bool:
    """Whether the renewal was reverted (or already was); False for an unknown id."""
    async with Services.open(settings, clock) as services:
        try:
            await runner_for(services, settings, args, clock).revert(args.id)
        except RenewalNotFound:
            return False
    return True


def counts(summary: Summary) -> str:
    return "".join(f"{name.ljust(8)} {getattr(summary, name):>8}\n" for name in COUNTS)


def run_renewal(
    settings: Settings,
    args: argparse.Namespace,
    clock: Clock = utc_now,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    args.recipient = args.recipient or settings.campaign_recipient
    if not args.recipient:
        print(f"give --recipient or set {RECIPIENT_ENV}", file=sys.stderr)
        return 2
    if args.campaign_command == "revert-renewal":
        if not asyncio.run(revert(settings, args, clock)):
            print("no renewal has this id", file=sys.stderr)
            return 1
        out.write(counts(Summary(reverted=1)))
        return 0
    if getattr(args, "batch", None) is not None and args.batch < 1:
        print("--batch is one candidate or more", file=sys.stderr)
        return 2
    if getattr(args, "within_days", 0) < 0:
        # Checked here, not by each batch's runner: a plan that every batch would fail.
        print("--within-days is a number of days, zero or more", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(renew(settings, args, clock))
    except PlanMismatch as error:
        print(str(error), file=sys.stderr)
        return 2
    out.write(counts(summary))
    return 0
