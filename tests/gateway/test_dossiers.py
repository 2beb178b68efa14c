"""From an offer's link to a dossier submitted on démarches-simplifiées, and back.

The gateway's ASGI app, the sandbox's agencies, FranceConnect and démarches-simplifiées on real
HTTP: the person follows the link, signs in, consents, lands on a prefilled dossier on DS,
corrects it and submits it; DS's webhook call (made here as DS makes it, the app having no
address of its own in this test — the browser test has DS call a running gateway) brings it
back: the submission is recorded and audited, the offer applied, the benefit evaluated again,
and the person's space shows the dossier.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from audit import AuditFilter
from proactive.links import offer_token
from tests.gateway.dossier_stack import (  # noqa: F401 - fixtures, found here by pytest
    Stack,
    csrf,
    dossier_location,
    now,
    offer_for,
    rules,
    sandbox,
    sign_in,
    someone,
    stack,
)
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    ATTESTATION,
    LOGEMENT,
    LOYER,
    NATIONALITE,
    SITUATION,
    form_of,
    submit,
)


async def test_an_offer_becomes_a_prefilled_dossier_then_an_applied_offer(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: dict[str, Any],  # noqa: F811 - the fixture imported above
) -> None:
    offer = await offer_for(stack, someone, "rsa-dossier")
    token = offer_token(offer)
    link = f"/mon-espace/demandes/rsa?offre={token}"

    # Signed out: off to FranceConnect, and back to this page.
    first = await stack.http.get(link)
    assert first.status_code == 303
    assert await sign_in(stack, first.headers["location"], someone["index"]) == link
    page = await stack.http.get(link)
    assert page.status_code == 200, page.text
    assert "J'accepte que ces informations soient lues" in page.text
    assert "Ressources mensuelles déclarées" in page.text  # a category read, in words
    # The département is asked: two RSA procedures are registered (101 and 105).
    assert 'name="procedure" value="101"' in page.text
    assert 'name="procedure" value="105"' in page.text

    # No consent ticked: nothing is read, the page says why.
    refused = await stack.http.post(
        "/mon-espace/demandes/rsa", data={"offre": token, "procedure": "101", "csrf": csrf(page)}
    )
    assert refused.status_code == 400 and "cochez la case" in refused.text
    entries = await stack.services.audit_reader.entries(AuditFilter(purpose="citizen_prefill"))
    assert not entries.items

    created = await stack.http.post(
        "/mon-espace/demandes/rsa",
        data={"offre": token, "procedure": "101", "accord": "oui", "csrf": csrf(page)},
    )
    dossier_url = dossier_location(created)
    assert dossier_url.startswith(stack.sandbox.demarches_url + "/commencer/demande-rsa?")
    assert "prefill_token" in parse_qs(urlsplit(dossier_url).query)

    # Back on the page: it says a dossier was already prepared.
    again = await stack.http.get(link)
    assert "Un dossier a déjà été préparé pour cette demande" in html.unescape(again.text)

    # On DS: the dossier is prefilled with the person's data.
    async with httpx.AsyncClient(timeout=10.0) as browser:
        shown = await browser.get(dossier_url)
    assert shown.status_code == 200
    assert someone["personne"]["nomNaissance"] in html.unescape(shown.text)
    [link_row] = await stack.services.dossiers.for_person(
        (await stack.services.offers.get(offer)).person
    )
    assert link_row.status == "created" and link_row.offer_id == offer
    assert someone["personne"]["nomNaissance"] not in link_row.sealed  # sealed, not readable

    # What DS's champs could not take stays for the person to type: the address (the agencies
    # give lines, not a Base Adresse Nationale label), the nationality (no agency gives it).
    # The rest arrives converted: the marital status as the procedure's own label.
    form = form_of(stack.sandbox, link_row.number)
    assert not form.get(ADRESSE.key) and not form.get(NATIONALITE.key)
    assert form.get(SITUATION.key) == ["Célibataire"]
    form[NATIONALITE.key] = ["Française"]
    form[ADRESSE.key] = ["3 rue Pasteur 69003 Lyon"]
    form[LOGEMENT.key] = ["Locataire"]
    form[LOYER.key] = ["480"]
    form[AIDE.key] = ["false"]
    form[ATTESTATION.key] = ["true"]
    with httpx.Client(timeout=10.0) as browser:
        done = submit(browser, dossier_url, form)
    errors = re.findall(r'<li><a href="#[^"]*">([^<]*)<', done.text)
    assert done.status_code == 200 and "a bien été déposé" in done.text, errors

    # DS's webhook call: a wrong secret is refused, the right one processes the dossier once.
    params = {
        "procedure_id": "101",
        "dossier_id": str(link_row.number),
        "state": "en_construction",
        "updated_at": "2025-06-30 10:00:00 +0200",
    }
    wrong = await stack.http.post("/demarches-simplifiees/notifications/" + "x" * 43, data=params)
    assert wrong.status_code == 404
    hook = "/demarches-simplifiees/notifications/" + stack.services.ds_webhook_secret
    answer = await stack.http.post(hook, data=params)
    assert answer.status_code == 200 and answer.json() == {"result": "processed"}, answer.text
    assert (await stack.http.post(hook, data=params)).json() == {"result": "already"}

    assert (await stack.services.offers.get(offer)).status == "applied"
    processed = await stack.services.dossiers.get(link_row.number)
    assert processed.status == "processed" and processed.outcome is not None
    changed = set(processed.outcome["changed"])
    assert {"loyer_mensuel", "adresse", "nationalite"} <= changed
    assert "situation_familiale" not in changed  # kept as prefilled: confirmed
    assert "nom_usage" not in changed  # the birth name came back in DS's identity block
    [result] = processed.outcome["eligibility"]
    assert result["benefit"] == "rsa" and result["status"] != "CANNOT_EVALUATE", result
    submissions = await stack.services.audit_reader.entries(AuditFilter(kind="prefill_submission"))
    assert [e.entry.purpose for e in submissions.items] == ["citizen_prefill"]

    space = await stack.http.get("/mon-espace/propositions")
    text = html.unescape(space.text)
    assert f"Dossier nº {link_row.number} déposé sur" in text
    assert "Revenu de solidarité active (RSA) : " in text


async def test_another_person_cannot_use_the_link(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: dict[str, Any],  # noqa: F811 - the fixture imported above
) -> None:
    offer = await offer_for(stack, someone, "rsa-autre")
    link = f"/mon-espace/demandes/rsa?offre={offer_token(offer)}"
    first = await stack.http.get(link)
    other = someone["index"] + 1
    assert await sign_in(stack, first.headers["location"], other) == link
    page = await stack.http.get(link)
    assert page.status_code == 403
    assert "préparée pour une autre personne" in html.unescape(page.text)


async def test_an_offer_nobody_could_be_told_of_opens_from_the_citizen_space(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: dict[str, Any],  # noqa: F811 - the fixture imported above
) -> None:
    # No message went out (no address for any channel): the offer is still "detected", and
    # the person's space, which lists it with its link, is the only way they learn of it.
    offer = await offer_for(stack, someone, "rsa-sans-message", notified=False)
    assert (await stack.services.offers.get(offer)).status == "detected"
    link = f"/mon-espace/demandes/rsa?offre={offer_token(offer)}"
    first = await stack.http.get(link)
    assert await sign_in(stack, first.headers["location"], someone["index"]) == link
    space = html.unescape((await stack.http.get("/mon-espace/propositions")).text)
    assert f"/formulaires/rsa?offre={offer_token(offer)}" in space
    page = await stack.http.get(link)
    assert page.status_code == 200, page.text
    assert "J'accepte que ces informations soient lues" in page.text
    # Applying moves it to applied, like an offer the person was written about.
    person = (await stack.services.offers.get(offer)).person
    assert await stack.services.offers.applied(person, "rsa", now()) == 1
    assert (await stack.services.offers.get(offer)).status == "applied"
