from __future__ import annotations

import httpx

from sandbox import RunningSandbox
from tests.sandbox.conftest import RECIPIENT, particulier, persons, query

DSS = (
    "revenu_solidarite_active",
    "prime_activite",
    "complementaire_sante_solidaire",
    "allocation_adulte_handicape",
    "allocation_soutien_familial",
)


def _dss(
    http: httpx.Client, sandbox: RunningSandbox, endpoint: str, params: dict[str, object]
) -> httpx.Response:
    url = f"{sandbox.urls['api_particulier']}/v3/dss/{endpoint}/identite"
    return http.get(url, params=params, headers=particulier(sandbox))


def test_status_endpoints_follow_the_spec(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "rsa", 1)[0]
    for endpoint in DSS:
        answer = _dss(http, sandbox, endpoint, query(person["personne"]))  # type: ignore[arg-type]
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["links"] == {} and body["meta"] == {}
        assert {"est_beneficiaire", "date_debut_droit"} <= set(body["data"])
    rsa = _dss(http, sandbox, "revenu_solidarite_active", query(person["personne"])).json()["data"]  # type: ignore[arg-type]
    assert rsa["est_beneficiaire"] is True
    assert isinstance(rsa["avec_majoration"], bool)
    assert set(rsa) == {"est_beneficiaire", "avec_majoration", "date_debut_droit"}


def test_non_claimant_is_not_a_beneficiary(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "rsa_non_claimant", 1)[0]
    data = _dss(http, sandbox, "revenu_solidarite_active", query(person["personne"])).json()["data"]  # type: ignore[arg-type]
    assert data == {"est_beneficiaire": False, "avec_majoration": None, "date_debut_droit": None}


def test_quotient_familial(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "couple_children", 1)[0]
    answer = _dss(http, sandbox, "quotient_familial", query(person["personne"]))  # type: ignore[arg-type]
    data = answer.json()["data"]
    assert set(data) == {"allocataires", "enfants", "adresse", "quotient_familial"}
    assert len(data["allocataires"]) == 2 and data["enfants"]
    assert isinstance(data["allocataires"][0]["prenoms"], str)
    qf = data["quotient_familial"]
    assert qf["fournisseur"] in ("CNAF", "MSA") and (qf["annee"], qf["mois"]) == (2025, 6)
    older = _dss(
        http, sandbox, "quotient_familial", {**query(person["personne"]), "annee": 2024, "mois": 1}
    )  # type: ignore[arg-type]
    assert older.json()["data"]["quotient_familial"]["mois"] == 1
    too_old = _dss(
        http, sandbox, "quotient_familial", {**query(person["personne"]), "annee": 2020, "mois": 1}
    )  # type: ignore[arg-type]
    assert too_old.status_code == 422


def test_errors(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "adult", 1)[0]
    params = query(person["personne"])  # type: ignore[arg-type]
    url = f"{sandbox.urls['api_particulier']}/v3/dss/revenu_solidarite_active/identite"
    assert http.get(url, params=params).status_code == 401
    bad = http.get(url, params=params, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == "00101"
    missing = _dss(
        http,
        sandbox,
        "revenu_solidarite_active",
        {k: v for k, v in params.items() if k != "recipient"},
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["code"] == "00203"
    not_luhn = _dss(
        http, sandbox, "revenu_solidarite_active", {**params, "recipient": "13002526500012"}
    )
    assert not_luhn.status_code == 422
    assert (
        _dss(
            http, sandbox, "revenu_solidarite_active", {**params, "sexeEtatCivil": "X"}
        ).status_code
        == 422
    )
    unknown = _dss(http, sandbox, "revenu_solidarite_active", {**params, "nomNaissance": "INCONNU"})
    assert unknown.status_code == 404
    error = unknown.json()["errors"][0]
    assert set(error) == {"code", "title", "detail", "source", "meta"} and error["meta"]["provider"]


def test_unknown_to_caf_is_404(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "unknown_to_caf", 1)[0]
    for endpoint in (*DSS, "quotient_familial"):
        assert _dss(http, sandbox, endpoint, query(person["personne"])).status_code == 404  # type: ignore[arg-type]


def test_france_connect_tokens(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "rsa", 1)[0]
    base = sandbox.urls["api_particulier"]
    fc = http.post(
        base + "/_sandbox/france_connect/tokens", json={"person": person["index"]}
    ).json()
    url = base + "/v3/dss/revenu_solidarite_active/france_connect"
    answer = http.get(
        url,
        params={"recipient": RECIPIENT},
        headers={"Authorization": "Bearer " + fc["access_token"]},
    )
    assert answer.status_code == 200 and answer.json()["data"]["est_beneficiaire"] is True
    assert (
        http.get(
            url, params={"recipient": RECIPIENT}, headers={"Authorization": "Bearer unknown-token"}
        ).status_code
        == 401
    )
    assert (
        http.get(url, params={"recipient": RECIPIENT}, headers=particulier(sandbox)).status_code
        == 401
    )
    assert (
        http.post(base + "/_sandbox/france_connect/tokens", json={"person": -1}).status_code == 422
    )


def test_france_travail(http: httpx.Client, sandbox: RunningSandbox) -> None:
    losers = [p for p in persons(http, sandbox, "job_seeker", 200) if p["activity"] == "salarie"]
    person = losers[0]
    base = sandbox.urls["api_particulier"] + "/v3/france_travail"
    params = {"recipient": RECIPIENT, "identifiant": person["identifiant_france_travail"]}
    statut = http.get(
        base + "/statut/identifiant", params=params, headers=particulier(sandbox)
    ).json()["data"]
    assert statut["identite"]["nom_naissance"] == person["personne"]["nomNaissance"]  # type: ignore[index]
    assert statut["identite"]["sexe"] in ("Masculin", "Féminin")
    assert set(statut) == {"identifiant", "identite", "contact", "adresse", "inscription"}
    paid = http.get(
        base + "/indemnites/identifiant", params=params, headers=particulier(sandbox)
    ).json()["data"]
    assert paid["paiements"] and paid["paiements"][0]["montant_total"] > 0
    unknown = http.get(
        base + "/statut/identifiant",
        params={**params, "identifiant": "0000000Z"},
        headers=particulier(sandbox),
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "24003"
    bad = http.get(
        base + "/statut/identifiant",
        params={**params, "identifiant": "a b"},
        headers=particulier(sandbox),
    )
    assert bad.status_code == 422


def _student_query(personne: dict[str, object]) -> dict[str, object]:
    """The MESRI's civility parameters: one given name, the country code in place of the
    commune for a person born abroad."""
    params = {
        k: v
        for k, v in query(personne).items()
        if k not in ("codeCogInseePaysNaissance", "codeCogInseeCommuneNaissance", "nomUsage")
    }
    params["prenoms[]"] = personne["prenoms"][0]  # type: ignore[index]
    params["codeCogInseeCommuneNaissance"] = (
        personne.get("codeCogInseeCommuneNaissance") or (personne["codeCogInseePaysNaissance"])
    )
    return params


def test_student_status(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = f"{sandbox.urls['api_particulier']}/v3/mesri/statut_etudiant/identite"
    student = persons(http, sandbox, "etudiant", 1)[0]
    answer = http.get(url, params=_student_query(student["personne"]), headers=particulier(sandbox))  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert set(data) == {"identite", "admissions"}
    assert data["identite"]["nom_naissance"] == student["personne"]["nomNaissance"]  # type: ignore[index]
    admissions = data["admissions"]
    assert admissions and all(a["est_inscrit"] for a in admissions)
    assert {a["regime_formation"]["code"] for a in admissions} == {"RF1"}
    # Academic years: from 1 September to 31 August, the last one covering the reference month.
    assert all(a["date_debut"][5:] == "09-01" and a["date_fin"][5:] == "08-31" for a in admissions)
    assert admissions[-1]["date_debut"] <= "2025-06-30" <= admissions[-1]["date_fin"]

    worker = persons(http, sandbox, "salarie", 1)[0]
    missing = http.get(url, params=_student_query(worker["personne"]), headers=particulier(sandbox))  # type: ignore[arg-type]
    assert missing.status_code == 404
    error = missing.json()["errors"][0]
    assert (error["code"], error["meta"]["provider"]) == ("25003", "MESRI")

    two_names = {**_student_query(student["personne"]), "prenoms[]": ["A", "B"]}  # type: ignore[arg-type]
    assert http.get(url, params=two_names, headers=particulier(sandbox)).status_code == 422


def test_student_status_with_france_connect(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.urls["api_particulier"]
    url = base + "/v3/mesri/statut_etudiant/france_connect"
    for kind, status in (("etudiant", 200), ("salarie", 404)):
        person = persons(http, sandbox, kind, 1)[0]
        fc = http.post(
            base + "/_sandbox/france_connect/tokens", json={"person": person["index"]}
        ).json()
        answer = http.get(
            url,
            params={"recipient": RECIPIENT},
            headers={"Authorization": "Bearer " + fc["access_token"]},
        )
        assert answer.status_code == status, answer.text
    assert (
        http.get(url, params={"recipient": RECIPIENT}, headers=particulier(sandbox)).status_code
        == 401
    )
