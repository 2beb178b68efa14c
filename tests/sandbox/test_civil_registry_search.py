"""The civil registry's identification by traits, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from sandbox.person import Identity
from tests.sandbox.conftest import RECIPIENT, token
from tests.sandbox.test_openapi import _document, check
from tests.sandbox.twins import with_twin

SEARCH = "/v1/etat-civil/recherche"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(size=200)
    population = config.population()
    adults = [p for p in population.persons if p.date_deces is None]
    # The first adult gets a twin (the last adult, whose own identity disappears).
    twinned = with_twin(population, adults[0], adults[-1])
    with start_in_thread(config, twinned) as running:
        yield running


def traits(identity: Identity, *, day: bool = True) -> dict[str, object]:
    born = identity.date_naissance
    params: dict[str, object] = {
        "recipient": RECIPIENT,
        "nomNaissance": identity.nom_naissance,
        "prenoms[]": list(identity.prenoms),
        "anneeDateNaissance": born.year,
        "sexeEtatCivil": identity.sexe,
    }
    if day:
        params |= {"moisDateNaissance": born.month, "jourDateNaissance": born.day}
    return params


def search(
    http: httpx.Client, sandbox: RunningSandbox, params: dict[str, object]
) -> httpx.Response:
    headers = token(http, sandbox, "civil_registry")
    return http.get(sandbox.urls["civil_registry"] + SEARCH, params=params, headers=headers)


def schema(status: str) -> dict[str, Any]:
    operation = _document("civil_registry")["paths"][SEARCH]["get"]
    found: dict[str, Any] = operation["responses"][status]["content"]["application/json"]
    return found["schema"]


def test_one_match_gives_the_full_pivot_identity(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    person = next(
        p
        for p in sandbox.population.persons
        if p.identity.code_commune_naissance and p.index > 0 and p.date_deces is None
    )
    answer = search(http, sandbox, traits(person.identity))
    assert answer.status_code == 200, answer.text
    check(answer.json(), schema("200"), _document("civil_registry"))
    data = answer.json()["data"]
    assert data["identite"] == person.identity.echo()
    assert data["code_cog_insee_pays_naissance"] == person.identity.code_pays_naissance
    assert data["code_cog_insee_commune_naissance"] == person.identity.code_commune_naissance
    assert answer.json()["meta"]["as_of"] == sandbox.population.reference_date.isoformat()


def test_the_dead_are_found_too(http: httpx.Client, sandbox: RunningSandbox) -> None:
    dead = next(p for p in sandbox.population.persons if p.date_deces is not None)
    answer = search(http, sandbox, traits(dead.identity))
    assert answer.status_code == 200, answer.text
    assert dead.date_deces is not None
    assert answer.json()["data"]["date_deces"] == dead.date_deces.isoformat()


def test_nobody_is_a_404_in_the_agency_error_body(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    params = traits(sandbox.population.persons[1].identity) | {"nomNaissance": "PERSONNE-INCONNUE"}
    answer = search(http, sandbox, params)
    assert answer.status_code == 404
    check(answer.json(), schema("404"), _document("civil_registry"))
    error = answer.json()["errors"][0]
    assert error["code"] == "55003" and error["meta"] == {"provider": "INSEE"}


def test_twins_are_a_409_never_one_of_them(http: httpx.Client, sandbox: RunningSandbox) -> None:
    twin = next(p for p in sandbox.population.persons if p.date_deces is None)
    answer = search(http, sandbox, traits(twin.identity))
    assert answer.status_code == 409
    check(answer.json(), schema("409"), _document("civil_registry"))
    error = answer.json()["errors"][0]
    assert error["code"] == "55009" and error["meta"] == {"provider": "INSEE"}
    # The full pivot identity still tells them apart.
    exact = http.get(
        sandbox.urls["civil_registry"] + "/v1/etat-civil/identite",
        params={"recipient": RECIPIENT, **twin.identity.params()},
        headers=token(http, sandbox, "civil_registry"),
    )
    assert exact.status_code == 200, exact.text


def test_fewer_traits_match_more_people(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = sandbox.population.persons[5]
    answer = search(http, sandbox, traits(person.identity, day=False))
    assert answer.status_code in (200, 409)
    if answer.status_code == 200:
        assert answer.json()["data"]["identite"] == person.identity.echo()


@pytest.mark.parametrize(
    "change",
    [
        {"recipient": None},
        {"recipient": "12345678901234"},
        {"nomNaissance": None},
        {"prenoms[]": []},
        {"sexeEtatCivil": "X"},
        {"anneeDateNaissance": None},
        {"moisDateNaissance": 13},
        {"moisDateNaissance": 2, "jourDateNaissance": 30},
    ],
)
def test_malformed_traits_are_a_422(
    http: httpx.Client, sandbox: RunningSandbox, change: dict[str, object]
) -> None:
    params = traits(sandbox.population.persons[1].identity)
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    answer = search(http, sandbox, params)
    assert answer.status_code == 422, answer.text
    check(answer.json(), schema("422"), _document("civil_registry"))


def test_the_search_needs_the_bearer(http: httpx.Client, sandbox: RunningSandbox) -> None:
    params = traits(sandbox.population.persons[1].identity)
    answer = http.get(sandbox.urls["civil_registry"] + SEARCH, params=params)
    assert answer.status_code == 401
