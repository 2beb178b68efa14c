"""The démarches-simplifiées payload and the procedure mapping files."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from connectors.records import CivilStatus
from prefill import (
    MappingError,
    UnknownMapping,
    ds_payload,
    load_forms,
    load_mapping,
    prefill,
)
from prefill.ds import check_mapping, is_champ_id
from tests.prefill.records import person_records

FORMS = load_forms()


def champ(n: int) -> str:
    return base64.b64encode(f"Champ-{n}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_every_shipped_form_has_a_mapping_that_fits(form_id: str) -> None:
    mapping = load_mapping(form_id)
    check_mapping(FORMS[form_id], mapping)
    assert set(mapping.identity) == {"nom", "prenom", "genre"}
    ids = list(mapping.champs.values()) + [c for r in mapping.rows.values() for c in r.values()]
    assert len(ids) == len(set(ids))


def test_payload_shape() -> None:
    form = FORMS["rsa"]
    mapping = load_mapping("rsa")
    payload = ds_payload(form, prefill(form, person_records()), mapping)
    assert payload["identite_nom"] == "DURAND"  # the usage name first, as DS shows it
    assert payload["identite_prenom"] == "CLAIRE MARIE"
    assert payload["identite_genre"] == "Mme"
    assert payload[f"champ_{mapping.champs['date_naissance']}"] == "1988-03-14"
    assert payload[f"champ_{mapping.champs['loyer_mensuel']}"] == 500.0
    assert payload[f"champ_{mapping.champs['percoit_aide_logement']}"] == "true"
    assert payload[f"champ_{mapping.champs['percoit_aah']}"] == "false"
    children = payload[f"champ_{mapping.champs['enfants']}"]
    columns = mapping.rows["enfants"]
    assert children == [
        {
            f"champ_{columns['prenom']}": "LÉA",
            f"champ_{columns['nom']}": "MARTIN",
            f"champ_{columns['date_naissance']}": "2015-09-01",
            f"champ_{columns['sexe']}": "F",
        },
        {
            f"champ_{columns['prenom']}": "HUGO",
            f"champ_{columns['nom']}": "MARTIN",
            f"champ_{columns['date_naissance']}": "2018-02-20",
            f"champ_{columns['sexe']}": "M",
        },
    ]
    # Fields without a value are not sent: DS keeps them empty for the person to fill.
    assert f"champ_{mapping.champs['numero_allocataire']}" not in payload
    keys = [k for k in payload if not k.startswith("identite_")]
    assert all(k.startswith("champ_") and is_champ_id(k[6:]) for k in keys)


def test_the_birth_name_stands_in_for_a_missing_usage_name() -> None:
    form = FORMS["css"]
    records = person_records()
    identity = records["identity"]
    assert isinstance(identity, CivilStatus)
    records["identity"] = replace(identity, usage_name=None)
    payload = ds_payload(form, prefill(form, records), load_mapping("css"))
    # The usage name leads the mapping's list; with none, the birth name is the one DS shows.
    assert payload["identite_nom"] == "MARTIN"
    assert payload["identite_prenom"] == "CLAIRE MARIE"
    with_usage_name = ds_payload(form, prefill(form, person_records()), load_mapping("css"))
    assert with_usage_name["identite_nom"] == "DURAND"


def test_no_identity_record_sends_no_identity_block() -> None:
    form = FORMS["css"]
    filled = prefill(form, {k: v for k, v in person_records().items() if k != "identity"})
    payload = ds_payload(form, filled, load_mapping("css"))
    assert not {"identite_nom", "identite_prenom", "identite_genre"} & set(payload)


def test_champ_ids() -> None:
    assert is_champ_id("Q2hhbXAtMTIz")  # "Champ-123"
    assert is_champ_id(champ(310401))
    assert not is_champ_id("champ123")
    assert not is_champ_id(base64.b64encode(b"Dossier-12").decode())


def mapping_file(tmp_path: Path, body: dict[str, object]) -> Path:
    (tmp_path / "rsa.yaml").write_text(yaml.safe_dump(body), "utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"form": "rsa", "champs": {"nom_naissance": "nope"}}, "champs.nom_naissance"),
        ({"form": "rsa", "champs": {}}, "champs"),
        ({"form": "ppa", "champs": {"nom_naissance": champ(1)}}, "form"),
        ({"form": "rsa", "champs": {"x": champ(1)}, "extra": 1}, "extra"),
        ({"form": "rsa", "identite": {"age": "x"}, "champs": {"x": champ(1)}}, "identite.age"),
        ({"form": "rsa", "champs": {"enfants": {"id": champ(1)}}}, "champs.enfants"),
    ],
)
def test_bad_mapping_files_are_refused_by_key(
    tmp_path: Path, body: dict[str, object], key: str
) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping("rsa", mapping_file(tmp_path, body))
    assert (caught.value.file, caught.value.key) == ("rsa.yaml", key)


@pytest.mark.parametrize(
    ("champs", "key"),
    [
        ({"inconnu": champ(1)}, "champs.inconnu"),
        ({"enfants": champ(1)}, "champs.enfants"),
        (
            {"enfants": {"id": champ(1), "children": {"age": champ(2)}}},
            "champs.enfants.children.age",
        ),
    ],
)
def test_a_mapping_must_fit_its_form(tmp_path: Path, champs: dict[str, object], key: str) -> None:
    mapping = load_mapping("rsa", mapping_file(tmp_path, {"form": "rsa", "champs": champs}))
    form = FORMS["rsa"]
    with pytest.raises(MappingError) as caught:
        ds_payload(form, prefill(form, person_records()), mapping)
    assert caught.value.key == key


def test_a_form_without_mapping_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(UnknownMapping) as caught:
        load_mapping("rsa", tmp_path)
    assert caught.value.code == "NOT_FOUND"
