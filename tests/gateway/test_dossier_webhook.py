"""DS's webhook at its edges: the secret, the dossier number, the body's size and kind, a
dossier not ours or not yet deposited, DS down while processing, a sealed identity tampered
with, an agency failing while it is processed. The gateway's ASGI app over the sandbox's
agencies and démarches-simplifiées."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from audit import AuditFilter
from gateway.client_store import LiveClients
from gateway.dossiers.start import binding
from gateway.procedure_sync import sync_procedures
from gateway.sealing import Sealer
from store.tables import ds_dossiers
from tests.gateway.dossier_stack import (
    Stack,
    closed_demarches,
    created_dossier,
    deposit,
    dossier_params,
    hook,
    now,
    rules,  # noqa: F401 - the fixture
    sandbox,  # noqa: F401 - the fixture
    someone,  # noqa: F401 - the fixture
    stack,  # noqa: F401 - the fixture
)

Someone = dict[str, Any]


async def submissions(running: Stack) -> list[Any]:
    found = await running.services.audit_reader.entries(AuditFilter(kind="prefill_submission"))
    return list(found.items)


async def accesses(running: Stack) -> int:
    found = await running.services.audit_reader.entries(
        AuditFilter(kind="person_access"), first=500
    )
    return len(found.items)


def no_name_in(caplog: pytest.LogCaptureFixture, entry: Someone) -> None:
    person = entry["personne"]
    given = person["prenoms"] if isinstance(person["prenoms"], list) else [person["prenoms"]]
    for value in (person["nomNaissance"], *given):
        assert str(value) not in caplog.text


async def test_a_wrong_secret_is_not_found_and_processes_nothing(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
) -> None:
    offer, row, url = await created_dossier(stack, someone, "webhook-secret")
    deposit(stack, row.number, url)
    secret = stack.services.ds_webhook_secret
    for wrong in (secret[:-1], secret + "x", secret.upper() if secret.upper() != secret else "x"):
        answer = await stack.http.post(
            "/demarches-simplifiees/notifications/" + wrong, data=dossier_params(row.number)
        )
        assert answer.status_code == 404 and answer.json() == {"error": "not found"}
    # No secret at all: no such route.
    bare = await stack.http.post("/demarches-simplifiees/notifications/", data=dossier_params(1))
    assert bare.status_code == 404
    # The secret is checked before the body is read: a wrong one with a big body is 404 too.
    big = {**dossier_params(row.number), "pad": "x" * 5000}
    assert (
        await stack.http.post("/demarches-simplifiees/notifications/x", data=big)
    ).status_code == 404
    assert (await stack.services.dossiers.get(row.number)).status == "created"
    assert (await stack.services.offers.get(offer)).status != "applied"
    assert not await submissions(stack)
    # The right secret processes it.
    answer = await stack.http.post(hook(stack), data=dossier_params(row.number))
    assert answer.json() == {"result": "processed"}, answer.text


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"procedure_id": "101", "state": "en_construction"}},  # no dossier_id
        {"data": {"dossier_id": ""}},
        {"data": {"dossier_id": "abc"}},
        {"data": {"dossier_id": "-12"}},
        {"data": {"dossier_id": "12.0"}},
        {"data": {"dossier_id": " 12"}},
        {"data": {"dossier_id": "1234567890123"}},  # 13 digits
        {"data": {"dossier_id": "²"}},  # a digit to Unicode, no number to int()
        {"data": {"dossier_id": "١٢"}},  # Arabic-Indic digits
        {"json": {"dossier_id": "abc"}},
        {"json": ["dossier_id", 12]},  # JSON, not an object
        {"json": {"dossier_id": True}},
        {
            "content": b"{not json",
            "headers": {"content-type": "application/json"},
        },
    ],
)
async def test_a_call_without_a_dossier_number_is_a_bad_request(
    stack: Stack,  # noqa: F811 - the fixture imported above
    body: dict[str, Any],
) -> None:
    answer = await stack.http.post(hook(stack), **body)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "dossier_id must be a dossier number"}


async def test_the_body_is_bounded_by_the_webhook_then_by_the_gateway(
    stack: Stack,  # noqa: F811 - the fixture imported above
) -> None:
    params = dossier_params(424242424242)  # twelve digits: a number, not ours
    base = len(httpx.QueryParams({**params, "pad": ""}).__str__().encode())
    exactly = {**params, "pad": "x" * (4096 - base)}
    answer = await stack.http.post(hook(stack), data=exactly)
    assert answer.status_code == 200 and answer.json() == {"result": "not_ours"}
    over = {**params, "pad": "x" * (4097 - base)}
    answer = await stack.http.post(hook(stack), data=over)
    assert answer.status_code == 413 and answer.json() == {"error": "body too large"}
    # Past the gateway's own limit, its middleware answers first, in its own shape.
    limit = stack.settings.max_body_bytes
    huge = {**params, "pad": "x" * limit}
    answer = await stack.http.post(hook(stack), data=huge)
    assert answer.status_code == 413
    assert "errors" in answer.json() and "error" not in answer.json()


async def test_a_dossier_not_ours_is_acknowledged(
    stack: Stack,  # noqa: F811 - the fixture imported above
) -> None:
    for body in (
        {"data": dossier_params(999999)},
        {"json": dossier_params(999999)},
        {"json": {"dossier_id": 999999}},  # a JSON number
        {"data": dossier_params("000000999999")},
    ):
        answer = await stack.http.post(hook(stack), **body)
        assert answer.status_code == 200 and answer.json() == {"result": "not_ours"}, body
    assert not await submissions(stack)


async def test_a_dossier_still_in_brouillon_waits_then_is_processed_once_deposited(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    offer, row, url = await created_dossier(stack, someone, "webhook-brouillon")
    # Created, not deposited: DS's API does not show a brouillon. Left for later.
    answer = await stack.http.post(hook(stack), json=dossier_params(row.number))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": "not_submitted"}
    assert (await stack.services.dossiers.get(row.number)).status == "created"
    assert (await stack.services.offers.get(offer)).status != "applied"
    assert not await submissions(stack)

    deposit(stack, row.number, url)
    answer = await stack.http.post(hook(stack), json=dossier_params(row.number))
    assert answer.status_code == 200 and answer.json() == {"result": "processed"}, answer.text
    assert (await stack.services.dossiers.get(row.number)).status == "processed"
    assert (await stack.services.offers.get(offer)).status == "applied"
    assert len(await submissions(stack)) == 1
    no_name_in(caplog, someone)


async def test_a_deposit_the_gateway_cannot_take_is_rejected_with_its_fields_not_retried(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A negative rent, which DS's decimal champ accepts: the same dossier would fail the same
    # way at every try. Received (200, no retry storm), the field named, nothing recorded.
    caplog.set_level(logging.INFO)
    offer, row, url = await created_dossier(stack, someone, "webhook-rejected")
    deposit(stack, row.number, url, rent="-480")
    reads = []
    for _ in range(2):
        answer = await stack.http.post(hook(stack), data=dossier_params(row.number))
        reads.append(await accesses(stack))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "result": "rejected",
            "code": "BAD_USER_INPUT",
            "reason": "invalid",
            "fields": ["loyer_mensuel"],
        }
    # Asked again about the same version (a sync, another state): the same answer, the
    # person's data not read again.
    assert reads[1] == reads[0]
    stored = await stack.services.dossiers.get(row.number)
    assert stored.status == "rejected"
    # Not among the dossiers a pass over DS retries as they are.
    assert row.number not in [d.number for d in await stack.services.dossiers.pending(now())]
    assert (await stack.services.offers.get(offer)).status != "applied"
    assert not await submissions(stack)
    # The person's space says it was deposited, not taken, and what to change.
    space = html.unescape((await stack.http.get("/mon-espace/propositions")).text)
    assert f"Dossier nº {row.number} déposé sur démarches-simplifiées, mais" in space
    assert "« Loyer mensuel hors charges » à corriger" in space
    assert "pas encore déposé" not in space
    fields = [getattr(r, "fields", None) for r in caplog.records if "rejected" in r.getMessage()]
    assert fields == ["loyer_mensuel"] and "-480" not in caplog.text

    # The person corrects the rent on DS (a dossier en construction can be modified; DS calls
    # no webhook for it): the next sync sees the dossier modified and processes it. DS dates a
    # version to the second: a person's correction comes seconds later at least.
    await asyncio.sleep(1.1)
    deposit(stack, row.number, url, rent="480", button="Enregistrer les modifications")
    registry = await LiveClients().registry(stack.services.clients)
    report = await sync_procedures(stack.services, registry, Sealer(stack.services.seal_key), now)
    total = report.total()
    assert (total.processed, total.rejected) == (1, 0), total
    assert (await stack.services.dossiers.get(row.number)).status == "processed"
    assert (await stack.services.offers.get(offer)).status == "applied"
    space = html.unescape((await stack.http.get("/mon-espace/propositions")).text)
    assert f"Dossier nº {row.number} déposé sur démarches-simplifiées." in space
    no_name_in(caplog, someone)


async def failed_then_processed(
    stack: Stack,  # noqa: F811 - a parameter, not the fixture
    offer: str,
    number: int,
    answer: httpx.Response,
    logged: tuple[pytest.LogCaptureFixture, str],
) -> None:
    """``answer``, the webhook's while something was down: failed, nothing recorded, the kind
    of failure logged for an operator; then DS's next delivery (or a sync) processes it."""
    assert answer.status_code == 503 and answer.json() == {"result": "failed"}
    assert (await stack.services.dossiers.get(number)).status == "failed"
    assert (await stack.services.offers.get(offer)).status != "applied"
    assert not await submissions(stack)
    caplog, kind = logged
    assert kind in caplog.text
    answer = await stack.http.post(hook(stack), data=dossier_params(number))
    assert answer.status_code == 200 and answer.json() == {"result": "processed"}, answer.text
    assert (await stack.services.offers.get(offer)).status == "applied"
    assert len(await submissions(stack)) == 1


async def test_ds_down_while_processing_fails_then_a_retry_processes(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    offer, row, url = await created_dossier(stack, someone, "webhook-ds-down")
    deposit(stack, row.number, url)
    up = stack.services
    async with httpx.AsyncClient() as http:
        stack.swap(closed_demarches(stack, http))
        try:
            answer = await stack.http.post(hook(stack), data=dossier_params(row.number))
        finally:
            stack.swap(up)
    await failed_then_processed(stack, offer, row.number, answer, (caplog, "UpstreamUnavailable"))
    no_name_in(caplog, someone)


async def test_an_agency_failing_while_processing_fails_then_a_retry_processes(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    offer, row, url = await created_dossier(stack, someone, "webhook-agency-down")
    deposit(stack, row.number, url)
    faults = stack.sandbox.urls["gip_mds"] + "/_sandbox/faults"
    async with httpx.AsyncClient() as http:
        assert (await http.put(faults, json={"error_rate": 1.0})).status_code == 200
        try:
            answer = await stack.http.post(hook(stack), data=dossier_params(row.number))
        finally:
            assert (await http.put(faults, json={})).status_code == 200
    # Not recorded on partial data: failed, for DS's next call or a sync.
    await failed_then_processed(stack, offer, row.number, answer, (caplog, "SourceUnavailable"))
    no_name_in(caplog, someone)


async def test_a_tampered_sealed_identity_fails_and_records_nothing(
    stack: Stack,  # noqa: F811 - the fixture imported above
    someone: Someone,  # noqa: F811 - the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    offer, row, url = await created_dossier(stack, someone, "webhook-sealed")
    deposit(stack, row.number, url)
    sealer = Sealer(stack.services.seal_key)
    # A sealed identity copied from another row (sealed for another dossier) does not open
    # here, and neither does one altered in a single character.
    other_row = sealer.seal({"birth_name": "X"}, binding(row.number + 1))
    flipped = row.sealed[:-2] + ("A" if row.sealed[-2] != "A" else "B") + row.sealed[-1]
    for tampered in (other_row, flipped):
        async with stack.services.database.transaction() as conn:
            await conn.execute(
                update(ds_dossiers)
                .where(ds_dossiers.c.number == row.number)
                .values(sealed=tampered)
            )
        answer = await stack.http.post(hook(stack), data=dossier_params(row.number))
        assert answer.status_code == 503 and answer.json() == {"result": "failed"}
        assert (await stack.services.dossiers.get(row.number)).status == "failed"
    assert "SealBroken" in caplog.text
    assert not await submissions(stack)
    assert (await stack.services.offers.get(offer)).status != "applied"
    # The gateway is still up and answers.
    assert (await stack.http.get("/healthz")).status_code == 200
    assert (await stack.http.post(hook(stack), data=dossier_params(999999))).json() == {
        "result": "not_ours"
    }
    no_name_in(caplog, someone)
