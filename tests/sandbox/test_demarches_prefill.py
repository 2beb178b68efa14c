"""DS's prefill API over HTTP: the POST answer, the GET link, and what the person sees."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from sandbox import RunningSandbox
from tests.sandbox.test_demarches_support import RSA, RSA_93, champ, checked, input_value, selected

BIRTH = champ(RSA, "Date de naissance")
NATIONALITE = champ(RSA, "Nationalité")
SITUATION = champ(RSA, "Situation familiale")
PAYS = champ(RSA, "Pays de naissance")
COMMUNE_NAISSANCE = champ(RSA, "Commune de naissance")
LOYER = champ(RSA, "Loyer mensuel hors charges")
AIDE_LOGEMENT = champ(RSA, "Vous percevez une aide au logement")
ENFANTS = champ(RSA, "Enfants et autres personnes à charge")
ENFANT_PRENOM = champ(RSA, "Prénom", "text")
ENFANT_NE = next(c for c in ENFANTS.children if c.type == "date")


def create(
    http: httpx.Client, sandbox: RunningSandbox, body: object, number: int = 101
) -> httpx.Response:
    return http.post(
        f"{sandbox.demarches_url}/api/public/v1/demarches/{number}/dossiers", json=body
    )


def test_the_prefill_answer_has_ds_shape(sandbox: RunningSandbox, http: httpx.Client) -> None:
    answer = create(http, sandbox, {"identite_nom": "DURAND", BIRTH.key: "1988-03-14"})
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {
        "dossier_url",
        "state",
        "dossier_id",
        "dossier_number",
        "dossier_prefill_token",
    }
    assert body["state"] == "prefilled"
    number = body["dossier_number"]
    assert base64.b64decode(body["dossier_id"]).decode() == f"Dossier-{number}"
    url = urlsplit(body["dossier_url"])
    assert f"{url.scheme}://{url.netloc}" == sandbox.demarches_url
    assert url.path == "/commencer/demande-rsa"
    assert parse_qs(url.query) == {"prefill_token": [body["dossier_prefill_token"]]}


def test_unknown_procedures_and_bad_bodies_are_refused_as_ds_does(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    missing = create(http, sandbox, {}, number=999)
    assert (missing.status_code, missing.json()) == (404, {"error": "procedure 999 is not found"})
    url = f"{sandbox.demarches_url}/api/public/v1/demarches/101/dossiers"
    not_json = http.post(url, content=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    form = http.post(url, data={"identite_nom": "DURAND"})
    assert (form.status_code, form.json()) == (400, {"error": "Content-Type should be json"})


def test_the_dossier_page_shows_what_ds_kept(sandbox: RunningSandbox, http: httpx.Client) -> None:
    body = {
        "identite_nom": "DURAND",
        "identite_prenom": "CLAIRE",
        "identite_genre": "Mme",
        BIRTH.key: "1988-03-14",
        NATIONALITE.key: "Française",
        SITUATION.key: "marie",  # not one of the procedure's labels: dropped
        PAYS.key: "99100",  # an INSEE country code, not ISO: dropped
        COMMUNE_NAISSANCE.key: ["69003", "69123"],
        LOYER.key: 512.5,
        AIDE_LOGEMENT.key: "true",
        ENFANTS.key: [{ENFANT_PRENOM.key: "LÉA", ENFANT_NE.key: "2015-09-01"}],
    }
    page = http.get(create(http, sandbox, body).json()["dossier_url"])
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fr">' in html and "<script" not in html
    assert input_value(html, "identite_nom") == "DURAND"
    assert checked(html, "identite_genre") == ["Mme"]
    assert input_value(html, BIRTH.key) == "1988-03-14"
    assert selected(html, NATIONALITE.key) == "Française"
    assert selected(html, SITUATION.key) is None
    assert selected(html, PAYS.key) is None
    assert selected(html, COMMUNE_NAISSANCE.key) == "69003|69123"
    assert input_value(html, LOYER.key) == "512,5"  # as French write it
    assert checked(html, AIDE_LOGEMENT.key) == ["true"]
    assert input_value(html, "r0_" + ENFANT_PRENOM.key) == "LÉA"
    assert f'<label for="{BIRTH.key}">Date de naissance (obligatoire)</label>' in html


def test_the_get_link_prefills_a_dossier_from_its_query(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    communes = champ(RSA_93, "Commune de résidence")
    departement = champ(RSA_93, "Département de résidence")
    adultes = champ(RSA_93, "Vous et votre conjoint, concubin ou partenaire de Pacs")
    civilite, nom = adultes.children[0], adultes.children[1]
    query = [
        ("identite_nom", "DURAND"),
        ("identite_genre", "M"),  # DS wants "M."
        (communes.key + "[]", "93000"),
        (communes.key + "[]", "93008"),
        (departement.key, "93"),
        (f"{adultes.key}[][{civilite.key}]", "Mme"),
        (f"{adultes.key}[][{nom.key}]", "DURAND"),
        (f"{adultes.key}[][{civilite.key}]", "M."),
        (f"{adultes.key}[][{nom.key}]", "MARTIN"),
    ]
    # Built by hand: httpx would group repeated keys and lose the rows' order.
    page = http.get(f"{sandbox.demarches_url}/commencer/{RSA_93.path}?{urlencode(query)}")
    assert page.status_code == 200
    html = page.text
    assert input_value(html, "identite_nom") == "DURAND"
    assert checked(html, "identite_genre") == []
    assert selected(html, communes.key) == "93000|93008"
    assert selected(html, departement.key) == "93"
    assert checked(html, "r0_" + civilite.key) == ["Mme"]
    assert input_value(html, "r1_" + nom.key) == "MARTIN"
    listed = http.get(f"{sandbox.demarches_url}/_sandbox/demarches/105/dossiers").json()["data"]
    assert listed[-1]["state"] == "brouillon" and listed[-1]["prefilled"] is True


def test_the_prefill_page_lists_every_champ(sandbox: RunningSandbox, http: httpx.Client) -> None:
    page = http.get(f"{sandbox.demarches_url}/preremplir/{RSA.path}")
    assert page.status_code == 200
    for c in RSA.champs:
        if c.type != "header_section":
            assert f"<code>{c.key}</code>" in page.text
    assert "Pacsé(e)" in page.text
    schema = http.get(f"{sandbox.demarches_url}/preremplir/{RSA.path}/schema").json()
    assert schema["number"] == 101
    assert [d["id"] for d in schema["revision"]["champDescriptors"]] == [c.id for c in RSA.champs]


def test_the_api_lists_a_dossier_by_its_prefill_token(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    made = create(http, sandbox, {"identite_nom": "DURAND"}).json()
    answer = http.get(
        f"{sandbox.demarches_url}/api/public/v1/demarches/101/dossiers",
        params={"prefill_token": made["dossier_prefill_token"]},
    )
    assert answer.json() == [made]
