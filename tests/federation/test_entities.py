"""The gateway as a federation subgraph, in-process: ``_service`` and ``_entities`` under the
access context of the request's headers, decided, audited and typed as ``person`` is."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import RECIPIENT, Gateway, identity, pick

RSA = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "dossier-fed-1"}
HEADERS = {
    "Unefois-Purpose": "rsa_instruction",
    "Unefois-Recipient": RECIPIENT,
    "Unefois-Object": "dossier-fed-1",
}
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename ... on Person { accessId identity { birthName } benefits { rsa { receiving } } } } }"""
LOG = """query($filter: AuditFilterInput) { auditLog(filter: $filter, first: 20) {
  entries { id kind client purpose recipient object released agencies outcome } } }"""


async def _post(
    gateway: Gateway, query: str, variables: dict[str, Any], headers: dict[str, str], token: str
) -> httpx.Response:
    return await gateway.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", **headers},
    )


async def _handle(gateway: Gateway, entry: dict[str, Any], token: str) -> str:
    body = await gateway.person("handle", {"identity": identity(entry)}, RSA, token=token)
    handle: str = body["data"]["person"]["handle"]
    return handle


async def _log(gateway: Gateway, obj: str) -> list[dict[str, Any]]:
    auditor = gateway.token_for("demo-auditor")
    body = (await gateway.query(LOG, {"filter": {"object": obj}}, token=auditor)).json()
    entries: list[dict[str, Any]] = body["data"]["auditLog"]["entries"]
    return entries


async def test_the_subgraph_sdl_is_served_with_introspection_off(gateway: Gateway) -> None:
    assert gateway.settings.introspection is False
    refused = (await gateway.query("{ __schema { queryType { name } } }")).json()
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = (await gateway.query("{ _service { sdl } }")).json()
    sdl = body["data"]["_service"]["sdl"]
    assert 'type Person @key(fields: "handle")' in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl


async def test_an_entity_is_read_under_the_headers_context_and_audited(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    token = gateway.token_for("demo-agency-app")
    handle = await _handle(gateway, entry, token)
    variables = {"r": [{"__typename": "Person", "handle": handle}]}
    body = (await _post(gateway, ENTITIES, variables, HEADERS, token)).json()
    assert "errors" not in body, body
    person = body["data"]["_entities"][0]
    assert person["__typename"] == "Person"
    assert person["identity"]["birthName"] == entry["personne"]["nomNaissance"]
    assert isinstance(person["benefits"]["rsa"]["receiving"], bool)
    mine = next(e for e in await _log(gateway, "dossier-fed-1") if e["id"] == person["accessId"])
    assert mine["kind"] == "person_access" and mine["client"] == "demo-agency-app"
    assert (mine["purpose"], mine["recipient"]) == ("rsa_instruction", RECIPIENT)
    # Exactly the fields of the ``... on Person`` selection were decided and read.
    assert sorted(mine["released"]) == ["benefits.rsa", "identity"]


async def test_a_field_outside_the_purpose_is_refused_typed(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    token = gateway.token_for("demo-agency-app")
    handle = await _handle(gateway, entry, token)
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Person { identity { birthName } pension { pensions { scheme } } } } }"""
    variables = {"r": [{"__typename": "Person", "handle": handle}]}
    body = (await _post(gateway, query, variables, HEADERS, token)).json()
    assert body["data"]["_entities"][0]["identity"]["birthName"]
    [error] = body["errors"]
    assert error["path"] == ["_entities", 0, "pension"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_missing_or_invalid_headers_read_nothing(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    token = gateway.token_for("demo-agency-app")
    handle = await _handle(gateway, entry, token)
    variables = {"r": [{"__typename": "Person", "handle": handle}]}
    without = {k: v for k, v in HEADERS.items() if k != "Unefois-Object"}
    body = (await _post(gateway, ENTITIES, variables, without, token)).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Unefois-Object" in error["message"] and "Unefois-Purpose" in error["message"]
    assert body["data"]["_entities"] == [None]
    bad = {**HEADERS, "Unefois-Recipient": "12345678901234", "Unefois-Object": "dossier-fed-2"}
    body = (await _post(gateway, ENTITIES, variables, bad, token)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Unefois-Recipient" in body["errors"][0]["message"]
    assert await _log(gateway, "dossier-fed-2") == []


async def test_entities_need_the_person_scope(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    handle = await _handle(gateway, entry, gateway.token_for("demo-agency-app"))
    variables = {"r": [{"__typename": "Person", "handle": handle}]}
    headers = {**HEADERS, "Unefois-Object": "dossier-fed-3"}
    token = gateway.token_for("demo-agency-app", scope="prefill:read")
    body = (await _post(gateway, ENTITIES, variables, headers, token)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _log(gateway, "dossier-fed-3") == []


async def test_an_entitys_eligibility_needs_the_eligibility_scope(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    # A router forwarding a person:read token cannot run the rules through ``... on Person``:
    # refused before any agency is called, nothing recorded.
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    handle = await _handle(gateway, entry, gateway.token_for("demo-agency-app"))
    variables = {"r": [{"__typename": "Person", "handle": handle}]}
    headers = {**HEADERS, "Unefois-Object": "dossier-fed-4"}
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Person { eligibility(benefits: [RSA], month: "2025-06") { status } } } }"""
    token = gateway.token_for("demo-agency-app", scope="person:read")
    body = (await _post(gateway, query, variables, headers, token)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert "eligibility:read" in body["errors"][0]["message"]
    assert await _log(gateway, "dossier-fed-4") == []
    # The same through the union first (``... on _Entity { ... on Person { … } }``).
    wrapped = """query($r: [_Any!]!) { _entities(representations: $r) { ... on _Entity {
      ... on Person { eligibility(benefits: [RSA], month: "2025-06") { status } } } } }"""
    body = (await _post(gateway, wrapped, variables, headers, token)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await _log(gateway, "dossier-fed-4") == []
    # And a field under the union is read like one under Person (decided, audited).
    fields = """query($r: [_Any!]!) { _entities(representations: $r) { ... on _Entity {
      ... on Person { identity { birthName } } } } }"""
    body = (await _post(gateway, fields, variables, headers, token)).json()
    assert body["data"]["_entities"][0]["identity"]["birthName"], body
    [entry] = await _log(gateway, "dossier-fed-4")
    assert entry["released"] == ["identity"]


async def test_an_identity_no_agency_knows_gets_no_handle(gateway: Gateway) -> None:
    nobody = {
        "birthName": "PERSONNE",
        "givenNames": ["INCONNUE"],
        "birthDate": "1901-01-01",
        "sex": "F",
        "birthCountry": "99100",
        "birthPlace": "75056",
    }
    token = gateway.token_for("demo-agency-app")
    body = await gateway.person(
        "handle identity { birthName } benefits { rsa { receiving } }",
        {"identity": nobody},
        RSA,
        token=token,
    )
    assert body["data"]["person"]["handle"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"NOT_FOUND"}
