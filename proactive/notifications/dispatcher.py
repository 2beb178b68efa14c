"""Delivering the outbox: each due message once per run, retried with backoff, then dead.

Guarantees:

- a message recorded as sent is never sent again (``due`` never returns it, and
  ``mark_sent``/``mark_failed`` leave a sent message alone);
- a crash between a channel's success and ``mark_sent`` leaves the message due, so it is sent
  again at most once per such crash: harmless for the SMS provider (``Idempotency-Key``) and
  for letters (same file), a second e-mail for SMTP, which has no idempotency;
- one dispatcher runs at a time per outbox: two would each deliver the same due messages.

Logs name message ids, channels and error kinds only: never an address or a text.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from proactive.notifications.channels import Channel
from proactive.notifications.errors import DeliveryError, PermanentFailure, TemporaryFailure
from proactive.notifications.rendering import Renderer
from store.outbox import Message, OutboxStore

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BACKOFF_BASE = timedelta(seconds=30)


@dataclass(frozen=True)
class DispatchCounts:
    sent: int = 0
    retried: int = 0  # failed, to be tried again
    dead: int = 0
    sms_sent: int = 0  # text messages among those sent
    sms_segments: int = 0  # the SMS they went out as (a long text is several): what is billed


class Dispatcher:
    def __init__(
        self,
        outbox: OutboxStore,
        channels: Mapping[str, Channel],
        clock: Clock,
        *,
        renderer: Renderer,
        max_attempts: int = 5,
        backoff_base: timedelta = BACKOFF_BASE,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be positive")
        self._outbox = outbox
        self._channels = dict(channels)
        self._clock = clock
        self._renderer = renderer
        self.max_attempts = max_attempts
        self._base = backoff_base
        self._jitter = jitter

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: full jitter, uniform in
        [0, base × 2^(attempts-1)], so that messages failing together do not retry together."""
        return self._base * (1 << max(attempts - 1, 0)) * self._jitter()

    async def run_once(self, limit: int = 100) -> DispatchCounts:
        """Try every message due now (at most ``limit``) once."""
        sent = retried = dead = sms_sent = sms_segments = 0
        for message in await self._outbox.due(self._clock(), limit):
            outcome, segments = await self._deliver(message)
            sent += outcome == "sent"
            retried += outcome == "retried"
            dead += outcome == "dead"
            if outcome == "sent" and message.channel == "sms":
                sms_sent += 1
                sms_segments += segments
        return DispatchCounts(sent, retried, dead, sms_sent, sms_segments)

    async def _deliver(self, message: Message) -> tuple[str, int]:
        """The outcome, and the SMS a text message went out as."""
        channel = self._channels.get(message.channel)
        last_try = message.attempts + 1 >= self.max_attempts
        try:
            if channel is None:
                raise PermanentFailure("no_channel")
            content = self._renderer.render(
                message.template, message.channel, message.payload, self._clock().date()
            )
            # The provider's delivery id is not kept: the outbox has no column for it.
            await channel.send(message, content)
        except PermanentFailure as error:
            return await self._failed(message, error, dead=True), 0
        except TemporaryFailure as error:
            return await self._failed(message, error, dead=last_try), 0
        except Exception as error:
            # A bug in a channel must not stop the others; retried like a temporary failure.
            unexpected = DeliveryError(f"unexpected_{type(error).__name__}")
            return await self._failed(message, unexpected, dead=last_try), 0
        await self._outbox.mark_sent(message.id, self._clock())
        logger.info(
            "notification sent", extra={"message_id": message.id, "channel": message.channel}
        )
        return "sent", content.segments

    async def _failed(self, message: Message, error: DeliveryError, *, dead: bool) -> str:
        now = self._clock()
        next_attempt = now if dead else now + self.backoff(message.attempts + 1)
        await self._outbox.mark_failed(message.id, error.kind, next_attempt, dead)
        logger.warning(
            "notification %s",
            "dead" if dead else "failed",
            extra={"message_id": message.id, "channel": message.channel, "error": error.kind},
        )
        return "dead" if dead else "retried"
