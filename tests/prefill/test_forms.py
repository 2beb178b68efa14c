"""The form loader: shipped forms load; anything it does not understand is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exchange.catalogue import FIELDS
from policies import load_catalogue
from prefill import DefinitionError, UnknownForm, fields_needed, load_forms
from prefill.paths import ROOTS

ABSENT = object()  # a top-level key left out of the file
GOOD_FIELD: dict[str, object] = {
    "id": "nom",
    "label": "Nom",
    "type": "text",
    "source": "identity.birth_name",
}


def write(tmp_path: Path, fields: list[dict[str, object]], **top: object) -> Path:
    body: dict[str, object] = {"id": "essai", "title": "Essai", "purposes": ["citizen_prefill"]}
    body.update(fields=fields, **top)
    body = {k: v for k, v in body.items() if v is not ABSENT}
    (tmp_path / "essai.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")
    return tmp_path


def test_the_shipped_forms_load() -> None:
    forms = load_forms()
    assert set(forms) == {"rsa", "ppa", "css", "aspa"}
    assert {f.benefit for f in forms.values()} == {"rsa", "ppa", "css", "aspa"}
    for form in forms.values():
        assert form.source_file == f"{form.id}.yaml"
        assert form.reference
        assert "citizen_prefill" in form.purposes


def test_the_shipped_forms_purposes_are_in_the_shipped_catalogue() -> None:
    purposes = load_catalogue().purposes
    for form in load_forms().values():
        assert set(form.purposes) <= set(purposes), form.id
    # Each form is prefilled under the instruction of its own benefit, not another's.
    assert "aspa_instruction" not in load_forms()["rsa"].purposes
    assert "rsa_instruction" not in load_forms()["aspa"].purposes


def test_a_nir_field_loads(tmp_path: Path) -> None:
    nir: dict[str, object] = {"id": "nir", "label": "Numéro de sécurité sociale", "type": "nir"}
    (field,) = load_forms(write(tmp_path, [nir]))["essai"].fields
    assert field.type == "nir"
    shipped = load_forms()
    for form in ("rsa", "css", "aspa"):
        numero = shipped[form].field("numero_securite_sociale")
        assert numero is not None and numero.type == "nir", form


def test_an_unknown_form_is_a_typed_key_error() -> None:
    forms = load_forms()
    with pytest.raises(UnknownForm) as caught:
        forms["apl"]
    assert caught.value.code == "BAD_USER_INPUT"
    assert isinstance(caught.value, KeyError)
    assert forms.get("apl") is None
    assert "apl" not in forms


def test_roots_are_the_exchange_catalogue_fields() -> None:
    assert set(ROOTS) == set(FIELDS)


def test_fields_needed_are_the_roots_the_sources_read() -> None:
    forms = load_forms()
    assert fields_needed(forms["aspa"]) == {
        "identity",
        "address",
        "taxHousehold",
        "pension",
        "benefits.aspa",
        "resources",
        "housing",
    }
    assert "employment.status" in fields_needed(forms["rsa"])
    assert fields_needed(forms["css"]) >= {"healthCoverage", "household"}


def test_a_minimal_form_loads(tmp_path: Path) -> None:
    forms = load_forms(write(tmp_path, [GOOD_FIELD]))
    (field,) = forms["essai"].fields
    assert (field.id, field.type, field.confirm, field.required) == ("nom", "text", False, False)
    assert forms["essai"].purposes == ("citizen_prefill",)


REPETITION = {
    "id": "enfants",
    "label": "Enfants",
    "type": "repetition",
    "source": "household.children",
    "children": [
        {"id": "prenom", "label": "Prénom", "type": "text", "source": "household.children[].x"}
    ],
}


@pytest.mark.parametrize(
    ("fields", "top", "key", "words"),
    [
        ([GOOD_FIELD], {"colour": "blue"}, "colour", "unknown key"),
        ([GOOD_FIELD], {"id": "autre"}, "id", "file's name"),
        ([], {}, "fields", "non-empty"),
        ([GOOD_FIELD], {"purposes": ABSENT}, "purposes", "is required"),
        ([GOOD_FIELD], {"purposes": []}, "purposes", "non-empty list"),
        ([GOOD_FIELD], {"purposes": "citizen_prefill"}, "purposes", "non-empty list"),
        ([GOOD_FIELD], {"purposes": ["Citizen prefill"]}, "purposes[0]", "purpose id"),
        ([GOOD_FIELD], {"purposes": ["a", "a"]}, "purposes", "twice"),
        ([{**GOOD_FIELD, "colour": 1}], {}, "fields.nom.colour", "unknown key"),
        ([{**GOOD_FIELD, "type": "string"}], {}, "fields.nom.type", "must be one of"),
        ([{**GOOD_FIELD, "label": 3}], {}, "fields.nom.label", "non-empty string"),
        ([{**GOOD_FIELD, "confirm": "yes"}], {}, "fields.nom.confirm", "true or false"),
        ([{**GOOD_FIELD, "transform": "reverse"}], {}, "fields.nom.transform", "unknown"),
        ([{**GOOD_FIELD, "source": "passport.number"}], {}, "fields.nom.source", "person-view"),
        ([{**GOOD_FIELD, "source": "identity.nickname"}], {}, "fields.nom.source", "nickname"),
        ([{**GOOD_FIELD, "source": "identity.sex[0]"}], {}, "fields.nom.source", "not a list"),
        ([{**GOOD_FIELD, "source": "resources.months.month"}], {}, "fields.nom.source", "list"),
        ([{**GOOD_FIELD, "source": "resources.months[x:]"}], {}, "fields.nom.source", "slice"),
        (
            [{**GOOD_FIELD, "source": "resources.months[].payments[kind=salary].net_social"}],
            {},
            "fields.nom.source",
            "kind",
        ),
        ([{**GOOD_FIELD, "source": "identity.given_names"}], {}, "fields.nom.transform", "list"),
        ([{**GOOD_FIELD, "transform": "sum"}], {}, "fields.nom.transform", "aggregates"),
        ([{**GOOD_FIELD, "source": None, "confirm": True}], {}, "fields.nom.source", "need"),
        ([{**GOOD_FIELD, "type": "choice"}], {}, "fields.nom.choices", "choice"),
        ([{**GOOD_FIELD, "choices": ["a"]}], {}, "fields.nom.choices", "choice"),
        ([GOOD_FIELD, GOOD_FIELD], {}, "fields.nom.id", "duplicate"),
        ([{**GOOD_FIELD, "id": "Nom"}], {}, "fields.Nom.id", "snake_case"),
        ([{**REPETITION, "children": None}], {}, "fields.enfants.children", "repetition"),
        ([{**GOOD_FIELD, "children": []}], {}, "fields.nom.children", "repetition"),
        ([{**REPETITION, "source": "identity.sex"}], {}, "fields.enfants.source", "list"),
        ([REPETITION], {}, "fields.enfants.children.prenom.source", "'x'"),
        (
            [
                {
                    **REPETITION,
                    "children": [{**GOOD_FIELD, "source": "household.claimants[].birth_name"}],
                }
            ],
            {},
            "fields.enfants.children.nom.source",
            "must start with 'household.children[].'",
        ),
    ],
)
def test_the_loader_names_file_and_key(
    tmp_path: Path, fields: list[dict[str, object]], top: dict[str, object], key: str, words: str
) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_forms(write(tmp_path, fields, **top))
    assert caught.value.file == "essai.yaml"
    assert caught.value.key == key
    assert words in str(caught.value)
    assert caught.value.code == "INTERNAL"


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "essai.yaml").write_text("id: [unclosed\n", "utf-8")
    with pytest.raises(DefinitionError, match=r"essai\.yaml: \(yaml\)"):
        load_forms(tmp_path)
