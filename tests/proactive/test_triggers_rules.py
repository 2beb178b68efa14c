"""The shipped trigger rules, and the loader refusing what it does not know."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proactive.triggers import RULES_FILE, AgeRule, RulesError, load_rules, parse_rules

SHIPPED = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def test_shipped_rules() -> None:
    rules = load_rules()
    family = ("rsa", "ppa", "css", "aide_logement")
    assert {k: set(v) for k, v in rules.events.items()} == {
        "job_loss": set(family),
        "resource_drop": set(family),
        "birth": set(family),
        "move": {"aide_logement", "css"},
        "right_expiry": {"css"},
        "job_found": set(family),
    }
    assert rules.aspa_age is not None
    assert rules.aspa_age.age == 65 and set(rules.aspa_age.benefits) == {"aspa", "css"}
    assert rules.benefits_for("wedding") == ()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"events": {**SHIPPED["events"], "wedding": ["rsa"]}}, "events.wedding"),
        (
            {"events": {**SHIPPED["events"], "move": ["rsa", "apl"]}},
            "events.move: unknown benefit 'apl'",
        ),
        ({"events": {**SHIPPED["events"], "birth": []}}, "events.birth"),
        ({"derived": {"retirement": SHIPPED["derived"]["aspa_age"]}}, "derived.retirement"),
        (
            {"derived": {"aspa_age": {**SHIPPED["derived"]["aspa_age"], "benefits": ["aah"]}}},
            "derived.aspa_age.benefits",
        ),
        ({"derived": {"aspa_age": {"age": 65, "benefits": ["aspa"]}}}, "derived.aspa_age"),
        ({"extra": 1}, "rules.yaml"),
    ],
)
def test_unknown_names_are_refused_naming_file_and_key(
    tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({**SHIPPED, **change}), encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules\.yaml") as caught:
        load_rules(path)
    assert named in str(caught.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"missing\.yaml"):
        load_rules(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("events: [unclosed", encoding="utf-8")
    with pytest.raises(RulesError, match=r"broken\.yaml"):
        load_rules(broken)


def test_derived_rules_are_optional() -> None:
    rules = parse_rules({"events": {"move": ["css"]}}, "test")
    assert rules.aspa_age is None and rules.events == {"move": ("css",)}
    assert AgeRule(65, 0, ("aspa",)).benefits == ("aspa",)
