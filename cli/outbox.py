"""``unefois campaign deliver`` and ``unefois campaign expire``: the outbox sent through the
channels the settings configure (SMTP, the SMS provider, the letters directory), and the
offers nobody acted on closed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TextIO

import httpx

import proactive.notifications as notify
import runtime.settings as settings_module
from cli.progress import Bar, CountedOutbox
from runtime import Services
from runtime.settings import Settings
from store import LockHeld, Message, exclusive

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def notification_channels(settings: Settings, http: httpx.AsyncClient) -> dict[str, notify.Channel]:
    """The channels messages go through, as the settings configure them."""
    return {
        "email": notify.EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.smtp_tls
        ),
        "sms": notify.SmsChannel(settings.sms_url, settings.sms_token, http),
        "letter": notify.LetterChannel(settings.letters_path, settings.letter_sender),
    }


async def deliver_outbox(
    settings: Settings, limit: int, clock: Clock, stderr: TextIO | None = None
) -> notify.DispatchCounts:
    """One pass over the due messages: each sent, put back for a retry, or given up, with a
    progress bar on ``stderr`` (a terminal only) over the messages due.
    One ``deliver`` runs at a time (two would each send the same due messages): another
    one running raises :class:`LockHeld` before anything is sent."""
    async with (
        Services.open(settings, clock) as services,
        exclusive(services.database, "deliver"),
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        due = len(await services.outbox.due(clock(), limit))
        with Bar("deliver", due, stderr or sys.stderr) as bar:
            dispatcher = notify.Dispatcher(
                CountedOutbox(services.database, bar),
                notification_channels(settings, http),
                clock,
                renderer=notify.Renderer(settings.public_url),
            )
            return await dispatcher.run_once(limit)


def sms_segments(messages: Iterable[Message], renderer: notify.Renderer, today: date) -> int:
    """The SMS segments these text messages go out as, rendered as ``deliver`` will render
    them (with today's date); a message that cannot be rendered is never sent: it counts 0."""
    total = 0
    for message in messages:
        try:
            total += renderer.render(message.template, "sms", message.payload, today).segments
        except notify.PermanentFailure:
            continue
    return total


def sms_cost(segments: int, segment_price: Decimal | None) -> str | None:
    """The estimated cost of ``segments`` at ``UNEFOIS_SMS_SEGMENT_PRICE``; None without it."""
    if segment_price is None:
        return None
    return f"{(segment_price * segments).quantize(Decimal('0.01'))} euros excl. VAT (estimate)"


def delivery_lines(counts: notify.DispatchCounts, segment_price: Decimal | None) -> str:
    """What ``deliver`` prints: the messages sent, retried and given up, the text messages
    among those sent and the SMS segments they were billed as, and with a segment price set
    (``UNEFOIS_SMS_SEGMENT_PRICE``) their estimated cost in euros excluding VAT."""
    rows: list[tuple[str, object]] = [
        ("sent", counts.sent),
        ("retried", counts.retried),
        ("dead", counts.dead),
        ("sms", counts.sms_sent),
        ("segments", counts.sms_segments),
    ]
    cost = sms_cost(counts.sms_segments, segment_price)
    if cost is not None:
        rows.append(("cost", cost))
    return "".join(f"{name:<8} {value:>8}\n" for name, value in rows)


def deliver(args: argparse.Namespace) -> int:
    """``unefois campaign deliver``: prints the counts, nothing about anyone."""
    settings = settings_module.load()
    try:
        counts = asyncio.run(deliver_outbox(settings, args.limit, utc_now))
    except LockHeld:
        print("another 'campaign deliver' is running: nothing sent", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    sys.stdout.write(delivery_lines(counts, settings.sms_segment_price))
    return 0


async def expire_offers(settings: Settings, after_days: int, clock: Clock) -> int:
    """Close the offers detected more than ``after_days`` ago that nobody acted on."""
    async with Services.open(settings, clock) as services:
        now = clock()
        return await services.offers.expire(now - timedelta(days=after_days), now)


def expire(args: argparse.Namespace) -> int:
    """``unefois campaign expire``: prints how many offers were closed."""
    if args.after_days < 1:
        print("--after-days must be 1 or more", file=sys.stderr)
        return 2
    count = asyncio.run(expire_offers(settings_module.load(), args.after_days, utc_now))
    sys.stdout.write(f"expired  {count:>8}\n")
    return 0


def add_outbox_parsers(csub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
