"""``unefois campaign grant``, ``list-grants``, ``revert-grant`` and ``update``: automatic
grants and status updates from the agencies' events.

- ``grant --from-events``: the free CSS for the persons of the CAF's ``rsa_granted`` events
  (:mod:`proactive.grants`), read under the ``css_automatic_grant`` purpose, each grant an
  ``automatic_act`` audit entry;
- ``list-grants``: the latest grants (reference, status, dates, run: nothing about anyone);
- ``revert-grant --id``: undo one, as the person can from their space;
- ``update --from-events``: open offers made obsolete by a job found, a birth, a move or a
  death, and acts closed on a death (:mod:`proactive.updates`).

Each command reads the feeds with a cursor of its own (``grants:<feed>``, ``updates:<feed>``):
the campaigns read the same events for their own purpose, and one reader acknowledging an
event must not hide it from another. Events are acknowledged once what the command did is
recorded; a crash replays them, and the replay grants nobody twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TextIO

from proactive.grants import GrantRunner, candidates_from_triggers, grant_rules
from proactive.grants import Summary as GrantSummary
from proactive.triggers import Rules, Trigger, TriggerConsumer, load_rules
from proactive.updates import UpdateRunner, changes_from_triggers, update_rules
from runtime import Services
from runtime import settings as settings_module
from runtime.settings import RECIPIENT_ENV, Settings
from store import CursorStore, GrantNotFound, GrantStore

Clock = Callable[[], datetime]
GRANT_COMMANDS = frozenset({"grant", "list-grants", "revert-grant", "update"})
GRANT_COUNTS = ("granted", "already_has", "objected", "refused", "reverted", "errors")


def utc_now() -> datetime:
    return datetime.now(UTC)


class ReaderCursors(CursorStore):
    """The feeds' cursors and processed events of one reader: its names are prefixed, so
    that its progress is its own."""

    def __init__(self, cursors: CursorStore, reader: str) -> None:
        self._cursors = cursors
        self._prefix = reader + ":"

    async def get(self, feed: str) -> str | None:
        return await self._cursors.get(self._prefix + feed)

    async def advance(self, feed: str, cursor: str, at: datetime) -> None:
        await self._cursors.advance(self._prefix + feed, cursor, at)

    async def mark(self, feed: str, event_ids: Iterable[str], at: datetime) -> None:
        await self._cursors.mark(self._prefix + feed, event_ids, at)

    async def seen(self, feed: str, event_id: str) -> bool:
        return await self._cursors.seen(self._prefix + feed, event_id)


async def own_triggers(
    services: Services, clock: Clock, reader: str, rules: Rules
) -> tuple[TriggerConsumer, list[Trigger]]:
    cursors = ReaderCursors(services.cursors, reader)
    consumer = TriggerConsumer(services.connectors.feeds, cursors, rules, clock)
    triggers: list[Trigger] = []
    while page := await consumer.poll():
        triggers.extend(page)
    return consumer, triggers


def _recipient(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recipient", help=f"SIRET of the body granting (default: ${RECIPIENT_ENV})"
    )


def add_grant_parsers(csub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grant = csub.add_parser(
        "grant", help="grant the free CSS to new RSA recipients, unless they have it or refused"
    )
    grant.add_argument(
        "--from-events", action="store_true", required=True, help="the CAF's RSA events"
    )
    grant.add_argument("--campaign", help="the run's id (default: css-grant-<date>)")
    _recipient(grant)
    listing = csub.add_parser("list-grants", help="the latest automatic grants")
    listing.add_argument("--campaign", help="only this run's grants")
    listing.add_argument("--limit", type=int, default=100)
    revert = csub.add_parser("revert-grant", help="undo an automatic grant")
    revert.add_argument("--id", required=True, help="the grant's id (its letter's reference)")
    _recipient(revert)
    update = csub.add_parser(
        "update", help="make offers obsolete on a job found, a birth, a move or a death"
    )
    update.add_argument(
        "--from-events", action="store_true", required=True, help="the agencies' events"
    )
    update.add_argument("--campaign", help="the run's id (default: update-<date>)")
    _recipient(update)
    for parser in (grant, listing, revert, update):
        # Dispatched here rather than by the campaign command's own table.
        parser.set_defaults(func=lambda args: run_grants(settings_module.load(), args))


def runner_for(services: Services, recipient: str, clock: Clock) -> GrantRunner:
    return GrantRunner(
        services.exchange,
        services.connectors.cnam,
        GrantStore(services.database),
        services.offers,
        services.outbox,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        clock,
        recipient=recipient,
    )


async def grant(settings: Settings, args: argparse.Namespace, clock: Clock) -> GrantSummary:
    campaign_id = args.campaign or f"css-grant-{clock().date().isoformat()}"
    async with Services.open(settings, clock) as services:
        consumer, triggers = await own_triggers(services, clock, "grants", grant_rules())
        summary = await runner_for(services, args.recipient, clock).run(
            candidates_from_triggers(triggers), campaign_id
        )
        await consumer.ack(triggers)
    return summary


async def update(settings: Settings, args: argparse.Namespace, clock: Clock) -> str:
    campaign_id = args.campaign or f"update-{clock().date().isoformat()}"
    async with Services.open(settings, clock) as services:
        consumer, triggers = await own_triggers(services, clock, "updates", update_rules())
        runner = UpdateRunner(
            services.offers,
            services.outbox,
            GrantStore(services.database),
            services.renewals,
            services.pseudonyms,
            services.auditor,
            services.catalogue,
            load_rules(),
            clock,
            recipient=args.recipient,
        )
        summary = await runner.run(changes_from_triggers(triggers), campaign_id)
        await consumer.ack(triggers)
    return "".join(f"{name.ljust(16)} {value:>8}\n" for name, value in summary.rows())


async def revert(settings: Settings, args: argparse.Namespace, clock: Clock) -> bool:
    """Whether the grant was reverted (or already was); False for an unknown id."""
    async with Services.open(settings, clock) as services:
        try:
            await runner_for(services, args.recipient, clock).revert(args.id)
        except GrantNotFound:
            return False
    return True


async def listing(settings: Settings, args: argparse.Namespace, clock: Clock) -> str:
    async with Services.open(settings, clock) as services:
        store = GrantStore(services.database)
        if args.campaign:
            found = (await store.for_campaign(args.campaign))[: args.limit]
        else:
            found = await store.listing(args.limit)
    lines = ["id\tbenefit\tstatus\tstart\tend\tgranted_at\tcampaign\n"]
    for g in found:
        lines.append(
            f"{g.id}\t{g.benefit}\t{g.status}\t{g.start.isoformat()}\t{g.end.isoformat()}\t"
            f"{g.granted_at.isoformat()}\t{g.campaign}\n"
        )
    return "".join(lines)


def counts(summary: GrantSummary) -> str:
    return "".join(f"{name.ljust(12)} {getattr(summary, name):>8}\n" for name in GRANT_COUNTS)


def run_grants(
    settings: Settings,
    args: argparse.Namespace,
    clock: Clock = utc_now,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    if args.campaign_command == "list-grants":
        out.write(asyncio.run(listing(settings, args, clock)))
        return 0
    args.recipient = args.recipient or settings.campaign_recipient
    if not args.recipient:
        print(f"give --recipient or set {RECIPIENT_ENV}", file=sys.stderr)
        return 2
    if args.campaign_command == "revert-grant":
        if not asyncio.run(revert(settings, args, clock)):
            print("no grant has this id", file=sys.stderr)
            return 1
        out.write(counts(GrantSummary(reverted=1)))
        return 0
    if args.campaign_command == "update":
        out.write(asyncio.run(update(settings, args, clock)))
        return 0
    out.write(counts(asyncio.run(grant(settings, args, clock))))
    return 0
