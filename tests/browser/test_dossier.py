"""The prefill round trip in a real browser, on the sandboxes, as the person walks it.

Set up as an operator does: the demo form builder in the client registry, the sandbox's
démarches-simplifiées procedures registered (``unefois procedure register``) with their
webhook set to the gateway's ``/demarches-simplifiees/notifications/<secret>``, an RSA
campaign whose e-mails ``unefois campaign deliver`` sends to the sandbox's mail sink.

The person opens the link of their e-mail, goes on to FranceConnect, consents, lands on a
dossier prefilled on démarches-simplifiées, completes and corrects it, deposits it; DS's
webhook (the sandbox calling the running gateway over HTTP) brings it back: their space says
the dossier is deposited, with the estimate, the offer is applied and the audit log verifies.
Someone else who opens the same link gets a refusal. Every gateway page is accessible
(axe-core: no serious or critical violation) and within its Content-Security-Policy.

With ``UNEFOIS_SCREENSHOTS_DIR`` set, the journey also saves its pages there
(``demande-*.png``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

import sandbox as sandbox_package
from proactive.links import offer_id
from tests.browser.harness import Stack, assert_accessible, keyboard_reach, running_stack
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    ATTESTATION,
    BIRTH,
    LOGEMENT,
    LOYER,
    NATIONALITE,
)

MAPPINGS = sorted((Path(sandbox_package.__file__).parent / "demarches" / "mappings").glob("*.yaml"))
WEBHOOK = "/demarches-simplifiees/notifications/"
FORM_LINK = re.compile(r"(http://\S+/formulaires/rsa\?offre=[A-Za-z0-9_-]{22})")
SUBMIT = "Préremplir et continuer sur démarches-simplifiées"
DEPOSIT_POLLS = 600  # looks at the DS sandbox's delivery log before giving up on its webhook
POLL_PAUSE = 0.2  # seconds between two looks
ADDRESS = "3 rue Pasteur 69003 Lyon"
RENT = "480"


@dataclass(frozen=True)
class Offered:
    """The person an RSA offer was made to, and the link of the e-mail they received."""

    entry: dict[str, Any]  # the sandbox's listing entry
    link: str  # the form link, as the e-mail gives it

    @property
    def offer(self) -> str:
        found = offer_id(self.link.rsplit("=", 1)[1])
        assert found is not None, self.link
        return found


@pytest.fixture(scope="module")
def secret() -> str:
    """The webhook's secret path segment: 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[Stack]:
    extra = {"UNEFOIS_DS_WEBHOOK_SECRET": secret}
    with running_stack(tmp_path_factory.mktemp("stack"), extra) as running:
        yield running


@pytest.fixture(scope="module")
def offered(stack: Stack, secret: str) -> Offered:
    """The operator's setup, then the e-mail an RSA non-claimant received."""
    stack.unefois(
        "clients",
        "add",
        "demo-form-builder",
        "--scopes",
        "person:read,prefill:read,prefill:write",
        "--sector",
        "forms",
    )
    stack.unefois("procedure", "register", *(str(p) for p in MAPPINGS))
    for mapping in MAPPINGS:
        number = int(yaml.safe_load(mapping.read_text(encoding="utf-8"))["procedure"])
        stack.set_ds_webhook(number, stack.url(WEBHOOK + secret))
    assert stack.campaign("rsa"), stack.logs()
    stack.deliver()
    listing = httpx.get(
        stack.sandbox.urls["civil_registry"] + "/_sandbox/persons",
        params={"kind": "rsa_non_claimant", "limit": 100},
        timeout=30.0,
    ).json()["data"]
    mails = stack.mails()
    for entry in listing:
        name = entry["personne"]["nomNaissance"].lower()
        for mail in mails:
            found = FORM_LINK.search(mail["text"])
            if name in mail["to"] and found:
                return Offered(entry, found.group(1))
    raise AssertionError(f"no RSA non-claimant received an e-mail: {[m['to'] for m in mails]}")


@pytest.fixture(scope="module")
def someone_else(stack: Stack) -> dict[str, Any]:
    """An adult the sandbox FranceConnect lists on its page."""
    answer = httpx.get(
        stack.sandbox.urls["civil_registry"] + "/_sandbox/persons",
        params={"kind": "adult", "limit": 20},
        timeout=30.0,
    )
    entry: dict[str, Any] = answer.json()["data"][0]
    return entry


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("UNEFOIS_SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"demande-{name}.png"), full_page=True)


def path_of(page: Any) -> str:
    return str(urlsplit(page.url).path)


def by_id(page: Any, element_id: str) -> Any:
    return page.locator(f'[id="{element_id}"]')


def choose(page: Any, element_id: str) -> None:
    """Tick a radio button or a checkbox as a person does: on its label."""
    page.locator(f'label[for="{element_id}"]').click()
    assert by_id(page, element_id).is_checked()


def sign_in(page: Any, stack: Stack, index: int) -> None:
    """On the sandbox FranceConnect's page: the person's button when they are listed, else
    their number typed in the form below the list."""
    assert page.url.startswith(stack.sandbox.france_connect_url), page.url
    listed = page.locator(f'button[name="person"][value="{index}"]')
    if listed.count():
        listed.click()
    else:
        page.get_by_label(re.compile("Numéro de la personne")).fill(str(index))
        page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def birth_date(entry: dict[str, Any]) -> str:
    p = entry["personne"]
    return f"{int(p['anneeDateNaissance']):04d}-{int(p['moisDateNaissance']):02d}-" + (
        f"{int(p['jourDateNaissance']):02d}"
    )


def delivered(stack: Stack, procedure: int, dossier: int) -> dict[str, Any]:
    """DS's webhook call for the dossier, once it has succeeded (polled, bounded: the
    sandbox tries four times, then gives up)."""
    calls: list[dict[str, Any]] = []
    for _ in range(DEPOSIT_POLLS):
        calls = [
            d
            for d in stack.ds_webhook(procedure)["deliveries"]
            if d["params"]["dossier_id"] == str(dossier)
        ]
        if any(d["delivered"] for d in calls):
            return next(d for d in calls if d["delivered"])
        if calls and len(calls[0]["attempts"]) >= 4:
            break
        time.sleep(POLL_PAUSE)
    raise AssertionError(f"DS's webhook call did not succeed: {calls}\n{stack.logs()}")


def test_the_link_of_the_email_becomes_a_deposited_dossier_then_an_applied_offer(
    page: Any, stack: Stack, offered: Offered
) -> None:
    person = offered.entry
    assert offered.link.startswith(stack.gateway_url + "/formulaires/rsa?offre=")

    # The e-mail's link: the gateway's landing page.
    page.goto(offered.link)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(page, "the e-mail's link")
    shot(page, "arrivee")
    page.get_by_role("link", name="Continuer ma demande").click()
    page.wait_for_load_state()

    # FranceConnect, and back to the page that prepares the dossier.
    sign_in(page, stack, person["index"])
    assert path_of(page) == "/mon-espace/demandes/rsa", page.url
    assert urlsplit(page.url).query == urlsplit(offered.link).query
    main = page.locator("main").inner_text()
    assert "J'accepte que ces informations soient lues" in main
    assert "Ressources mensuelles déclarées" in main
    assert_accessible(page, "what will be read")
    keyboard_reach(page, "#accord")
    keyboard_reach(page, f'main button[type="submit"]:has-text("{SUBMIT}")')
    # Two RSA procedures are registered (101, and 105 for Seine-Saint-Denis): the person says
    # where they live, Lyon, which the national procedure serves.
    assert page.locator('input[name="procedure"]').count() == 2
    choose(page, "procedure-101")
    choose(page, "accord")
    shot(page, "preremplir")
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_load_state()

    # Before DS opens: what the person will type themselves, and why. The procedure's address
    # champ takes a national address label, which the agencies do not give.
    assert path_of(page) == "/mon-espace/demandes/rsa", page.url
    main = page.locator("main").inner_text()
    assert re.search(r"Votre dossier nº \d+ est prêt", main), main
    assert "Adresse\xa0: elle n'a pas pu être reprise dans le format du formulaire" in main, main
    assert "Identifiant France Travail\xa0: elle se lit avec votre identifiant" in main, main
    assert_accessible(page, "what the person will type")
    shot(page, "dossier-pret")
    page.get_by_role("link", name="Ouvrir mon dossier sur démarches-simplifiées").click()
    page.wait_for_load_state()

    # The dossier on démarches-simplifiées, prefilled with what the agencies gave.
    assert page.url.startswith(stack.demarches_url + "/commencer/demande-rsa?"), page.url
    assert_accessible(page, "the prefilled dossier on démarches-simplifiées")
    found = re.search(r"Dossier nº (\d+)", page.locator("main").inner_text())
    assert found is not None
    number = int(found.group(1))
    assert by_id(page, BIRTH.key).input_value() == birth_date(person)
    assert by_id(page, "identite_nom").input_value() == person["personne"]["nomNaissance"]
    address = by_id(page, ADRESSE.key)
    assert address.input_value() == ""  # the agencies give lines, not a BAN label
    shot(page, "dossier")
    address.fill(ADDRESS)
    nationality = by_id(page, NATIONALITE.key)
    if not nationality.input_value():
        nationality.select_option(label="Française")
    housing = by_id(page, LOGEMENT.key)
    if not housing.input_value():
        housing.select_option(label="Locataire")
    by_id(page, LOYER.key).fill(RENT)
    if not page.locator(f'input[name="{AIDE.key}"]:checked').count():
        choose(page, f"{AIDE.key}-1")  # Non
    if not by_id(page, ATTESTATION.key).is_checked():
        choose(page, ATTESTATION.key)
    page.get_by_role("button", name="Déposer le dossier").click()
    page.wait_for_load_state()
    heading = page.locator("h1").inner_text()
    summary = page.locator(".summary").all_inner_texts()
    assert heading == f"Votre dossier nº {number} a bien été déposé", summary
    assert_accessible(page, "the deposit's confirmation on démarches-simplifiées")
    shot(page, "deposee")

    # DS's webhook, sent by the sandbox to the running gateway, brings the dossier back.
    call = delivered(stack, 101, number)
    assert call["url"].startswith(stack.url(WEBHOOK)), call
    page.goto(stack.url("/mon-espace/propositions"))
    text = page.locator("main").inner_text()
    assert f"Dossier nº {number} déposé sur démarches-simplifiées" in text, text
    assert "Revenu de solidarité active (RSA) : " in text, text
    assert_accessible(page, "the person's offers, the dossier deposited")
    shot(page, "propositions")

    assert stack.offer_status(offered.offer) == "applied"
    report = json.loads(stack.unefois("audit", "verify").strip().splitlines()[-1])
    assert report["ok"] is True, report


def test_someone_else_who_opens_the_link_is_refused(
    page: Any, stack: Stack, offered: Offered, someone_else: dict[str, Any]
) -> None:
    assert someone_else["index"] != offered.entry["index"]
    page.goto(offered.link)
    page.get_by_role("link", name="Continuer ma demande").click()
    page.wait_for_load_state()
    sign_in(page, stack, someone_else["index"])
    assert path_of(page) == "/mon-espace/demandes/rsa", page.url
    answer = page.reload()
    assert answer is not None and answer.status == 403
    assert "préparée pour une autre personne" in page.locator("main").inner_text()
    assert page.get_by_role("button", name=SUBMIT).count() == 0
    assert_accessible(page, "the link opened by someone else")
    shot(page, "autre-personne")
