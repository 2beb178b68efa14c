"""The citizen space in a real browser: signed in through the sandbox FranceConnect by clicking
a listed person, the journal of a demo client's read, a consent granted then revoked (the form
builder's next prefill query sees it gone), the opt-out, sign-out — every page accessible
(axe-core: no serious or critical violation), within its Content-Security-Policy.

With ``UNEFOIS_SCREENSHOTS_DIR`` set, the journey also saves each page there
(``mon-espace-*.png``, the images of docs/citizens.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.server import graphql_identity
from tests.browser.harness import RECIPIENT, Stack, assert_accessible, keyboard_reach

SIGN_OUT = 'header form[action="/mon-espace/deconnexion"] button[type="submit"]'
PERSON = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  person(ref: $ref, context: $ctx) { identity { birthName } } }"""
INSTRUCTION = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "dossier-rsa-1"}
PREFILL = {"purpose": "citizen_prefill", "recipient": RECIPIENT, "object": "formulaire-rsa"}


def token(stack: Stack, client_id: str) -> str:
    """An access token of a client of the catalogue, added with the command (which prints its
    secret once)."""
    printed = stack.unefois("clients", "add", client_id, "--scopes", "person:read")
    found = re.search(r"\(shown once\): (\S+)", printed)
    assert found is not None, printed
    answer = httpx.post(
        stack.url("/oauth/token"),
        data={"grant_type": "client_credentials"},
        auth=(client_id, found.group(1)),
        timeout=30.0,
    )
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["access_token"]
    return value


def person_query(stack: Stack, entry: dict[str, Any], context: dict[str, str], bearer: str) -> Any:
    variables = {"ref": {"identity": graphql_identity(entry["personne"])}, "ctx": context}
    answer = httpx.post(
        stack.url("/graphql"),
        json={"query": PERSON, "variables": variables},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=60.0,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def someone(stack: Stack) -> dict[str, Any]:
    """An adult among the persons the sandbox FranceConnect lists on its page."""
    answer = httpx.get(
        stack.sandbox.urls["civil_registry"] + "/_sandbox/persons",
        params={"limit": 20},
        timeout=30.0,
    )
    adults = [e for e in answer.json()["data"] if e.get("role", "adult") == "adult"]
    assert adults, answer.text
    entry: dict[str, Any] = adults[0]
    return entry


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("UNEFOIS_SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"mon-espace-{name}.png"), full_page=True)


def choose(page: Any, selector: str) -> None:
    """Tick a radio button or a checkbox as a person does: on its label (the design system
    draws the control over the input)."""
    control = page.locator(selector)
    page.locator(f'label[for="{control.get_attribute("id")}"]').click()
    assert control.is_checked()


def path_of(page: Any) -> str:
    return str(urlsplit(page.url).path)


def test_a_citizen_signs_in_reads_the_journal_grants_revokes_opts_out_and_signs_out(
    page: Any, stack: Stack, someone: dict[str, Any]
) -> None:
    read = person_query(stack, someone, INSTRUCTION, token(stack, "demo-agency-app"))
    assert "errors" not in read, read
    form_builder = token(stack, "demo-form-builder")

    page.goto(stack.url("/mon-espace/"))
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(page, "citizen space, signed out")
    keyboard_reach(page, "a.fr-connect")
    shot(page, "connexion")

    page.locator("a.fr-connect").click()
    page.wait_for_load_state()
    assert page.url.startswith(stack.sandbox.france_connect_url)
    page.locator(f'button[name="person"][value="{someone["index"]}"]').click()
    page.wait_for_load_state()
    assert path_of(page) == "/mon-espace/"
    assert page.locator("h1").inner_text().strip() == "Qui a consulté mes données"
    journal = page.locator("main").inner_text()
    assert "Conseil départemental (démonstration)" in journal
    assert "Identité (état civil)" in journal
    assert_accessible(page, "journal")
    keyboard_reach(page, SIGN_OUT)
    shot(page, "consultations")

    page.get_by_role("link", name="Mes consentements").click()
    page.wait_for_load_state()
    assert path_of(page) == "/mon-espace/consentements"
    assert_accessible(page, "consents, none yet")
    keyboard_reach(page, 'form[action="/mon-espace/consentements"] button[type="submit"]')
    choose(page, 'input[value="client:demo-form-builder"]')
    choose(page, "#categorie-identite")
    choose(page, "#categorie-ressources")
    choose(page, "#duree-3m")
    page.locator('form[action="/mon-espace/consentements"] button[type="submit"]').click()
    page.wait_for_load_state()
    main = page.locator("main").inner_text()
    assert "Votre consentement est enregistré" in main
    assert "Service de formulaires en ligne (démonstration)" in main
    assert_accessible(page, "consents, one given")
    shot(page, "consentements")
    allowed = person_query(stack, someone, PREFILL, form_builder)
    assert "errors" not in allowed, allowed

    page.locator('form[action="/mon-espace/consentements/retrait"] button').click()
    page.wait_for_load_state()
    assert "Votre consentement est retiré" in page.locator("main").inner_text()
    assert_accessible(page, "consents, one revoked")
    refused = person_query(stack, someone, PREFILL, form_builder)
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"CONSENT_REQUIRED"}

    page.get_by_role("link", name="Aides proposées").click()
    page.wait_for_load_state()
    assert_accessible(page, "offers")
    shot(page, "propositions")
    opt_out = 'form[action="/mon-espace/propositions/desinscription"] button'
    keyboard_reach(page, opt_out)
    page.locator(opt_out).click()
    page.wait_for_load_state()
    assert "Vous avez choisi de ne plus être informé(e)" in page.locator("main").inner_text()
    assert_accessible(page, "offers, opted out")

    page.locator(SIGN_OUT).click()
    page.wait_for_load_state()
    assert path_of(page) == "/mon-espace/deconnexion/retour"
    assert page.locator("h1").inner_text().strip() == "Vous êtes déconnecté(e)"
    assert page.locator(SIGN_OUT).count() == 0
    assert_accessible(page, "signed out")
    shot(page, "deconnexion")
    page.goto(stack.url("/mon-espace/consentements"))
    assert path_of(page) == "/mon-espace/"
    assert page.locator("a.fr-connect").count() == 1
    # Nothing of the person in the browser: no readable cookie (the session's is HttpOnly),
    # and the design system's storage holds its display preferences only.
    assert page.evaluate("() => document.cookie") == ""
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    for trait in (someone["personne"]["nomNaissance"], *someone["personne"]["prenoms"]):
        assert trait not in stored
