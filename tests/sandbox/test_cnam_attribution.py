"""The CNAM's attributions of the free CSS over real HTTP: attribute, idempotency,
refusals, withdrawal; and the events that lead to them in the feeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.sandbox.conftest import particulier, persons, query, token
from tests.sandbox.test_openapi import _document, check

ATTRIBUTIONS = "/v1/complementaire-sante-solidaire/attributions"
IDENTITY = "/v1/assurance-maladie/identite"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its own sandbox: attributions change what the CNAM answers for the rest of its life.
    with start_in_thread(SandboxConfig(size=300)) as running:
        yield running


def _css(http: httpx.Client, sandbox: RunningSandbox, params: dict[str, Any]) -> dict[str, Any]:
    answer = http.get(
        sandbox.urls["cnam"] + IDENTITY, params=params, headers=token(http, sandbox, "cnam")
    )
    assert answer.status_code == 200, answer.text
    css: dict[str, Any] = answer.json()["data"]["css"]
    return css


def _attribute(
    http: httpx.Client, sandbox: RunningSandbox, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = token(http, sandbox, "cnam")
    if key is not None:
        headers["Idempotency-Key"] = key
    return http.post(sandbox.urls["cnam"] + ATTRIBUTIONS, json=body, headers=headers)


def _without_css(http: httpx.Client, sandbox: RunningSandbox) -> list[dict[str, Any]]:
    found = [
        e
        for e in persons(http, sandbox, "adult", 200)
        if "css" not in e["rights"] and not e["deceased"]  # type: ignore[operator]
    ]
    assert len(found) >= 2
    return [query(e["personne"]) for e in found]  # type: ignore[arg-type]


def test_an_attribution_shows_the_free_css_and_its_withdrawal_takes_it_back(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    params = _without_css(http, sandbox)[0]
    assert _css(http, sandbox, params)["est_beneficiaire"] is False
    body = {**params, "date_debut": "2025-08-01"}
    answer = _attribute(http, sandbox, body, "a-1")
    assert answer.status_code == 201, answer.text
    document = _document("cnam")
    check(answer.json(), document["components"]["schemas"]["RenouvellementReponse"], document)
    made = answer.json()["data"]
    assert made["date_debut"] == "2025-08-01" and made["date_fin"] == "2026-08-01"
    assert made["avec_participation"] is False
    assert _css(http, sandbox, params) == {
        "est_beneficiaire": True,
        "avec_participation": False,
        "date_debut_droit": "2025-08-01",
        "date_renouvellement": "2026-08-01",
    }
    again = _attribute(http, sandbox, body, "a-1")
    assert again.status_code == 200 and again.json()["data"] == made
    covered = _attribute(http, sandbox, body, "a-2")
    assert covered.status_code == 422 and covered.json()["errors"][0]["code"] == "53015"

    url = sandbox.urls["cnam"] + ATTRIBUTIONS + "/" + made["id"]
    headers = token(http, sandbox, "cnam")
    assert http.delete(url, headers=headers).status_code == 204
    assert _css(http, sandbox, params)["est_beneficiaire"] is False
    assert http.delete(url, headers=headers).status_code == 204  # idempotent


def test_refusals_are_typed(http: httpx.Client, sandbox: RunningSandbox) -> None:
    holder = query(persons(http, sandbox, "css", 1)[0]["personne"])  # type: ignore[arg-type]
    refused = _attribute(http, sandbox, {**holder, "date_debut": "2025-08-01"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "53015"
    first, other = _without_css(http, sandbox)[1:3]
    bad_day = _attribute(http, sandbox, {**first, "date_debut": "août"})
    assert bad_day.status_code == 422
    assert (
        _attribute(http, sandbox, {**first, "date_debut": "2025-08-01"}, "b-1").status_code == 201
    )
    reused = _attribute(http, sandbox, {**other, "date_debut": "2025-08-01"}, "b-1")
    assert reused.status_code == 422 and reused.json()["errors"][0]["code"] == "53012"
    headers = token(http, sandbox, "cnam")
    unknown = http.delete(sandbox.urls["cnam"] + ATTRIBUTIONS + "/nope", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "53005"
    assert http.post(sandbox.urls["cnam"] + ATTRIBUTIONS, json=first).status_code == 401


def _events(http: httpx.Client, sandbox: RunningSandbox, agency: str) -> list[dict[str, Any]]:
    headers = particulier(sandbox) if agency == "api_particulier" else token(http, sandbox, agency)
    out: list[dict[str, Any]] = []
    params = {"limit": "500"}
    while page := http.get(sandbox.urls[agency] + "/events", params=params, headers=headers).json():
        if not page["data"]:
            return out
        out += page["data"]
        params = {"limit": "500", "since": page["meta"]["cursor"]}
    return out


def test_the_status_events_agree_with_the_population(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    listed = persons(http, sandbox, None, 1000)
    by_identity = {json.dumps(e["personne"], sort_keys=True): e for e in listed}

    def person(event: dict[str, Any]) -> dict[str, Any]:
        return by_identity[json.dumps(event["personne"], sort_keys=True)]

    caf = _events(http, sandbox, "api_particulier")
    granted = [e for e in caf if e["type"] == "rsa_granted"]
    found = [e for e in caf if e["type"] == "job_found"]
    deaths = [e for e in _events(http, sandbox, "civil_registry") if e["type"] == "death"]
    assert granted and found and deaths
    for event in granted:
        assert "rsa" in person(event)["rights"]
        assert event["details"]["date_debut"] == event["occurred_on"]
    for event in found:
        entry = person(event)
        assert event["details"]["identifiant_france_travail"] == entry["identifiant_france_travail"]
        assert event["details"]["motif"] == "reprise_emploi"
    for event in deaths:
        entry = person(event)
        assert entry["deceased"] and entry["date_deces"] == event["occurred_on"]
        assert date.fromisoformat(event["details"]["date_deces"]) == date.fromisoformat(
            event["occurred_on"]
        )
