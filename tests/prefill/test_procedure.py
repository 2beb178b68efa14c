# ruff: noqa: E501  (tables of cases, one per line)
"""Procedure mapping files: their shape, the database round trip, validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from prefill import MappingError, load_forms
from prefill.procedure import (
    parse_procedure,
    procedure_from_data,
    procedure_to_data,
    validate_procedure,
)
from tests.prefill.test_sandbox_mappings import ROOT, descriptors

FILE = ROOT / "mappings" / "demande-rsa.yaml"
BASE: dict[str, Any] = yaml.safe_load(FILE.read_text(encoding="utf-8"))
RSA = load_forms()["rsa"]
CHAMPS = descriptors(101)


def changed(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


def test_round_trip_through_the_database() -> None:
    p = parse_procedure(BASE, "demande-rsa.yaml")
    assert procedure_from_data(procedure_to_data(p)) == p
    assert p.champs["situation_familiale"].options["marie"] == "Marié(e)"


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("procedure", "101", "procedure"),
        ("recipient", "21750001600018", "recipient"),
        ("recipient", 21750001600019, "recipient"),
        ("territory", ["20"], "territory"),
        ("identite.sexe", ["civilite"], "identite.sexe"),
        ("champs.date_naissance", "Q2hhbXAtWFhY", "champs.date_naissance"),
        ("champs.enfants.extra", 1, "champs.enfants.extra"),
        ("colour", "blue", "colour"),
    ],
)
def test_shape_errors_name_the_file_and_key(path: str, value: Any, key: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_procedure(changed(path, value), "demande-rsa.yaml")
    assert caught.value.file == "demande-rsa.yaml" and caught.value.key == key


@pytest.mark.parametrize(
    ("path", "value", "key", "why"),
    [
        ("champs.date_naissance", "Q2hhbXAtMzEwNDAy", "champs.date_naissance", "not one of"),
        ("champs.pas_un_champ", "Q2hhbXAtMTAxMDQz", "champs.pas_un_champ", "no such field"),
        ("champs.date_naissance", "Q2hhbXAtMTAxMDMx", "champs.date_naissance", "date field cannot fill a decimal_number"),
        ("champs.enfants", "Q2hhbXAtMTAxMDQ1", "champs.enfants", "repetition field cannot fill a email"),
        ("champs.enfants", {"champ": "Q2hhbXAtMTAxMDE5"}, "champs.enfants.children", "maps its columns"),
        ("champs.enfants.children.prenom", "Q2hhbXAtMTAxMDE1", "champs.enfants.children.prenom", "not a column"),
        ("champs.situation_familiale.options.marie", "Marié", "champs.situation_familiale.options.marie", "not among the champ's options"),
        ("champs.situation_familiale.options", None, "champs.situation_familiale.options.celibataire", "has no option mapped"),
        ("champs.numero_allocataire", "Q2hhbXAtMTAxMDA2", "champs.numero_allocataire", "already mapped"),
        ("champs.commune_naissance", "Q2hhbXAtMTAxMDAz", "champs.commune_naissance", "fed by from"),
        ("champs.percoit_aah", "Q2hhbXAtMTAxMDAx", "champs.percoit_aah", "takes no value"),
        ("identite.nom", ["nom_marital"], "identite.nom", "no field"),
    ],
)  # fmt: skip
def test_validation_refuses_what_cannot_work(path: str, value: Any, key: str, why: str) -> None:
    p = parse_procedure(changed(path, value), "demande-rsa.yaml")
    with pytest.raises(MappingError) as caught:
        validate_procedure(p, RSA, CHAMPS)
    assert caught.value.key == key and why in str(caught.value)


def test_warnings_for_required_champs_left_unmapped() -> None:
    p = parse_procedure(changed("champs.date_naissance", None), "demande-rsa.yaml")
    warnings = validate_procedure(p, RSA, CHAMPS)
    assert any("Q2hhbXAtMTAxMDAy" in w and "not mapped" in w for w in warnings)


def test_a_bad_yaml_file_names_itself(tmp_path: Path) -> None:
    from prefill.procedure import load_procedure_file

    bad = tmp_path / "x.yaml"
    bad.write_text("procedure: [", encoding="utf-8")
    with pytest.raises(MappingError, match=r"x\.yaml"):
        load_procedure_file(bad)
