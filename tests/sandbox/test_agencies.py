"""The six "our" agencies: OAuth2, identity echo, 401/404/422, cross-agency consistency."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request

from sandbox import RunningSandbox
from sandbox.oauth import ClientCredentials, TokenIssuer
from sandbox.protocol import ProtocolError
from tests.sandbox.conftest import OURS, particulier, persons, query, token


@pytest.mark.parametrize("agency", sorted(OURS))
def test_happy_path_echoes_the_person(
    http: httpx.Client, sandbox: RunningSandbox, agency: str
) -> None:
    person = persons(http, sandbox, "adult", 3)[2]
    answer = http.get(
        sandbox.urls[agency] + OURS[agency],
        params=query(person["personne"]),
        headers=token(http, sandbox, agency),
    )  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["meta"] == {"as_of": "2025-06-30"} and body["links"] == {}
    echo = body["data"]["identite"]
    assert echo["nom_naissance"] == person["personne"]["nomNaissance"]  # type: ignore[index]
    assert echo["prenoms"] == person["personne"]["prenoms"]  # type: ignore[index]


@pytest.mark.parametrize("agency", sorted(OURS))
def test_errors(http: httpx.Client, sandbox: RunningSandbox, agency: str) -> None:
    person = persons(http, sandbox, "adult", 1)[0]
    url = sandbox.urls[agency] + OURS[agency]
    params = query(person["personne"])  # type: ignore[arg-type]
    no_token = http.get(url, params=params)
    assert no_token.status_code == 401 and no_token.json()["errors"][0]["code"] == "00101"
    assert (
        http.get(url, params=params, headers={"Authorization": "Bearer forged"}).status_code == 401
    )
    headers = token(http, sandbox, agency)
    unknown = http.get(url, params={**params, "nomNaissance": "PERSONNE"}, headers=headers)
    assert unknown.status_code == 404
    error = unknown.json()["errors"][0]
    assert (
        error["title"] == "Entité non trouvée"
        and error["code"].endswith("003")
        and error["meta"]["provider"]
    )
    assert (
        http.get(url, params={**params, "anneeDateNaissance": "19x0"}, headers=headers).status_code
        == 422
    )
    assert http.get(url, params={**params, "recipient": "123"}, headers=headers).status_code == 422


def test_oauth_token_endpoint(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = sandbox.urls["cnav"] + "/oauth/token"
    basic = http.post(
        url,
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert basic.json()["token_type"] == "Bearer" and basic.json()["expires_in"] == 3600
    post = http.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    assert post.status_code == 200
    assert (
        http.post(
            url, data={"grant_type": "client_credentials"}, auth=(sandbox.client_id, "wrong")
        ).status_code
        == 401
    )
    assert (
        http.post(
            url, data={"grant_type": "password"}, auth=(sandbox.client_id, sandbox.client_secret)
        ).status_code
        == 400
    )


def test_tokens_expire() -> None:
    now = [0.0]
    issuer = TokenIssuer(ClientCredentials(), ttl=10, clock=lambda: now[0])
    value = issuer.issue()
    scope = {"type": "http", "headers": [(b"authorization", f"Bearer {value}".encode())]}
    issuer.check(Request(scope))
    now[0] = 11
    with pytest.raises(ProtocolError) as expired:
        issuer.check(Request(scope))
    assert expired.value.status == 401


def test_resources_window_and_missing_months(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "missing_months", 1)[0]
    headers = token(http, sandbox, "gip_mds")
    url = sandbox.urls["gip_mds"] + OURS["gip_mds"]
    params = {**query(person["personne"]), "moisDebut": "2023-07", "moisFin": "2025-06"}  # type: ignore[arg-type]
    data = http.get(url, params=params, headers=headers).json()["data"]
    assert data["mois_manquants"]
    assert len(data["periodes"]) + len(data["mois_manquants"]) == 24
    too_long = http.get(url, params={**params, "moisDebut": "2023-01"}, headers=headers)
    assert too_long.status_code == 422
    assert (
        http.get(url, params={**params, "moisDebut": "2025-13"}, headers=headers).status_code == 422
    )


def test_agencies_agree(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "css", 1)[0]
    params = query(person["personne"])  # type: ignore[arg-type]
    cnam = http.get(
        sandbox.urls["cnam"] + OURS["cnam"], params=params, headers=token(http, sandbox, "cnam")
    ).json()["data"]["css"]
    caf = http.get(
        sandbox.urls["api_particulier"] + "/v3/dss/complementaire_sante_solidaire/identite",
        params=params,
        headers=particulier(sandbox),
    ).json()["data"]
    assert cnam["est_beneficiaire"] is caf["est_beneficiaire"] is True
    assert cnam["date_debut_droit"] == caf["date_debut_droit"]
    earner = persons(http, sandbox, "salarie", 1)[0]
    params = query(earner["personne"])  # type: ignore[arg-type]
    resources = http.get(
        sandbox.urls["gip_mds"] + OURS["gip_mds"],
        params={**params, "moisDebut": "2024-01", "moisFin": "2024-12"},
        headers=token(http, sandbox, "gip_mds"),
    ).json()["data"]
    assert resources["periodes"][0]["versements"][0]["nature"] == "salaire"
    assert "categorie" not in resources["periodes"][0]["versements"][0]
    self_employed = persons(http, sandbox, "independant", 9)
    assert len(self_employed) == 9
    categories = set()
    for person in self_employed:
        answer = http.get(
            sandbox.urls["gip_mds"] + OURS["gip_mds"],
            params={**query(person["personne"]), "moisDebut": "2024-01", "moisFin": "2024-12"},  # type: ignore[arg-type]
            headers=token(http, sandbox, "gip_mds"),
        ).json()["data"]
        turnovers = [
            v
            for p in answer["periodes"]
            for v in p["versements"]
            if v["nature"] == "revenu_independant"
        ]
        assert turnovers and all(
            v["montant_net_social"] == v["montant_net_fiscal"] > 0 for v in turnovers
        )
        categories |= {v["categorie"] for v in turnovers}
    assert categories == {"bic_vente", "bic_services", "bnc"}
    tax = http.get(
        sandbox.urls["dgfip"] + OURS["dgfip"],
        params={**params, "anneeRevenus": 2024},
        headers=token(http, sandbox, "dgfip"),
    ).json()["data"]
    assert tax["revenu_fiscal_reference"] > 0 and tax["annee_revenus"] == 2024


def test_deceased_in_civil_registry(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "deceased", 1)[0]
    data = http.get(
        sandbox.urls["civil_registry"] + OURS["civil_registry"],
        params=query(person["personne"]),
        headers=token(http, sandbox, "civil_registry"),
    ).json()["data"]  # type: ignore[arg-type]
    assert data["date_deces"] == person["date_deces"]


def test_homonyms_resolve_to_different_persons(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "homonym", 1)[0]
    other = sandbox.population.persons[int(person["homonym_of"])]  # type: ignore[arg-type]
    headers = token(http, sandbox, "civil_registry")
    url = sandbox.urls["civil_registry"] + OURS["civil_registry"]
    mine = http.get(url, params=query(person["personne"]), headers=headers).json()["data"]  # type: ignore[arg-type]
    assert mine["identite"]["date_naissance"] != other.identity.date_naissance.isoformat()
