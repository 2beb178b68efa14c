"""``unefois campaign run``: a proactive detection campaign from the command line.

The services are built from the settings as the gateway builds them (connectors, policy
decider, pseudonyms, the audit log, the store), so a campaign's accesses are decided and
audited exactly like the API's. Who to examine:

- ``--population``: the sandbox's person list (``GET /_sandbox/persons`` of the civil
  registry). Only the sandbox has such a listing; a production campaign reads its population
  from the paying agency's file.
- ``--from-events``: the persons of the agencies' events whose trigger rules name the
  benefit; the events are acknowledged once the campaign has recorded its offers.

``unefois campaign deliver`` sends the outbox's due messages through the channels the settings
configure (SMTP, the SMS provider, the letters directory).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import httpx

import gateway.settings as settings_module
import proactive.notifications as notify
from connectors import Connectors, PivotIdentity
from connectors.errors import InvalidInput
from exchange import FIELDS, Exchange, PolicyDecider, Pseudonyms
from exchange.auditing import Auditor
from gateway.app import connector_config
from gateway.audit_log import StartedAudit, audit_origin
from gateway.consent_store import StartedConsentStore
from gateway.secret import pseudonym_secret
from gateway.settings import Settings
from policies import load_catalogue
from proactive.campaign import SECTOR, CampaignRunner, Summary
from proactive.population import Subject, identity_from_params
from proactive.report import detection, render_report
from proactive.triggers import Trigger, TriggerConsumer
from proactive.triggers.rules import load_rules
from store import (
    CursorStore,
    LockHeld,
    OfferStore,
    OutboxStore,
    connect,
    database_url_for,
    exclusive,
    migrate,
)

Clock = Callable[[], datetime]
PAGE = 1000  # the sandbox's largest page
RECIPIENT_ENV = "UNEFOIS_CAMPAIGN_RECIPIENT"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CampaignServices:
    exchange: Exchange
    offers: OfferStore
    outbox: OutboxStore
    cursors: CursorStore
    pseudonyms: Pseudonyms
    connectors: Connectors
    audit: StartedAudit


@asynccontextmanager
async def open_services(settings: Settings, clock: Clock) -> AsyncIterator[CampaignServices]:
    """The exchange and the stores, started; closed (the audit log flushed) on exit."""
    bundle = Connectors.from_config(connector_config(settings), clock)
    catalogue = load_catalogue(settings.policies_dir, known_fields=frozenset(FIELDS))
    pseudonyms = Pseudonyms(pseudonym_secret(settings.data_dir, settings.pseudonym_secret))
    url = database_url_for(settings.data_dir, settings.database_url)
    consents = StartedConsentStore(url, settings.database_schema)
    audit = StartedAudit(
        url,
        settings.database_schema,
        settings.data_dir,
        audit_origin(settings.public_url),
        clock,
        settings.audit_sqlite_sync,
    )
    database = await connect(url, schema=settings.database_schema)
    try:
        await migrate(database)
        await consents.start()
        await audit.start()
        try:
            decider = PolicyDecider(catalogue, consents, pseudonyms)
            exchange = Exchange(bundle, decider, pseudonyms, Auditor(audit, pseudonyms, clock))
            yield CampaignServices(
                exchange,
                OfferStore(database),
                OutboxStore(database),
                CursorStore(database),
                pseudonyms,
                bundle,
                audit,
            )
        finally:
            await audit.aclose()
            await consents.aclose()
    finally:
        await database.aclose()
        await bundle.aclose()


def _identity(params: dict[str, Any]) -> PivotIdentity | None:
    try:
        return identity_from_params(params)
    except (KeyError, ValueError, InvalidInput):
        return None


def subjects_of(triggers: Iterable[Trigger]) -> list[Subject]:
    """One subject per person, in the order of their first trigger; a France Travail
    identifier any of their events gave is kept."""
    out: dict[str, Subject] = {}
    for trigger in triggers:
        identity = _identity(dict(trigger.subject))
        if identity is None:
            continue
        known = out.get(identity.key())
        if known is None or known.france_travail_id is None:
            out[identity.key()] = Subject(identity, trigger.france_travail_id)
    return list(out.values())


async def sandbox_subjects(registry_url: str, limit: int | None) -> list[Subject]:
    """The living adults of the sandbox's population, in its order, each with France
    Travail's identifier when they are registered there (as a paying agency's file would
    name its beneficiaries)."""
    out: list[Subject] = []
    offset = 0
    async with httpx.AsyncClient(timeout=30.0) as http:
        while limit is None or len(out) < limit:
            answer = await http.get(
                registry_url.rstrip("/") + "/_sandbox/persons",
                params={"offset": offset, "limit": PAGE, "kind": "adult"},
            )
            answer.raise_for_status()
            body = answer.json()
            for entry in body["data"]:
                identity = None if entry.get("deceased") else _identity(entry["personne"])
                if identity is not None:
                    out.append(Subject(identity, entry.get("identifiant_france_travail")))
            offset += len(body["data"])
            if not body["data"] or offset >= body["meta"]["total"]:
                break
    return out if limit is None else out[:limit]


async def sandbox_population(registry_url: str, limit: int | None) -> list[PivotIdentity]:
    """The living adults of the sandbox's population, in its order."""
    return [s.identity for s in await sandbox_subjects(registry_url, limit)]


class ProgressLine:
    """Counts on one terminal line redrawn with ``\\r``; plain lines when not a terminal.
    Counts only: nothing about any person."""

    def __init__(self, stream: TextIO, every: float = 0.2, plain_every: int = 1000) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._every = every
        self._plain_every = plain_every
        self._last = 0.0
        self._last_plain = 0

    def _text(self, s: Summary) -> str:
        done = s.fetched + s.errors
        return (
            f"{done}/{s.examined} fetched, {s.eligible} eligible, "
            f"{s.offers_created} offers, {s.errors} errors"
        )

    def __call__(self, summary: Summary) -> None:
        done = summary.fetched + summary.errors
        if self._tty:
            now = time.monotonic()
            if now - self._last >= self._every:
                self._last = now
                self._stream.write("\r" + self._text(summary))
                self._stream.flush()
        elif done - self._last_plain >= self._plain_every:
            self._last_plain = done
            self._stream.write(self._text(summary) + "\n")

    def close(self, summary: Summary) -> None:
        if self._tty:
            self._stream.write("\r" + self._text(summary) + "\n")
            self._stream.flush()


def summary_table(summary: Summary) -> str:
    rows = summary.rows()
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value:>8}" for name, value in rows) + "\n"


async def run_campaign(
    settings: Settings, args: argparse.Namespace, clock: Clock, stderr: TextIO
) -> Summary:
    campaign_id = args.campaign or f"{args.benefit}-{args.month}"
    progress = ProgressLine(stderr)
    async with open_services(settings, clock) as services:
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
        )
        if args.from_events:
            consumer = TriggerConsumer(
                services.connectors.feeds, services.cursors, load_rules(), clock
            )
            triggers = []
            while page := await consumer.poll():
                triggers.extend(page)
            subjects = subjects_of([t for t in triggers if args.benefit in t.benefits])
            summary = await runner.run(subjects, args.benefit, args.month, campaign_id, progress)
            # Acknowledged only now that the offers are recorded: a crash replays the events.
            await consumer.ack(triggers)
        else:
            registry = settings.upstreams["civil_registry"].url
            subjects = await sandbox_subjects(registry, args.limit)
            summary = await runner.run(subjects, args.benefit, args.month, campaign_id, progress)
    progress.close(summary)
    return summary


def notification_channels(settings: Settings, http: httpx.AsyncClient) -> dict[str, notify.Channel]:
    """The channels messages go through, as the settings configure them."""
    return {
        "email": notify.EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.smtp_tls
        ),
        "sms": notify.SmsChannel(settings.sms_url, settings.sms_token, http),
        "letter": notify.LetterChannel(settings.letters_path),
    }


async def deliver_outbox(settings: Settings, limit: int, clock: Clock) -> notify.DispatchCounts:
    """One pass over the due messages: each sent, put back for a retry, or given up.
    One ``deliver`` runs at a time (two would each send the same due messages): another
    one running raises :class:`LockHeld` before anything is sent."""
    url = database_url_for(settings.data_dir, settings.database_url)
    database = await connect(url, schema=settings.database_schema)
    try:
        await migrate(database)
        async with exclusive(database, "deliver"), httpx.AsyncClient(timeout=10.0) as http:
            dispatcher = notify.Dispatcher(
                OutboxStore(database),
                notification_channels(settings, http),
                clock,
                renderer=notify.Renderer(settings.public_url),
            )
            return await dispatcher.run_once(limit)
    finally:
        await database.aclose()


def deliver(args: argparse.Namespace) -> int:
    """``unefois campaign deliver``: prints the counts, nothing about anyone."""
    settings = settings_module.load()
    try:
        counts = asyncio.run(deliver_outbox(settings, args.limit, utc_now))
    except LockHeld:
        print("another 'campaign deliver' is running: nothing sent", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    sys.stdout.write(f"sent     {counts.sent:>8}\nretried  {counts.retried:>8}\n")
    sys.stdout.write(f"dead     {counts.dead:>8}\n")
    return 0


async def expire_offers(settings: Settings, after_days: int, clock: Clock) -> int:
    """Close the offers detected more than ``after_days`` ago that nobody acted on."""
    url = database_url_for(settings.data_dir, settings.database_url)
    database = await connect(url, schema=settings.database_schema)
    try:
        await migrate(database)
        now = clock()
        return await OfferStore(database).expire(now - timedelta(days=after_days), now)
    finally:
        await database.aclose()


def expire(args: argparse.Namespace) -> int:
    """``unefois campaign expire``: prints how many offers were closed."""
    if args.after_days < 1:
        print("--after-days must be 1 or more", file=sys.stderr)
        return 2
    count = asyncio.run(expire_offers(settings_module.load(), args.after_days, utc_now))
    sys.stdout.write(f"expired  {count:>8}\n")
    return 0


def add_deliver_parser(csub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deliver_parser = csub.add_parser("deliver", help="send the due notifications of the outbox")
    deliver_parser.add_argument(
        "--limit", type=int, default=1000, help="at most this many messages (default 1000)"
    )
    # Its own entry point: ``run`` stays the campaign command's.
    deliver_parser.set_defaults(func=deliver)
    expire_parser = csub.add_parser(
        "expire", help="close the offers nobody acted on after some days (default 90)"
    )
    expire_parser.add_argument("--after-days", type=int, default=90)
    expire_parser.set_defaults(func=expire)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = sub.add_parser("campaign", help="proactive detection campaigns")
    csub = campaign.add_subparsers(dest="campaign_command", required=True)
    add_deliver_parser(csub)
    # Imported here: the renewal commands build on this module's services.
    from gateway.renewal_cli import add_renewal_parsers

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
    report = csub.add_parser("report", help="write a campaign's HTML report")
    report.add_argument("--campaign", required=True, help="the campaign id")
    report.add_argument("--output", required=True, help="the HTML file to write")
    report.add_argument(
        "--truth-from-sandbox",
        action="store_true",
        help="precision and recall against the sandbox's known non-claimants",
    )
    report.add_argument(
        "--limit", type=int, help="with --truth-from-sandbox: the campaign's --limit"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.renewal_cli import RENEWAL_COMMANDS, run_renewal

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


async def sandbox_truth(
    registry_url: str, pseudonyms: Pseudonyms, benefit: str, limit: int | None
) -> dict[str, bool]:
    """Proactive pseudonym → real non-claimant of ``benefit``, for the persons a
    ``--population`` campaign examines (the same listing, filter and limit)."""
    flag = f"{benefit}_non_claimant"
    out: dict[str, bool] = {}
    offset = 0
    async with httpx.AsyncClient(timeout=30.0) as http:
        while limit is None or len(out) < limit:
            answer = await http.get(
                registry_url.rstrip("/") + "/_sandbox/persons",
                params={"offset": offset, "limit": PAGE, "kind": "adult"},
            )
            answer.raise_for_status()
            body = answer.json()
            for entry in body["data"]:
                identity = None if entry.get("deceased") else _identity(entry["personne"])
                if identity is None or (limit is not None and len(out) >= limit):
                    continue
                if flag not in entry["truth"]:
                    raise ValueError(f"the sandbox knows no non-claimants of {benefit!r}")
                out[pseudonyms.pseudonym(identity, SECTOR)] = bool(entry["truth"][flag])
            offset += len(body["data"])
            if not body["data"] or offset >= body["meta"]["total"]:
                break
    return out


async def build_report(
    settings: Settings, args: argparse.Namespace, clock: Clock
) -> tuple[str, str]:
    """The report page, and a one-line summary (counts only) for the terminal."""
    async with open_services(settings, clock) as services:
        offers = await services.offers.for_campaign(args.campaign)
        truth = None
        if args.truth_from_sandbox and offers:
            registry = settings.upstreams["civil_registry"].url
            benefit = offers[0].benefit  # a campaign examines one benefit
            truth = await sandbox_truth(registry, services.pseudonyms, benefit, args.limit)
    page = render_report(offers, truth, f"Campagne {args.campaign}")
    line = f"offers {len(offers)}"
    if truth is not None:
        d = detection(offers, truth)
        line += (
            f" true_positives {d.true_positives} false_positives {d.false_positives}"
            f" unknown {d.unknown} non_claimants {d.non_claimants}"
            f" precision {d.precision} recall {d.recall}"
        )
    return page, line + "\n"


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
