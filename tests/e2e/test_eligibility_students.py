"""Students' housing aid end to end: the MESRI's status and the CNOUS's grant, read from the
sandbox agencies over HTTP, fed to OpenFisca-France, shown with their source, and read only
for someone young enough for housing aid to depend on them (CCH R822-20)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import CONTEXT, RECIPIENT, Gateway, identity

SCOPES = "person:read eligibility:read"
CHECK = {"purpose": "eligibility_check", "recipient": RECIPIENT, "object": "etudiant"}
# The shipped purposes release the CNOUS's grant from 6 December 2026, after the sandbox's
# June 2025: the grant is read here under the test purpose granted every category.
EVERYTHING = {**CONTEXT, "object": "etudiant"}
GRANT = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  person(ref: $ref, context: $ctx) {
    studentStatus { inInitialTraining }
    studentGrant { holder echelon start months provenance { agency source } } } }"""
HOUSING = """query($ref: PersonRef!, $ctx: AccessContextInput!, $month: String!) {
  eligibility(ref: $ref, context: $ctx, month: $month, benefits: [AIDE_LOGEMENT]) {
    benefit status monthlyAmount missing
    explanation { criteria { legalBasis { title } }
                  inputs { name value provenance { agency } } } } }"""
LOG = """query($filter: AuditFilterInput) { auditLog(filter: $filter, first: 5) {
  entries { object released } } }"""


async def _persons(gateway: Gateway, kind: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": kind, "limit": 200},
        )
    return [e for e in answer.json()["data"] if e["role"] == "adult" and not e["deceased"]]


async def _released(gateway: Gateway, object_: str) -> set[str]:
    auditor = gateway.token_for("demo-auditor")
    got = (await gateway.query(LOG, {"filter": {"object": object_}}, token=auditor)).json()
    [access] = got["data"]["auditLog"]["entries"]
    return set(access["released"])


async def test_a_grant_holders_housing_aid_reads_the_cnous(gateway: Gateway) -> None:
    token = gateway.token_for("demo-agency-app", SCOPES)
    holder = None
    for entry in await _persons(gateway, "etudiant"):
        if entry["unknown_to_caf"] or entry["homonym_of"] is not None:
            continue
        ref = {"identity": identity(entry)}
        body = (await gateway.query(GRANT, {"ref": ref, "ctx": EVERYTHING}, token=token)).json()
        person = body["data"]["person"]
        if person["studentGrant"] and person["studentGrant"]["holder"]:
            holder = entry, person
            break
    assert holder is not None, "no grant holder among the sandbox's students"
    entry, person = holder
    grant = person["studentGrant"]
    assert grant["provenance"]["agency"] == "CNOUS"
    assert grant["echelon"].startswith("ECHELON_") and grant["months"] == 10
    assert grant["start"] == "2024-09-01"  # the academic year of June 2025
    assert person["studentStatus"]["inInitialTraining"] is True

    ctx = {**EVERYTHING, "object": "etudiant-boursier"}
    variables = {"ref": {"identity": identity(entry)}, "ctx": ctx, "month": "2025-06"}
    body = (await gateway.query(HOUSING, variables, token=token)).json()
    assert "errors" not in body, body.get("errors")
    [housing] = body["data"]["eligibility"]
    assert "student grant" not in housing["missing"]
    used = {i["name"]: i for i in housing["explanation"]["inputs"]}
    assert (used["boursier"]["value"], used["boursier"]["provenance"]["agency"]) == (
        "oui",
        "CNOUS",
    )
    assert (used["etudiant"]["value"], used["etudiant"]["provenance"]["agency"]) == (
        "oui",
        "MESRI",
    )
    titles = [c["legalBasis"]["title"] for c in housing["explanation"]["criteria"]]
    assert "CCH art. R822-20" in titles
    assert {"studentStatus", "studentGrant"} <= await _released(gateway, ctx["object"])


async def test_at_35_housing_aid_reads_neither_the_mesri_nor_the_cnous(gateway: Gateway) -> None:
    token = gateway.token_for("demo-agency-app", SCOPES)
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "scenario:seul-35-sans-revenu", "limit": 10},
        )
    entry = next(e for e in answer.json()["data"] if e["role"] == "adult")
    ctx = {**CHECK, "object": "logement-35-ans"}
    variables = {"ref": {"identity": identity(entry)}, "ctx": ctx, "month": "2025-06"}
    body = (await gateway.query(HOUSING, variables, token=token)).json()
    assert "errors" not in body, body.get("errors")
    [housing] = body["data"]["eligibility"]
    assert housing["status"] == "ELIGIBLE" and not housing["missing"]
    names = {i["name"] for i in housing["explanation"]["inputs"]}
    assert not names & {"etudiant", "boursier"}
    released = await _released(gateway, ctx["object"])
    assert "housing" in released and not released & {"studentStatus", "studentGrant"}
