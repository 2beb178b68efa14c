"""The person's round trip: the prefilled page, a correction, the deposit, what the
instructor's GraphQL API then shows, and the procedure's webhook."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest

from sandbox import RunningSandbox
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    ATTESTATION,
    BIRTH,
    ENFANTS,
    LOYER,
    PRENOM,
    RSA,
    form_of,
    graphql,
    post_form,
    prefilled,
    submit,
)

DOSSIER = """
query dossier($number: Int!) {
  dossier(number: $number) {
    id number state dateDepot prefilled
    demarche { number }
    demandeur { __typename ... on PersonnePhysique { civilite nom prenom } }
    champs {
      __typename id label stringValue prefilled
      ... on DecimalNumberChamp { decimalNumber: value }
      ... on DateChamp { date }
      ... on YesNoChamp { yesNo: value }
      ... on CheckboxChamp { checked: value }
      ... on AddressChamp { address { label postalCode cityName cityCode } }
      ... on RepetitionChamp { rows { id champs { __typename id label stringValue } } }
    }
  }
}
"""


class Receiver:
    """A tiny webhook receiver: answers ``statuses`` in turn (then 200), keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        self.statuses = statuses
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.calls.append((self.headers["Content-Type"], parse_qs(body)))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> None:
        for _ in range(200):  # the sandbox sends in the background
            if len(self.calls) >= count:
                return
            time.sleep(0.05)


@pytest.fixture
def receiver(sandbox: RunningSandbox, http: httpx.Client) -> Iterator[Receiver]:
    hook = f"{sandbox.demarches_url}/_sandbox/demarches/101/webhook"
    made = Receiver([500])  # the first call fails: the sandbox retries
    assert http.put(hook, json={"url": made.url}).status_code == 200
    yield made
    http.put(hook, json={"url": None})
    made.server.shutdown()
    made.server.server_close()


def test_a_corrected_dossier_is_deposited_and_shown_to_the_instructor(
    sandbox: RunningSandbox, http: httpx.Client, receiver: Receiver
) -> None:
    url, number = prefilled(http, sandbox)
    form = form_of(sandbox, number)
    form[LOYER.key] = ["530,20"]  # the person corrects the rent
    form[AIDE.key] = ["false"]
    form[ATTESTATION.key] = ["true"]
    done = submit(http, url, form)
    assert done.status_code == 200
    assert f"Votre dossier nº {number} a bien été déposé" in done.text

    answer = graphql(http, sandbox.demarches_url, DOSSIER, number=number)
    assert "errors" not in answer
    dossier = answer["data"]["dossier"]
    assert dossier["state"] == "en_construction" and dossier["prefilled"] is True
    assert dossier["demarche"] == {"number": 101}
    assert dossier["demandeur"] == {
        "__typename": "PersonnePhysique",
        "civilite": "Mme",
        "nom": "DURAND",
        "prenom": "CLAIRE",
    }
    champs = {c["id"]: c for c in dossier["champs"]}
    assert len(champs) == len(RSA.champs)
    assert champs[LOYER.id]["decimalNumber"] == 530.2
    assert champs[AIDE.id] == {
        "__typename": "YesNoChamp",
        "id": AIDE.id,
        "label": AIDE.label,
        "stringValue": "false",
        "prefilled": True,
        "yesNo": False,
    }
    assert champs[BIRTH.id]["date"] == "1988-03-14"
    assert champs[ATTESTATION.id]["checked"] is True
    assert champs[ADRESSE.id]["address"] == {
        "label": "3 rue Pasteur 69003 Lyon",
        "postalCode": "69003",
        "cityName": "Lyon",
        "cityCode": "69123",
    }
    rows = champs[ENFANTS.id]["rows"]
    assert [[c["stringValue"] for c in row["champs"][:1]] for row in rows] == [["LÉA"]]

    receiver.wait_for(2)
    assert len(receiver.calls) == 2  # a 500, then the retry
    content_type, params = receiver.calls[-1]
    assert content_type == "application/x-www-form-urlencoded"
    assert {k: v[0] for k, v in params.items() if k != "updated_at"} == {
        "procedure_id": "101",
        "dossier_id": str(number),
        "state": "en_construction",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}", params["updated_at"][0])


def test_invalid_input_shows_the_page_again_with_an_error_per_champ(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    url, number = prefilled(http, sandbox)
    form = form_of(sandbox, number)
    form[LOYER.key] = ["beaucoup"]
    form[BIRTH.key] = [""]
    form.pop(ATTESTATION.key, None)
    page = submit(http, url, form)
    assert page.status_code == 422
    assert "3 erreurs empêchent le dépôt du dossier" in page.text
    assert f'id="{LOYER.key}-erreur"' in page.text and f'id="{BIRTH.key}-erreur"' in page.text
    assert 'value="beaucoup"' in page.text  # what the person typed stays
    still = graphql(
        http, sandbox.demarches_url, "query($n: Int!) { dossier(number: $n) { state } }", n=number
    )
    assert still["errors"][0]["extensions"] == {"code": "not_found"}


def test_a_row_is_added_and_removed_with_plain_buttons(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    url, number = prefilled(http, sandbox)
    form = form_of(sandbox, number)
    added = post_form(http, url, form, f"ajouter:{ENFANTS.id}")
    assert f'id="r1_{PRENOM.key}"' in added.text
    removed = post_form(http, url, form, f"supprimer:{ENFANTS.id}:0")
    assert f'id="r0_{PRENOM.key}"' not in removed.text


def test_a_prefilled_decimal_deposited_unchanged_keeps_its_value(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    """The page shows 512,5 as French write it, and reads back what it showed: never 5125."""
    url, number = prefilled(http, sandbox)
    form = form_of(sandbox, number)
    assert form[LOYER.key] == ["512,5"]
    form[ATTESTATION.key] = ["true"]
    assert submit(http, url, form).status_code == 200
    answer = graphql(http, sandbox.demarches_url, DOSSIER, number=number)
    champs = {c["id"]: c for c in answer["data"]["dossier"]["champs"]}
    assert champs[LOYER.id]["decimalNumber"] == 512.5
    # Typed with a thousands dot and a decimal comma, or with a decimal dot: the same number.
    for typed, expected in (("1.234,56", 1234.56), ("1 234.5", 1234.5)):
        url, number = prefilled(http, sandbox)
        form = form_of(sandbox, number)
        form[LOYER.key] = [typed]
        form[ATTESTATION.key] = ["true"]
        assert submit(http, url, form).status_code == 200
        answer = graphql(http, sandbox.demarches_url, DOSSIER, number=number)
        champs = {c["id"]: c for c in answer["data"]["dossier"]["champs"]}
        assert champs[LOYER.id]["decimalNumber"] == expected, typed
