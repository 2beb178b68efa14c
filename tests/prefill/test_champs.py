"""DS champ descriptors from its GraphQL API, and their storage form."""

from __future__ import annotations

from typing import Any

import pytest

from prefill.champs import (
    champ_id,
    descriptors_from_data,
    descriptors_from_graphql,
    descriptors_to_data,
    is_champ_id,
    stable_id,
    type_of,
)
from prefill.errors import DescriptorError, PrefillError

NODES: list[dict[str, Any]] = [
    {"__typename": "HeaderSectionChampDescriptor", "id": champ_id(1), "label": "Vous",
     "description": None, "required": False, "champDescriptors": None},
    {"__typename": "IntegerNumberChampDescriptor", "id": champ_id(2), "label": "Revenu",
     "description": "", "required": True},
    {"__typename": "DropDownListChampDescriptor", "id": champ_id(3), "label": "Situation",
     "required": True, "options": ["Célibataire", "Marié(e)"], "otherOption": False},
    {"__typename": "CommuneChampDescriptor", "id": champ_id(4), "label": "Commune",
     "required": False},
    {"__typename": "RepetitionChampDescriptor", "id": champ_id(5), "label": "Enfants",
     "required": False, "champDescriptors": [
         {"__typename": "TextChampDescriptor", "id": champ_id(6), "label": "Prénom",
          "required": True},
     ]},
]  # fmt: skip


def test_types_come_from_the_typenames_including_the_irregular_ones() -> None:
    champs = descriptors_from_graphql(NODES)
    assert [c.type for c in champs] == [
        "header_section", "integer_number", "drop_down_list", "communes", "repetition",
    ]  # fmt: skip
    assert champs[2].options == ("Célibataire", "Marié(e)")
    assert champs[4].children[0].type == "text" and champs[4].children[0].required
    assert type_of("DepartementChampDescriptor") == "departements"
    assert type_of("PaysChampDescriptor") == "pays"
    assert type_of("RNAChampDescriptor") == "rna"
    assert type_of("DossierLinkChampDescriptor") == "dossier_link"


def test_round_trip_through_the_database_form() -> None:
    champs = descriptors_from_graphql(NODES)
    assert descriptors_from_data(descriptors_to_data(champs)) == champs


def test_champ_ids() -> None:
    assert champ_id(123) == "Q2hhbXAtMTIz" and stable_id("Q2hhbXAtMTIz") == 123
    assert is_champ_id("Q2hhbXAtMTAxMDAy")
    assert not is_champ_id("Q2hhbXAtWFhY")  # Champ-XXX
    assert not is_champ_id("not base64!")
    row_champ = "Q2hhbXAtMTIzfGFiYw"  # Champ-123|abc: a row's champ, not a descriptor
    assert stable_id(row_champ) == 123 and not is_champ_id(row_champ)


@pytest.mark.parametrize(
    "nodes",
    [
        "nope",
        [{"__typename": "Text", "id": champ_id(1), "label": "x", "required": True}],
        [{"__typename": "TextChampDescriptor", "id": "abc", "label": "x", "required": True}],
        [{"__typename": "TextChampDescriptor", "id": champ_id(1), "label": "x"}],
        [{"__typename": "TextChampDescriptor", "id": champ_id(1), "label": 3, "required": True}],
        [{"__typename": "DropDownListChampDescriptor", "id": champ_id(1), "label": "x",
          "required": True, "options": [1]}],
        [{"__typename": "TextChampDescriptor", "id": champ_id(1), "label": "x", "required": True},
         {"__typename": "TextChampDescriptor", "id": champ_id(1), "label": "y", "required": True}],
    ],
)  # fmt: skip
def test_garbage_is_a_descriptor_error(nodes: Any) -> None:
    with pytest.raises(DescriptorError) as caught:
        descriptors_from_graphql(nodes)
    assert isinstance(caught.value, PrefillError)


def test_garbage_from_the_database_is_refused() -> None:
    with pytest.raises(DescriptorError):
        descriptors_from_data(
            [{"id": champ_id(1), "label": "x", "type": "Not A Type", "required": True}]
        )
    with pytest.raises(DescriptorError):
        descriptors_from_data({"id": champ_id(1)})
