"""DS's GraphQL API v2 as the sandbox serves it: token, descriptors, dossiers, typenames."""

from __future__ import annotations

import httpx

from sandbox import RunningSandbox
from sandbox.demarches.procedures import DESCRIPTOR_TYPENAMES
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    PROCEDURES,
    RSA,
    deposit,
    graphql,
)

DESCRIPTOR = """
query getDemarcheDescriptor($demarche: FindDemarcheInput!) {
  demarcheDescriptor(demarche: $demarche) {
    number title
    revision {
      champDescriptors {
        ...ChampDescriptorFragment
        ... on RepetitionChampDescriptor { champDescriptors { ...ChampDescriptorFragment } }
      }
    }
  }
}
fragment ChampDescriptorFragment on ChampDescriptor {
  __typename id label description required
  ... on DropDownListChampDescriptor { options otherOption }
  ... on MultipleDropDownListChampDescriptor { options }
}
"""


def test_a_missing_or_wrong_token_gets_ds_error(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    url = sandbox.demarches_url + "/api/v2/graphql"
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        answer = http.post(url, json={"query": "{ dossier(number: 1) { id } }"}, headers=headers)
        assert answer.status_code == 403
        assert answer.json() == {
            "errors": [
                {
                    "message": "Without a token, only persisted queries are allowed",
                    "extensions": {"code": "forbidden"},
                }
            ],
            "data": None,
        }


def test_descriptors_list_every_champ_of_every_procedure(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    for number, procedure in PROCEDURES.items():
        answer = graphql(http, sandbox.demarches_url, DESCRIPTOR, demarche={"number": number})
        descriptor = answer["data"]["demarcheDescriptor"]
        assert (descriptor["number"], descriptor["title"]) == (number, procedure.title)
        listed = descriptor["revision"]["champDescriptors"]
        assert [d["id"] for d in listed] == [c.id for c in procedure.champs]
        for given, champ in zip(listed, procedure.champs, strict=True):
            assert given["__typename"] == DESCRIPTOR_TYPENAMES[champ.type]
            assert (given["label"], given["required"]) == (champ.label, champ.required)
            if champ.options:
                assert given["options"] == list(champ.options)
            if champ.children:
                assert [d["id"] for d in given["champDescriptors"]] == [
                    c.id for c in champ.children
                ]


def test_an_unknown_demarche_or_dossier_is_not_found(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    answer = graphql(http, sandbox.demarches_url, "{ demarche(number: 9) { title } }")
    assert answer["data"] is None
    assert answer["errors"][0]["message"] == "Demarche not found"
    assert answer["errors"][0]["extensions"] == {"code": "not_found"}


def test_demarche_dossiers_are_paginated_and_filtered(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    numbers = [deposit(http, sandbox) for _ in range(3)]
    query = """
    query($after: String) {
      demarche(number: 101) {
        dossiers(state: en_construction, first: 2, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes { number state }
        }
      }
    }
    """
    seen: list[int] = []
    after = None
    while True:
        page = graphql(http, sandbox.demarches_url, query, after=after)["data"]["demarche"][
            "dossiers"
        ]
        assert len(page["nodes"]) <= 2
        seen += [n["number"] for n in page["nodes"] if n["state"] == "en_construction"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert set(numbers) <= set(seen)
    none = graphql(
        http,
        sandbox.demarches_url,
        "{ demarche(number: 101) { dossiers(state: accepte) { nodes { number } } } }",
    )
    assert none["data"]["demarche"]["dossiers"]["nodes"] == []


def test_a_champ_typename_depends_on_the_query_fragments_as_in_ds(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    number = deposit(http, sandbox)
    plain = "query($n: Int!) { dossier(number: $n) { champs { __typename id } } }"
    typed = (
        "query($n: Int!) { dossier(number: $n) { champs { __typename id"
        " ... on AddressChamp { address { cityCode } } ... on YesNoChamp { value } } } }"
    )
    without = {
        c["id"]: c["__typename"]
        for c in graphql(http, sandbox.demarches_url, plain, n=number)["data"]["dossier"]["champs"]
    }
    assert (without[ADRESSE.id], without[AIDE.id]) == ("TextChamp", "CheckboxChamp")
    with_fragments = {
        c["id"]: c
        for c in graphql(http, sandbox.demarches_url, typed, n=number)["data"]["dossier"]["champs"]
    }
    assert with_fragments[ADRESSE.id] == {
        "__typename": "AddressChamp",
        "id": ADRESSE.id,
        "address": {"cityCode": "69123"},
    }
    assert with_fragments[AIDE.id]["__typename"] == "YesNoChamp"
    assert len(with_fragments) == len(RSA.champs)
