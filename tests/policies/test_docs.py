"""The worked example of docs/policies.md loads and answers as the guide says."""

from __future__ import annotations

import re
import shutil
import textwrap
from datetime import date
from pathlib import Path

from exchange.catalogue import FIELDS
from policies import SHIPPED, decide, load_catalogue

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "policies.md"
_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def _block(first_line: str) -> str:
    for match in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        text = textwrap.dedent(match.group(2))
        if text.startswith(first_line):
            return text
    raise AssertionError(f"no yaml block starting with {first_line!r} in the guide")


def test_the_worked_example(tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    shutil.copytree(SHIPPED, root)
    clients = root / "clients.yaml"
    clients.write_text(
        clients.read_text(encoding="utf-8") + _block("# clients.yaml (added entry)"),
        encoding="utf-8",
    )
    purpose = _block("# purposes/school_canteen_pricing.yaml")
    (root / "purposes" / "school_canteen_pricing.yaml").write_text(purpose, encoding="utf-8")
    catalogue = load_catalogue(root, known_fields=frozenset(FIELDS))
    assert catalogue.revision != load_catalogue().revision

    def ask(client: str, on: date) -> dict[str, str]:
        verdict = decide(
            catalogue,
            client_id=client,
            caller="client",
            purpose_id="school_canteen_pricing",
            fields=frozenset(FIELDS),
            consents=(),
            on=on,
        )
        return {f: d.rule_id for f, d in verdict.fields.items()}

    before = ask("demo-commune", date(2025, 8, 31))
    assert set(before.values()) == {"purpose.not_in_force"}
    after = ask("demo-commune", date(2025, 9, 1))
    assert {f for f, rule in after.items() if rule == "field.purpose_grant"} == {
        "identity",
        "household",
    }
    assert after["taxHousehold"] == after["resources"] == "field.outside_purpose"
    other = ask("demo-caf", date(2025, 9, 1))
    assert set(other.values()) == {"purpose.client_not_allowed"}
