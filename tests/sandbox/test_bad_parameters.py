"""A malformed parameter gets API Particulier's 422 error body, never a 500: a gateway reads
a 5xx as the agency failing, and one client's bad input must not look like an outage."""

from __future__ import annotations

import httpx
import pytest

from sandbox import RunningSandbox
from tests.sandbox.conftest import OURS, RECIPIENT, particulier, persons, query, token

# (parameter, bad value): a trailing line break, non-ASCII digits, digits int() refuses.
BAD_IDENTITY = [
    ("recipient", RECIPIENT + "\n"),
    ("recipient", "13002526500004\n"),
    ("recipient", "\u0661" + RECIPIENT[1:]),
    ("nomNaissance", "MAR\nTIN"),
    ("prenoms[]", "JE\nAN"),
    ("codeCogInseePaysNaissance", "99100\n"),
    ("codeCogInseeCommuneNaissance", "08480\n"),
    ("anneeDateNaissance", "\u00b2"),
    ("anneeDateNaissance", "1980\n"),
    ("moisDateNaissance", "\u0661"),
    ("jourDateNaissance", "1\n"),
]
EXTRA = {
    "gip_mds": [("moisFin", "2025-01\n"), ("moisDebut", "\u00b2\u00b2\u00b2\u00b2-01")],
    "housing": [("moisFin", "2025-01\n")],
    "dgfip": [("anneeRevenus", "\u00b2\u00b2\u00b2\u00b2"), ("anneeRevenus", "2024\n")],
}


def _assert_protocol_error(answer: httpx.Response) -> None:
    assert answer.status_code in (400, 422), (answer.status_code, answer.text)
    error = answer.json()["errors"][0]
    assert set(error) == {"code", "title", "detail", "source", "meta"}
    assert error["code"].isdigit() and len(error["code"]) == 5


def _with(params: dict[str, object], name: str, value: str) -> dict[str, object]:
    changed = dict(params)
    changed[name] = [value] if name == "prenoms[]" else value
    return changed


@pytest.mark.parametrize(("name", "value"), BAD_IDENTITY)
def test_api_particulier_answers_bad_parameters_with_422(
    http: httpx.Client, sandbox: RunningSandbox, name: str, value: str
) -> None:
    person = persons(http, sandbox, "rsa", 1)[0]
    params = query(person["personne"])  # type: ignore[arg-type]
    base = sandbox.urls["api_particulier"]
    for path in ("/v3/dss/revenu_solidarite_active/identite", "/v3/dss/quotient_familial/identite"):
        answer = http.get(
            base + path, params=_with(params, name, value), headers=particulier(sandbox)
        )
        _assert_protocol_error(answer)


@pytest.mark.parametrize(
    ("name", "value"),
    [("annee", "\u00b2\u00b2\u00b2\u00b2"), ("mois", "\u00b2"), ("mois", "1\n")],
)
def test_quotient_period_answers_422(
    http: httpx.Client, sandbox: RunningSandbox, name: str, value: str
) -> None:
    person = persons(http, sandbox, "couple_children", 1)[0]
    params = {**query(person["personne"]), "annee": "2025", "mois": "1", name: value}  # type: ignore[arg-type]
    url = sandbox.urls["api_particulier"] + "/v3/dss/quotient_familial/identite"
    _assert_protocol_error(http.get(url, params=params, headers=particulier(sandbox)))


def test_france_travail_identifier_answers_422(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = sandbox.urls["api_particulier"] + "/v3/france_travail/statut/identifiant"
    params = {"recipient": RECIPIENT, "identifiant": "abc123\n"}
    _assert_protocol_error(http.get(url, params=params, headers=particulier(sandbox)))


@pytest.mark.parametrize("agency", sorted(OURS))
def test_our_agencies_answer_bad_parameters_with_422(
    http: httpx.Client, sandbox: RunningSandbox, agency: str
) -> None:
    person = persons(http, sandbox, "rsa", 1)[0]
    params = query(person["personne"])  # type: ignore[arg-type]
    headers = token(http, sandbox, agency)
    url = sandbox.urls[agency] + OURS[agency]
    for name, value in BAD_IDENTITY + EXTRA.get(agency, []):
        _assert_protocol_error(http.get(url, params=_with(params, name, value), headers=headers))
