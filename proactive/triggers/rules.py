"""The trigger rules: which benefits each life event sends back to eligibility.

The mapping lives in ``proactive/rules.yaml`` so that it is read, reviewed and changed as
data. Loading is strict: a typo in an event type or a benefit would otherwise make a rule that
never fires, which nobody notices, and the people it was meant for are never told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.events import EVENT_TYPES
from eligibility.model import BENEFITS

RULES_FILE = Path(__file__).resolve().parent.parent / "rules.yaml"
ASPA_AGE = "aspa_age"


class RulesError(ValueError):
    """The rules file is unreadable or names something unknown; the message says where."""


@dataclass(frozen=True)
class AgeRule:
    """Reaching ``age`` (birthday within ``within_days`` of today) re-examines ``benefits``."""

    age: int
    within_days: int
    benefits: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    events: Mapping[str, tuple[str, ...]]  # agency event type → benefits
    aspa_age: AgeRule | None = None

    def benefits_for(self, event_type: str) -> tuple[str, ...]:
        """The benefits to re-examine for that event type; none for a type without a rule."""
        return self.events.get(event_type, ())


def _benefits(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise RulesError(f"{where}: a non-empty list of benefits is expected")
    unknown = [b for b in value if b not in BENEFITS]
    if unknown:
        raise RulesError(f"{where}: unknown benefit {unknown[0]!r} (known: {', '.join(BENEFITS)})")
    return tuple(dict.fromkeys(value))


def _age_rule(value: Any, where: str) -> AgeRule:
    if not isinstance(value, dict) or set(value) != {"age", "within_days", "benefits"}:
        raise RulesError(f"{where}: expects exactly age, within_days and benefits")
    age, within = value["age"], value["within_days"]
    if not isinstance(age, int) or not 0 < age < 130:
        raise RulesError(f"{where}.age: an age in years is expected")
    if not isinstance(within, int) or within < 0:
        raise RulesError(f"{where}.within_days: a number of days, zero or more, is expected")
    return AgeRule(age, within, _benefits(value["benefits"], f"{where}.benefits"))


def parse_rules(data: Any, source: str) -> Rules:
    """The rules in ``data`` (the YAML document of ``source``, named in errors)."""
    if not isinstance(data, dict) or not set(data) <= {"events", "derived"}:
        raise RulesError(f"{source}: expects the keys events and derived")
    events = data.get("events")
    if not isinstance(events, dict):
        raise RulesError(f"{source}: events: a mapping of event types is expected")
    mapping: dict[str, tuple[str, ...]] = {}
    for kind, benefits in events.items():
        if kind not in EVENT_TYPES:
            known = ", ".join(sorted(EVENT_TYPES))
            raise RulesError(f"{source}: events.{kind}: unknown event type (known: {known})")
        mapping[kind] = _benefits(benefits, f"{source}: events.{kind}")
    derived = data.get("derived") or {}
    if not isinstance(derived, dict):
        raise RulesError(f"{source}: derived: a mapping is expected")
    for kind in derived:
        if kind != ASPA_AGE:
            raise RulesError(f"{source}: derived.{kind}: unknown derived event (known: {ASPA_AGE})")
    age = derived.get(ASPA_AGE)
    aspa = None if age is None else _age_rule(age, f"{source}: derived.{ASPA_AGE}")
    return Rules(events=mapping, aspa_age=aspa)


def load_rules(path: Path = RULES_FILE) -> Rules:
    """The rules of ``path`` (the shipped file by default); :class:`RulesError` if invalid."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesError(f"{path.name}: cannot be read ({type(error).__name__})") from None
    except yaml.YAMLError:
        raise RulesError(f"{path.name}: is not valid YAML") from None
    return parse_rules(data, path.name)
