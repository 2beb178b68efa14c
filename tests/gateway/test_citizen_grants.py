"""A citizen sees the CSS granted to them automatically in their space, and refuses it, over
the gateway's ASGI app: signed in through the sandbox FranceConnect, the grant made by the real
runner against the sandbox CNAM from the CAF's events, listed in the journal, refused on its
page, and withdrawn at the CNAM and in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit import AuditFilter
from cli.grants import own_triggers
from proactive.campaign import SECTOR
from proactive.grants import GrantRunner, candidates_from_triggers, grant_rules
from proactive.population import identity_from_params
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import Grant, GrantStore
from tests.gateway.test_citizen import csrf, main_text, now
from tests.gateway.test_citizen_renewal import settings_for, space_for
from tests.proactive.test_grants import coverage
from tests.proactive.test_renewal import MONTH, NOW, RECIPIENT

pytestmark = pytest.mark.timeout(600)

REFUSAL = "/mon-espace/droits-automatiques/{}/refus"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=400, seed=17, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def recipients(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    with httpx.Client(timeout=5.0) as http:
        data = http.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "rsa", "limit": 1000},
        ).json()["data"]
    return [e for e in data if e["role"] == "adult" and not e["deceased"]]


async def granted(settings: Any, recipients: list[dict[str, Any]]) -> tuple[Grant, dict[str, Any]]:
    async with Services.open(settings, lambda: NOW) as services:
        _, triggers = await own_triggers(services, lambda: NOW, "grants", grant_rules())
        store = GrantStore(services.database)
        runner = GrantRunner(
            services.exchange,
            services.connectors.cnam,
            store,
            services.offers,
            services.outbox,
            services.pseudonyms,
            services.auditor,
            services.catalogue,
            lambda: NOW,
            recipient=RECIPIENT,
        )
        summary = await runner.run(candidates_from_triggers(triggers), "css-grant-test")
        assert summary.granted >= 1, summary
        row = (await store.for_campaign("css-grant-test"))[0]
        by_pseudonym = {
            services.pseudonyms.pseudonym(identity_from_params(e["personne"]), SECTOR): e
            for e in recipients
        }
    return row, by_pseudonym[row.person]


async def test_a_person_sees_and_refuses_their_automatic_grant(
    sandbox: RunningSandbox, recipients: list[dict[str, Any]], tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path, RECIPIENT)
    grant, entry = await granted(settings, recipients)
    identity = identity_from_params(entry["personne"])
    assert coverage(sandbox, identity)["est_beneficiaire"] is True
    async with space_for(sandbox, settings) as space:
        await space.sign_in(entry["index"])
        journal = await space.http.get("/mon-espace/consultations")
        path = REFUSAL.format(grant.id)
        text = main_text(journal)
        assert "Droits ouverts automatiquement" in text and grant.id in text
        assert "parce que vous avez droit au RSA" in text
        assert f'href="{path}"' in journal.text and "Refuser ce droit" in text
        # The journal's entry for the grant leads to its section, not to the renewals'.
        assert 'href="#droits-automatiques">Comment le contester' in journal.text
        assert 'href="#renouvellements">Comment le contester' not in journal.text

        confirm = await space.http.get(path)
        assert confirm.status_code == 200
        assert grant.id in main_text(confirm)
        assert re.search(rf'<form method="post" action="{re.escape(path)}">', confirm.text)
        assert (await space.http.get(REFUSAL.format("not-mine"))).status_code == 404

        forged = await space.http.post(path, data={})
        assert forged.status_code == 403
        assert coverage(sandbox, identity)["est_beneficiaire"] is True

        done = await space.http.post(path, data={"csrf": csrf(confirm)})
        assert done.status_code == 303
        after = main_text(await space.http.get(done.headers["location"]))
        assert "cette complémentaire santé solidaire est annulée" in after
        assert "Ce droit a été annulé le" in after
        assert coverage(sandbox, identity)["est_beneficiaire"] is False

        async with Services.open(settings, now) as services:
            row = await GrantStore(services.database).get(grant.id)
            page = await services.audit_reader.entries(AuditFilter(kind="automatic_act"), first=100)
        assert row.status == "reverted"
        [undone] = [
            s.entry
            for s in page.items
            if dict(s.entry.details)["action"] == "css_automatic_grant_reverted"
        ]
        assert undone.object == "citizen-refusal" and undone.person == grant.audit_person

        again = await space.http.post(path, data={"csrf": csrf(confirm)})
        assert again.status_code == 303
        assert "déjà annulé" in main_text(await space.http.get(again.headers["location"]))
