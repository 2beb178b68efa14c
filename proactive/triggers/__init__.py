"""Triggers: agency life events read from their feeds into benefits to re-examine.

Wiring::

    consumer = TriggerConsumer(connectors.feeds, CursorStore(database), load_rules(), clock)
    triggers = await consumer.poll(limit=500)
    ...                              # record what the triggers lead to, durably
    await consumer.ack(triggers)     # only then: events marked processed, cursors moved
"""

from proactive.triggers.consumer import Feed, Trigger, TriggerConsumer
from proactive.triggers.rules import RULES_FILE, AgeRule, Rules, RulesError, load_rules, parse_rules

__all__ = [
    "RULES_FILE",
    "AgeRule",
    "Feed",
    "Rules",
    "RulesError",
    "Trigger",
    "TriggerConsumer",
    "load_rules",
    "parse_rules",
]
