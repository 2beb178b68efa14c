"""The agencies' events a command acts on: every pending page read, acknowledged by the
command once what it did about them is recorded (a crash replays them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from proactive.triggers import Trigger, TriggerConsumer
from proactive.triggers.rules import load_rules
from runtime import Services


async def pending_triggers(
    services: Services, clock: Callable[[], datetime]
) -> tuple[TriggerConsumer, list[Trigger]]:
    consumer = TriggerConsumer(services.connectors.feeds, services.cursors, load_rules(), clock)
    triggers: list[Trigger] = []
    while page := await consumer.poll():
        triggers.extend(page)
    return consumer, triggers
