"""Citizens: their own data, their consents, and a revocation that bites at once."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import RECIPIENT, Gateway, identity, pick

PREFILL = {"purpose": "citizen_prefill", "recipient": RECIPIENT, "object": "formulaire-rsa"}
SELF = {"purpose": "self_access", "recipient": RECIPIENT, "object": "mon-espace"}
GRANT = """mutation($input: GrantConsentInput!) { grantConsent(input: $input) {
  id client clientName purpose categories validUntil active revokedAt } }"""
REVOKE = "mutation($id: String!) { revokeConsent(id: $id) { id active revokedAt } }"
MINE = "{ myConsents { id client categories active } }"


async def _calls(gateway: Gateway) -> int:
    async with httpx.AsyncClient() as client:
        stats = [
            (await client.get(u + "/_sandbox/stats")).json() for u in gateway.sandbox.urls.values()
        ]
    return sum(s["total"] for s in stats)


async def test_consent_grant_use_and_revocation_through_a_warm_cache(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    await _consent_flow(gateway, persons)


async def test_the_same_with_consents_in_postgresql(
    gateway_pg: Gateway, persons: list[dict[str, Any]]
) -> None:
    await _consent_flow(gateway_pg, persons)


async def _consent_flow(gateway: Gateway, persons: list[dict[str, Any]]) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    citizen = await gateway.citizen_token(entry["index"])
    form = gateway.token_for("demo-form-builder")
    ref = {"identity": identity(entry)}
    selection = (
        "identity { birthName provenance { cached } } resources(months: 3) { missingMonths }"
    )

    before = await _calls(gateway)
    refused = await gateway.person(selection, ref, PREFILL, token=form)
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"CONSENT_REQUIRED"}
    assert await _calls(gateway) == before  # nothing fetched without consent

    granted = (
        await gateway.query(
            GRANT,
            {
                "input": {
                    "client": "demo-form-builder",
                    "categories": ["identite", "ressources"],
                    "until": "2025-12-31",
                }
            },
            token=citizen,
        )
    ).json()["data"]["grantConsent"]
    assert granted["active"] and granted["clientName"]
    mine = (await gateway.query(MINE, token=citizen)).json()["data"]["myConsents"]
    assert [c["id"] for c in mine] == [granted["id"]]

    allowed = await gateway.person(selection, ref, PREFILL, token=form)
    assert "errors" not in allowed
    assert allowed["data"]["person"]["identity"]["birthName"] == entry["personne"]["nomNaissance"]
    warm = await gateway.person(selection, ref, PREFILL, token=form)
    assert warm["data"]["person"]["identity"]["provenance"]["cached"] is True

    revoked = (await gateway.query(REVOKE, {"id": granted["id"]}, token=citizen)).json()
    assert revoked["data"]["revokeConsent"]["active"] is False
    after = await gateway.person(selection, ref, PREFILL, token=form)
    assert after["data"]["person"]["identity"] is None
    assert {e["extensions"]["code"] for e in after["errors"]} == {"CONSENT_REQUIRED"}


async def test_a_citizen_reads_their_own_data(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    citizen = await gateway.citizen_token(entry["index"])
    body = await gateway.person(
        "identity { birthName } benefits { rsa { receiving } } pension { pensions { scheme } }",
        {"franceConnect": True},
        SELF,
        token=citizen,
    )
    assert "errors" not in body, body
    assert body["data"]["person"]["identity"]["birthName"] == entry["personne"]["nomNaissance"]


async def test_a_citizen_cannot_read_someone_else(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    citizen = await gateway.citizen_token(persons[1]["index"])
    body = await gateway.person(
        "identity { birthName }", {"identity": identity(persons[2])}, SELF, token=citizen
    )
    assert body["data"]["person"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_citizen_cannot_revoke_anothers_consent(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    alice = await gateway.citizen_token(persons[1]["index"])
    bob = await gateway.citizen_token(persons[2]["index"])
    granted = (
        await gateway.query(
            GRANT,
            {
                "input": {
                    "purpose": "citizen_prefill",
                    "categories": ["identite"],
                    "until": "2025-08-01",
                }
            },
            token=alice,
        )
    ).json()["data"]["grantConsent"]
    body = (await gateway.query(REVOKE, {"id": granted["id"]}, token=bob)).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    mine = (await gateway.query(MINE, token=alice)).json()["data"]["myConsents"]
    assert mine[0]["active"] is True


async def test_forged_person_tokens_are_refused(gateway: Gateway) -> None:
    for forged in ("not-a-token-at-all", "A" * 43, "forged.person.token"):
        response = await gateway.query(MINE, token=forged)
        assert response.status_code == 401, forged
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_clients_do_not_manage_consents(gateway: Gateway) -> None:
    body = (await gateway.query(MINE)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_bad_consents_are_refused(gateway: Gateway, persons: list[dict[str, Any]]) -> None:
    citizen = await gateway.citizen_token(persons[1]["index"])
    body = (
        await gateway.query(
            GRANT,
            {
                "input": {
                    "purpose": "rsa_instruction",
                    "categories": ["identite"],
                    "until": "2025-08-01",
                }
            },
            token=citizen,
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
