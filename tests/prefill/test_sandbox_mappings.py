"""The sandbox procedures' mapping files fit our forms and the procedures' descriptors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from prefill import load_forms
from prefill.champs import ChampDescriptor, descriptors_from_graphql, typename_of
from prefill.procedure import load_procedure_file, validate_procedure

ROOT = Path(__file__).resolve().parents[2] / "sandbox" / "demarches"
PROCEDURES = yaml.safe_load((ROOT / "procedures.yaml").read_text(encoding="utf-8"))["procedures"]


def graphql_node(champ: dict[str, Any]) -> dict[str, Any]:
    """A champ of procedures.yaml as DS's GraphQL API describes it."""
    node: dict[str, Any] = {
        "__typename": typename_of(champ["type"]),
        "id": champ["id"],
        "label": champ["label"],
        "description": champ.get("description"),
        "required": champ.get("required", False),
    }
    if "options" in champ:
        node["options"] = champ["options"]
    if "children" in champ:
        node["champDescriptors"] = [graphql_node(c) for c in champ["children"]]
    return node


def descriptors(number: int) -> tuple[ChampDescriptor, ...]:
    procedure = next(p for p in PROCEDURES if p["number"] == number)
    return descriptors_from_graphql([graphql_node(c) for c in procedure["champs"]])


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p["path"])
def test_each_sandbox_procedure_has_a_valid_mapping(procedure: dict[str, Any]) -> None:
    mapping = load_procedure_file(ROOT / "mappings" / f"{procedure['path']}.yaml")
    assert mapping.number == procedure["number"]
    assert mapping.path == procedure["path"]
    warnings = validate_procedure(
        mapping, load_forms()[mapping.form], descriptors(procedure["number"])
    )
    # Every warning is one the mapping file explains (addresses, the person's own champs…).
    for warning in warnings:
        assert "address champ" in warning or "is not mapped" in warning


def test_every_mapping_file_is_a_sandbox_procedure() -> None:
    paths = {p["path"] for p in PROCEDURES}
    assert {f.stem for f in (ROOT / "mappings").glob("*.yaml")} == paths


def test_the_seine_saint_denis_procedure_serves_its_departement_only() -> None:
    p = load_procedure_file(ROOT / "mappings" / "demande-rsa-seine-saint-denis.yaml")
    assert p.serves("93") and not p.serves("75") and not p.serves(None)
    national = load_procedure_file(ROOT / "mappings" / "demande-rsa.yaml")
    assert national.serves("75") and national.serves(None)


def test_the_guides_mapping_example_registers_against_its_procedure() -> None:
    # docs/prefill.md's example for procedure 101, and its `from` snippet added to 105's own
    # mapping: what a form builder copies must pass the checks registration makes.
    import re

    from prefill.procedure import parse_procedure

    guide = (ROOT.parents[1] / "docs" / "prefill.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", guide, flags=re.S)
    example = next(b for b in blocks if b.startswith("procedure: 101"))
    data = yaml.safe_load(example)
    procedure = parse_procedure(data, "docs/prefill.md")
    validate_procedure(procedure, load_forms()[procedure.form], descriptors(101))
    snippet = next(b for b in blocks if b.lstrip().startswith("commune:"))
    base = yaml.safe_load(
        (ROOT / "mappings" / "demande-rsa-seine-saint-denis.yaml").read_text(encoding="utf-8")
    )
    base["champs"].update(yaml.safe_load(snippet))
    ssd = parse_procedure(base, "docs/prefill.md")
    validate_procedure(ssd, load_forms()[ssd.form], descriptors(105))
