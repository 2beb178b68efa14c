"""The auditors' console in a real browser: an auditor signs in through the sandbox's
ProConnect-style provider by clicking a listed agent, and answers "who read this person's data
last week, and why" — the person searched by identity over the period, the entry opened with
its legal basis, the search exported as CSV; anomalies and integrity; sign-out ends the session
(the old cookie opens nothing); an agent of an organisation not listed as auditor is refused.
Every page accessible (axe-core: no serious or critical violation), within its
Content-Security-Policy.

With ``UNEFOIS_SCREENSHOTS_DIR`` set, the journey also saves each page there
(``console-*.png``, the images of docs/console.md).
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.harness import RECIPIENT, Stack, assert_accessible, keyboard_reach
from tests.browser.test_citizen import person_query, token

SIGN_OUT = 'header form[action="/console/deconnexion"] button[type="submit"]'
DPO = 0  # the sandbox's agents, by their button on the provider's page (agents.yaml)
CLERK = 2
READ = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "dossier-console-1"}
OTHER_READ = {**READ, "object": "dossier-console-2"}


@pytest.fixture(scope="module")
def adults(stack: Stack) -> list[dict[str, Any]]:
    answer = httpx.get(
        stack.sandbox.urls["civil_registry"] + "/_sandbox/persons",
        params={"limit": 20},
        timeout=30.0,
    )
    found = [e for e in answer.json()["data"] if e.get("role", "adult") == "adult"]
    assert len(found) >= 2, answer.text
    return found


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("UNEFOIS_SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"console-{name}.png"), full_page=True)


def path_of(page: Any) -> str:
    return urlsplit(page.url).path


def sign_in(page: Any, stack: Stack, agent: int) -> None:
    page.goto(stack.url("/console/"))
    page.locator("#connexion").click()
    page.wait_for_load_state()
    assert page.url.startswith(stack.sandbox.agent_connect_url)
    page.locator(f'button[name="agent"][value="{agent}"]').click()
    page.wait_for_load_state()


def test_an_auditor_finds_who_read_a_person_and_why(
    page: Any, stack: Stack, adults: list[dict[str, Any]]
) -> None:
    someone, other = adults[0], adults[1]
    bearer = token(stack, "demo-agency-app")
    assert "errors" not in person_query(stack, someone, READ, bearer)
    assert "errors" not in person_query(stack, other, OTHER_READ, bearer)

    page.goto(stack.url("/console/"))
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(page, "console, signed out")
    keyboard_reach(page, "#connexion")
    shot(page, "connexion")

    sign_in(page, stack, DPO)
    assert path_of(page) == "/console/"
    assert page.locator("h1").inner_text().strip() == "Bonjour Camille Martin"
    assert_accessible(page, "console home")
    keyboard_reach(page, SIGN_OUT)
    shot(page, "accueil")

    page.get_by_role("link", name="Journal des accès").first.click()
    page.wait_for_load_state()
    assert path_of(page) == "/console/journal"
    assert_accessible(page, "journal, no filter")
    identity = someone["personne"]
    page.fill("#nom", identity["nomNaissance"])
    page.fill("#prenoms", " ".join(identity["prenoms"]))
    born = date(
        int(identity["anneeDateNaissance"]),
        int(identity["moisDateNaissance"]),
        int(identity["jourDateNaissance"]),
    )
    page.fill("#naissance", born.isoformat())
    page.select_option("#sexe", identity["sexeEtatCivil"])
    page.fill("#commune", identity.get("codeCogInseeCommuneNaissance") or "")
    page.fill("#pays", identity["codeCogInseePaysNaissance"])
    page.locator("#filtrer-personne").click()
    page.wait_for_load_state()
    assert identity["nomNaissance"].lower() not in page.url.lower()
    # The console's days are Paris days: between 23:00 and midnight UTC, Paris is a day ahead.
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date()
    page.fill("#du", (today - timedelta(days=7)).isoformat())
    page.fill("#au", today.isoformat())
    keyboard_reach(page, "#rechercher")
    page.locator("#rechercher").click()
    page.wait_for_load_state()
    results = page.locator("main table").inner_text()
    assert "dossier-console-1" in results and "Conseil départemental (démonstration)" in results
    assert "dossier-console-2" not in results  # another person's read
    assert "la recherche porte sur une personne" in page.locator("main").inner_text().lower()
    assert_accessible(page, "journal, one person over a week")
    shot(page, "journal")
    # Nothing about the person in the address or the browser's storage.
    assert identity["nomNaissance"].lower() not in page.url.lower()
    # The design system keeps its colour scheme ("scheme"); nothing else is stored.
    stored = "() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]"
    assert set(page.evaluate(stored)) <= {"scheme"}
    assert page.evaluate("() => document.cookie") == ""
    search = page.url

    page.locator("tr", has_text="dossier-console-1").locator("a").first.click()
    page.wait_for_load_state()
    assert path_of(page).startswith("/console/journal/")
    basis = page.locator("#base-legale")
    assert "article L262" in basis.inner_text()
    assert (basis.get_attribute("href") or "").startswith("https://")
    main = page.locator("main").inner_text()
    assert RECIPIENT in main and "Données transmises" in main
    assert_accessible(page, "entry")
    shot(page, "acces")

    page.goto(search)
    with page.expect_download() as started:
        page.get_by_role("link", name="Exporter en CSV").click()
    download = started.value
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert download.suggested_filename.endswith(".csv")
    assert "dossier-console-1" in {r["object"] for r in rows}
    assert "dossier-console-2" not in {r["object"] for r in rows}

    page.goto(stack.url("/console/journal?du=2026-05-10&au=2026-05-01"))
    summary = page.locator("#erreurs")
    assert "La date de fin doit être le même jour" in summary.inner_text()
    assert_accessible(page, "journal, wrong period")

    page.get_by_role("link", name="Anomalies").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().strip() == "Anomalies"
    assert_accessible(page, "anomalies")
    shot(page, "anomalies")
    page.get_by_role("link", name="Intégrité du journal").first.click()
    page.wait_for_load_state()
    assert "Dernier point de contrôle signé" in page.locator("main").inner_text()
    assert_accessible(page, "integrity")
    shot(page, "integrite")

    before = [c for c in page.context.cookies() if c["name"] == "unefois-console"]
    assert before
    page.locator(SIGN_OUT).click()
    page.wait_for_load_state()
    assert path_of(page) == "/console/deconnexion/retour"
    assert page.locator("h1").inner_text().strip() == "Vous êtes déconnecté(e)"
    assert_accessible(page, "signed out")
    page.context.add_cookies(before)  # the old cookie, kept by someone
    page.goto(stack.url("/console/journal"))
    assert path_of(page) == "/console/"
    assert page.locator("#connexion").count() == 1


def test_an_agent_of_an_organisation_not_listed_is_refused(page: Any, stack: Stack) -> None:
    sign_in(page, stack, CLERK)
    assert path_of(page) == "/console/connexion/retour"
    assert "n'est pas habilité" in page.locator("main").inner_text()
    assert_accessible(page, "refused agent")
    shot(page, "refus")
    page.goto(stack.url("/console/journal"))
    assert path_of(page) == "/console/"
