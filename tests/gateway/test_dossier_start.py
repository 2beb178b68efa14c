"""The start of a dossier at its edges: a link that opens nothing, an offer closed, a form
posted without its CSRF token, DS down when the dossier is created, no procedure registered
for the form, one procedure (no département asked) or two (asked, and required). The
gateway's ASGI app over the sandbox's agencies, FranceConnect and démarches-simplifiées."""

from __future__ import annotations

import html
import logging
from typing import Any

import httpx
import pytest

from audit import AuditFilter
from proactive.links import offer_token
from store.offers import OfferStatus
from tests.gateway.dossier_stack import (
    Stack,
    closed_demarches,
    consents_of,
    csrf,
    dossier_location,
    now,
    offer_for,
    rules,  # noqa: F401 - the fixture
    sandbox,  # noqa: F401 - the fixture
    signed_in,
    someone,  # noqa: F401 - the fixture
    stack,  # noqa: F401 - the fixture
)

Someone = dict[str, Any]
START = "/mon-espace/demandes/rsa"
UNKNOWN = "Ce lien ne correspond à aucune demande."
NOT_ONLINE = "ne peut pas encore être faite en ligne"
CLOSED: tuple[OfferStatus, ...] = ("applied", "declined")


async def dossiers_of(running: Stack, offer: str) -> list[Any]:
    person = (await running.services.offers.get(offer)).person
    return list(await running.services.dossiers.for_person(person))


async def reads(running: Stack) -> int:
    found = await running.services.audit_reader.entries(AuditFilter(purpose="citizen_prefill"))
    return len(found.items)


def text(page: httpx.Response) -> str:
    return html.unescape(page.text)


def no_name_in(caplog: pytest.LogCaptureFixture, entry: Someone) -> None:
    person = entry["personne"]
    given = person["prenoms"] if isinstance(person["prenoms"], list) else [person["prenoms"]]
    for value in (person["nomNaissance"], *given):
        assert str(value) not in caplog.text


async def test_a_link_to_no_offer_is_not_found(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    offer = await offer_for(stack, someone, "start-unknown")
    token = offer_token(offer)
    for path in (
        f"/mon-espace/demandes/inconnu?offre={token}",  # no such form
        f"{START}?offre=inconnu",  # no such token
        f"{START}?offre={token[:-1]}",  # a token altered
        f"{START}?offre={offer_token('00000000-0000-4000-8000-000000000000')}",  # no such offer
        START,  # no token
        # An RSA offer opened on the prime d'activité's form: another benefit's.
        f"/mon-espace/demandes/ppa?offre={token}",
    ):
        page = await stack.http.get(path)
        assert page.status_code == 404, path
        assert UNKNOWN in text(page), path
    # Signed out, nothing was asked of FranceConnect: the link alone opens nothing.
    assert (await stack.services.offers.get(offer)).status == "notified"


@pytest.mark.parametrize("closed", CLOSED)
async def test_a_closed_offer_is_gone(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    closed: OfferStatus,
) -> None:
    offer, link = await signed_in(stack, someone, f"start-{closed}")
    page = await stack.http.get(link)
    assert page.status_code == 200
    await stack.services.offers.transition(offer, closed, now())
    gone = await stack.http.get(link)
    assert gone.status_code == 410 and "Cette proposition est close" in text(gone)
    posted = await stack.http.post(
        START,
        data={"offre": offer_token(offer), "procedure": "101", "accord": "oui", "csrf": csrf(page)},
    )
    assert posted.status_code == 410
    assert not await dossiers_of(stack, offer)
    assert not await consents_of(stack, someone)


async def test_a_post_without_its_csrf_token_is_refused(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    offer, link = await signed_in(stack, someone, "start-csrf")
    page = await stack.http.get(link)
    form = {"offre": offer_token(offer), "procedure": "101", "accord": "oui"}
    for data in (form, {**form, "csrf": "0" * 64}, {**form, "csrf": csrf(page)[::-1]}):
        refused = await stack.http.post(START, data=data)
        assert refused.status_code == 403 and "Ce formulaire a expiré" in text(refused)
    assert not await dossiers_of(stack, offer)
    assert not await consents_of(stack, someone)
    assert await reads(stack) == 0


async def test_ds_down_when_creating_is_a_bad_gateway_page_and_no_dossier(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    offer, link = await signed_in(stack, someone, "start-ds-down")
    page = await stack.http.get(link)
    form = {"offre": offer_token(offer), "procedure": "101", "accord": "oui", "csrf": csrf(page)}
    up = stack.services
    async with httpx.AsyncClient() as http:
        stack.swap(closed_demarches(stack, http))
        try:
            failed = await stack.http.post(START, data=form)
        finally:
            stack.swap(up)
    assert failed.status_code == 502
    assert "Votre dossier n'a pas pu être préparé" in text(failed)
    assert not await dossiers_of(stack, offer)
    assert (await stack.services.offers.get(offer)).status == "notified"
    # What happened before DS was called stays: the consent is granted before the data is
    # read, and the read itself is audited like any access.
    assert len(await consents_of(stack, someone)) == 1
    assert await reads(stack) >= 1
    assert "UpstreamUnavailable" in caplog.text

    # The same link, DS back: the dossier is created.
    again = await stack.http.post(START, data=form)
    dossier_location(again)
    [row] = await dossiers_of(stack, offer)
    assert row.status == "created" and row.procedure == 101
    # The consent in force already covers it: not recorded a second time.
    assert len(await consents_of(stack, someone)) == 1
    no_name_in(caplog, someone)


async def test_an_agency_down_when_creating_is_an_unavailable_page_and_no_dossier(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The resources' agency failing: no dossier half filled for good on DS, the page says to
    # come back, and the same link creates it once the agency answers.
    caplog.set_level(logging.INFO)
    offer, link = await signed_in(stack, someone, "start-agency-down")
    page = await stack.http.get(link)
    form = {"offre": offer_token(offer), "procedure": "101", "accord": "oui", "csrf": csrf(page)}
    faults = stack.sandbox.urls["gip_mds"] + "/_sandbox/faults"
    async with httpx.AsyncClient() as http:
        assert (await http.put(faults, json={"error_rate": 1.0})).status_code == 200
        try:
            failed = await stack.http.post(START, data=form)
        finally:
            assert (await http.put(faults, json={})).status_code == 200
    assert failed.status_code == 503
    assert "Votre dossier n'a pas pu être préparé" in text(failed)
    assert not await dossiers_of(stack, offer)
    assert "resources=UPSTREAM_" in " ".join(str(getattr(r, "sources", "")) for r in caplog.records)
    again = await stack.http.post(START, data=form)
    dossier_location(again)
    [row] = await dossiers_of(stack, offer)
    assert row.status == "created"
    no_name_in(caplog, someone)


async def test_a_form_no_procedure_serves_cannot_be_made_online(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    offer, link = await signed_in(stack, someone, "start-no-procedure")
    page = await stack.http.get(link)
    assert page.status_code == 200
    for record in await stack.services.procedures.for_form("rsa"):
        await stack.services.procedures.remove(record.number)
    shown = await stack.http.get(link)
    assert shown.status_code == 503 and NOT_ONLINE in text(shown)
    form = {"offre": offer_token(offer), "procedure": "101", "accord": "oui", "csrf": csrf(page)}
    posted = await stack.http.post(START, data=form)
    assert posted.status_code == 503 and NOT_ONLINE in text(posted)
    assert not await dossiers_of(stack, offer)
    assert not await consents_of(stack, someone)


async def test_a_single_procedure_asks_no_departement(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    await stack.services.procedures.remove(105)
    offer, link = await signed_in(stack, someone, "start-one-procedure")
    page = await stack.http.get(link)
    assert page.status_code == 200
    # No question: the one procedure goes along hidden.
    assert 'type="radio"' not in page.text and "Votre département" not in page.text
    assert '<input type="hidden" name="procedure" value="101">' in page.text
    form = {"offre": offer_token(offer), "accord": "oui", "csrf": csrf(page)}
    created = await stack.http.post(START, data=form)
    assert dossier_location(created).startswith(stack.sandbox.demarches_url)
    [row] = await dossiers_of(stack, offer)
    assert row.procedure == 101


async def test_two_procedures_ask_the_departement_and_need_an_answer(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    offer, link = await signed_in(stack, someone, "start-two-procedures")
    page = await stack.http.get(link)
    assert 'name="procedure" value="101"' in page.text
    assert 'name="procedure" value="105"' in page.text
    base = {"offre": offer_token(offer), "accord": "oui", "csrf": csrf(page)}
    for chosen in ({}, {"procedure": "999"}, {"procedure": ""}):
        refused = await stack.http.post(START, data={**base, **chosen})
        assert refused.status_code == 400, chosen
        assert "Choisissez votre département" in text(refused)
    assert not await dossiers_of(stack, offer)
    assert not await consents_of(stack, someone)
    assert await reads(stack) == 0
    # Two answers are none either.
    both = await stack.http.post(START, data={**base, "procedure": ["101", "105"]})
    assert both.status_code == 400
    # One answer: that procedure's dossier.
    created = await stack.http.post(START, data={**base, "procedure": "101"})
    dossier_location(created)
    [row] = await dossiers_of(stack, offer)
    assert row.procedure == 101


async def test_the_other_departements_procedure_creates_its_dossier(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    offer, link = await signed_in(stack, someone, "start-procedure-105")
    page = await stack.http.get(link)
    form = {"offre": offer_token(offer), "procedure": "105", "accord": "oui", "csrf": csrf(page)}
    created = await stack.http.post(START, data=form)
    dossier_location(created)
    [row] = await dossiers_of(stack, offer)
    assert row.procedure == 105
