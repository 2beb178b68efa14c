"""Shared by the démarches-simplifiées sandbox tests (no test here): procedures, champs, pages."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox import RunningSandbox
from sandbox.demarches import SANDBOX_DS_TOKEN, DemarchesState
from sandbox.demarches.entry import raw_from_dossier
from sandbox.demarches.procedures import ChampDef, Procedure, load_procedures

PROCEDURES = load_procedures()
RSA = PROCEDURES[101]
RSA_93 = PROCEDURES[105]


def champ(procedure: Procedure, label: str, kind: str | None = None) -> ChampDef:
    return next(
        c for c in procedure.all_champs() if c.label == label and (kind is None or c.type == kind)
    )


def graphql(http: httpx.Client, base: str, query: str, **variables: object) -> Any:
    answer = http.post(
        base + "/api/v2/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {SANDBOX_DS_TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    body: Any = answer.json()
    return body


def input_value(html: str, name: str) -> str | None:
    """The value of the text-like input named ``name``."""
    match = re.search(
        rf'<input type="[a-z-]+" id="{re.escape(name)}" name="[^"]+"[^>]* value="([^"]*)"', html
    )
    return None if match is None else unescape(match[1])


def checked(html: str, name: str) -> list[str]:
    return [
        unescape(v) for v in re.findall(rf'name="{re.escape(name)}" value="([^"]*)" checked', html)
    ]


def selected(html: str, name: str) -> str | None:
    block = re.search(rf'<select id="{re.escape(name)}".*?</select>', html, re.S)
    if block is None:
        return None
    match = re.search(r'<option value="([^"]*)" selected>', block[0])
    return None if match is None else unescape(match[1])


BIRTH = champ(RSA, "Date de naissance")
ADRESSE = champ(RSA, "Adresse", "address")
CODE_POSTAL = champ(RSA, "Code postal")
COMMUNE = champ(RSA, "Commune", "text")
NATIONALITE = champ(RSA, "Nationalité")
SITUATION = champ(RSA, "Situation familiale")
LOGEMENT = champ(RSA, "Vous êtes")
LOYER = champ(RSA, "Loyer mensuel hors charges")
AIDE = champ(RSA, "Vous percevez une aide au logement")
ATTESTATION = next(c for c in RSA.champs if c.type == "checkbox")
ENFANTS = champ(RSA, "Enfants et autres personnes à charge")
PRENOM = ENFANTS.children[0]


def prefilled(http: httpx.Client, sandbox: RunningSandbox) -> tuple[str, int]:
    body = {
        "identite_nom": "DURAND",
        "identite_prenom": "CLAIRE",
        "identite_genre": "Mme",
        BIRTH.key: "1988-03-14",
        ADRESSE.key: "3 rue Pasteur 69003 Lyon",
        CODE_POSTAL.key: "69003",
        COMMUNE.key: "Lyon",
        NATIONALITE.key: "Française",
        SITUATION.key: "Célibataire",
        LOGEMENT.key: "Locataire",
        LOYER.key: 512.5,
        AIDE.key: "true",
        ENFANTS.key: [{PRENOM.key: "LÉA"}],
    }
    answer = http.post(f"{sandbox.demarches_url}/api/public/v1/demarches/101/dossiers", json=body)
    made = answer.json()
    return made["dossier_url"], made["dossier_number"]


def form_of(sandbox: RunningSandbox, number: int) -> dict[str, list[str]]:
    """What the browser would send back unchanged (the page's fields as the dossier fills them)."""
    state: DemarchesState = sandbox.apps["demarches"].state.demarches
    dossier = state.store.by_number(number)
    assert dossier is not None
    return raw_from_dossier(RSA, dossier)


def post_form(
    http: httpx.Client, url: str, form: dict[str, list[str]], action: str
) -> httpx.Response:
    pairs = [(k, v) for k, vs in form.items() for v in vs] + [("_action", action)]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return http.post(url, content=urlencode(pairs), headers=headers, follow_redirects=True)


def submit(http: httpx.Client, url: str, form: dict[str, list[str]]) -> httpx.Response:
    return post_form(http, url, form, "deposer")


def deposit(http: httpx.Client, sandbox: RunningSandbox) -> int:
    """A prefilled RSA dossier, deposited as prefilled (the attestation ticked)."""
    url, number = prefilled(http, sandbox)
    form = form_of(sandbox, number)
    form[ATTESTATION.key] = ["true"]
    assert submit(http, url, form).status_code == 200
    return number
