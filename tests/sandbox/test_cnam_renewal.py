"""The CNAM's CSS renewals over real HTTP: renew, idempotency, refusals, revert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.sandbox.conftest import RECIPIENT, persons, query, token
from tests.sandbox.test_openapi import _document, check

RENEWALS = "/v1/complementaire-sante-solidaire/renouvellements"
IDENTITY = "/v1/assurance-maladie/identite"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its own sandbox: renewals change what the CNAM answers for the rest of its life.
    with start_in_thread(SandboxConfig(size=300)) as running:
        yield running


def _css(http: httpx.Client, sandbox: RunningSandbox, params: dict[str, Any]) -> dict[str, Any]:
    answer = http.get(
        sandbox.urls["cnam"] + IDENTITY, params=params, headers=token(http, sandbox, "cnam")
    )
    assert answer.status_code == 200, answer.text
    css: dict[str, Any] = answer.json()["data"]["css"]
    return css


def _body(params: dict[str, Any], end: str | None) -> dict[str, Any]:
    return {**params, "date_fin_actuelle": end}


def _renew(
    http: httpx.Client, sandbox: RunningSandbox, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = token(http, sandbox, "cnam")
    if key is not None:
        headers["Idempotency-Key"] = key
    return http.post(sandbox.urls["cnam"] + RENEWALS, json=body, headers=headers)


def _holders(http: httpx.Client, sandbox: RunningSandbox) -> list[dict[str, Any]]:
    out = []
    for entry in persons(http, sandbox, "css", 40):
        params = query(entry["personne"])  # type: ignore[arg-type]
        if _css(http, sandbox, params)["date_renouvellement"]:
            out.append(params)
    assert len(out) >= 3
    return out


def test_a_renewal_moves_the_date_and_its_revert_brings_it_back(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    params = _holders(http, sandbox)[0]
    before = _css(http, sandbox, params)
    end = before["date_renouvellement"]
    answer = _renew(http, sandbox, _body(params, end), "k-1")
    assert answer.status_code == 201, answer.text
    document = _document("cnam")
    check(answer.json(), document["components"]["schemas"]["RenouvellementReponse"], document)
    renewal = answer.json()["data"]
    assert renewal["date_debut"] == end
    assert renewal["date_fin"][:4] == str(int(end[:4]) + 1)
    assert renewal["avec_participation"] == before["avec_participation"]
    after = _css(http, sandbox, params)
    assert after["date_renouvellement"] == renewal["date_fin"]
    assert after["date_debut_droit"] == before["date_debut_droit"]

    again = _renew(http, sandbox, _body(params, end), "k-1")
    assert again.status_code == 200 and again.json()["data"] == renewal
    assert _css(http, sandbox, params)["date_renouvellement"] == renewal["date_fin"]

    headers = token(http, sandbox, "cnam")
    url = sandbox.urls["cnam"] + RENEWALS + "/" + renewal["id"]
    assert http.delete(url, headers=headers).status_code == 204
    assert _css(http, sandbox, params)["date_renouvellement"] == end
    assert http.delete(url, headers=headers).status_code == 204  # idempotent


def test_refusals_are_typed(http: httpx.Client, sandbox: RunningSandbox) -> None:
    params = _holders(http, sandbox)[1]
    end = _css(http, sandbox, params)["date_renouvellement"]
    wrong = _renew(http, sandbox, _body(params, "2001-01-01"))
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["code"] == "53011"
    assert wrong.json()["errors"][0]["meta"] == {"provider": "CNAM"}
    assert _renew(http, sandbox, _body(params, None)).status_code == 422

    without = [e for e in persons(http, sandbox, None, 80) if "css" not in e["rights"]]  # type: ignore[operator]
    other = query(without[0]["personne"])  # type: ignore[arg-type]
    refused = _renew(http, sandbox, _body(other, end))
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "53010"

    first = _renew(http, sandbox, _body(params, end), "k-2")
    assert first.status_code == 201
    reused = _renew(http, sandbox, _body(other, end), "k-2")
    assert reused.status_code == 422 and reused.json()["errors"][0]["code"] == "53012"
    # The end date moved: the same request without its key is refused, nothing renews twice.
    assert _renew(http, sandbox, _body(params, end)).status_code == 422


def test_unknown_ids_and_missing_tokens(http: httpx.Client, sandbox: RunningSandbox) -> None:
    headers = token(http, sandbox, "cnam")
    unknown = http.delete(sandbox.urls["cnam"] + RENEWALS + "/nope", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "53004"
    params = _holders(http, sandbox)[2]
    bare = http.post(sandbox.urls["cnam"] + RENEWALS, json=_body(params, "2025-01-01"))
    assert bare.status_code == 401
    assert http.delete(sandbox.urls["cnam"] + RENEWALS + "/nope").status_code == 401
    garbage = http.post(sandbox.urls["cnam"] + RENEWALS, content=b"[1]", headers=headers)
    assert garbage.status_code == 422
    no_recipient = {k: v for k, v in params.items() if k != "recipient"}
    missing = _renew(http, sandbox, _body(no_recipient, "2025-01-01"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["code"] == "00203"
    assert RECIPIENT == params["recipient"]


def test_a_later_renewal_must_be_reverted_first(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    params = _holders(http, sandbox)[2]
    end = _css(http, sandbox, params)["date_renouvellement"]
    first = _renew(http, sandbox, _body(params, end)).json()["data"]
    second = _renew(http, sandbox, _body(params, first["date_fin"])).json()["data"]
    headers = token(http, sandbox, "cnam")
    base = sandbox.urls["cnam"] + RENEWALS + "/"
    blocked = http.delete(base + first["id"], headers=headers)
    assert blocked.status_code == 409
    assert http.delete(base + second["id"], headers=headers).status_code == 204
    assert http.delete(base + first["id"], headers=headers).status_code == 204
    assert _css(http, sandbox, params)["date_renouvellement"] == end
