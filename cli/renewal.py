"""``unefois campaign renew`` and ``unefois campaign revert-renewal``: automatic CSS renewal.

The services are the gateway's (:meth:`runtime.Services.open`): reads go through
the exchange under the ``css_renewal`` purpose and are audited like the API's, and each
renewal or revert is an ``automatic_act`` entry of the same audit log. Who to examine:

- ``--from-events``: the persons of the CNAM's CSS expiry events (with the births and moves
  the feeds report for them); the events are acknowledged once the run has recorded them;
- ``--population``: the sandbox's person list; only persons whose CSS ends within
  ``--within-days`` are renewed or invited.

Only counts are printed: nothing about anyone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from cli.events import pending_triggers
from cli.listing import sandbox_subjects
from cli.progress import Bar
from proactive.renewal import Candidate, RenewalRunner, Summary, candidates_from_triggers
from runtime import Services
from runtime.settings import RECIPIENT_ENV, Settings
from store import RenewalNotFound

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


async def renew(
    settings: Settings, args: argparse.Namespace, clock: Clock, stderr: TextIO | None = None
) -> Summary:
    """The run, with a progress bar on ``stderr`` (a terminal only) over every candidate:
    it advances as the runner takes each one into a batch."""
    campaign_id = args.campaign or f"css-renewal-{args.month}"
    async with Services.open(settings, clock) as services:
        runner = runner_for(services, settings, args, clock)
        if args.from_events:
            consumer, triggers = await pending_triggers(services, clock)
            candidates = list(candidates_from_triggers(triggers))
        else:
            registry = settings.upstreams["civil_registry"].url
            subjects = await sandbox_subjects(registry, args.limit)
            candidates = [
                Candidate(s.identity, france_travail_id=s.france_travail_id) for s in subjects
            ]
        description = f"renewal {campaign_id} (persons taken)"
        with Bar(description, len(candidates), stderr or sys.stderr) as bar:
            summary = await runner.run(bar.track(candidates), args.month, campaign_id)
        if args.from_events:
            # Acknowledged only now that everything is recorded: a crash replays the events,
            # and the replay renews nobody twice.
            await consumer.ack(triggers)
    return summary


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
    out.write(counts(asyncio.run(renew(settings, args, clock))))
    return 0
