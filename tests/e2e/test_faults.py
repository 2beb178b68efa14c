"""Each agency timing out, failing, answering garbage or about someone else: partial data,
typed errors, the process up and the other agencies' fields intact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eligibility import EligibilityService
from policies import load_catalogue
from sandbox import RunningSandbox
from tests.catalogue import with_everything
from tests.e2e.conftest import (
    RECIPIENT,
    Gateway,
    identity,
    open_gateway,
    pick,
    short_timeout,
)

# One person-view field per agency.
FIELD_OF = {
    "api_particulier": "household",
    "gip_mds": "resources",
    "dgfip": "taxHousehold",
    "cnav": "pension",
    "cnam": "healthCoverage",
    "housing": "housing",
    "civil_registry": "identity",
}
SELECTION = " ".join(f"{field} {{ provenance {{ agency }} }}" for field in FIELD_OF.values())
FAULTS = {
    "timeout": ({"timeout_rate": 1.0, "hang_seconds": 5.0}, "UPSTREAM_TIMEOUT"),
    "error": ({"error_rate": 1.0}, "UPSTREAM_UNAVAILABLE"),
    "garbage": ({"malformed_rate": 1.0}, "UPSTREAM_INVALID"),
    "another_person": ({"wrong_person_rate": 1.0}, "UPSTREAM_INVALID"),
    "rate_limited": ({"rate_limit_rate": 1.0, "retry_after": 7}, "RATE_LIMITED"),
}


@pytest.fixture
async def gateway(
    request: pytest.FixtureRequest,
    sandbox: RunningSandbox,
    tmp_path: Path,
    reset_faults: None,
    rules: EligibilityService,
) -> AsyncIterator[Gateway]:
    """The gateway with the calls of the agency a test faults (its ``agency`` parameter, else
    the civil registry) bounded at ``FAULT_TIMEOUT``: hung, it is waited out for a second."""
    params = getattr(request.node, "callspec", None)
    agency = params.params.get("agency", "civil_registry") if params else "civil_registry"
    async with open_gateway(sandbox, tmp_path, rules, short_timeout(agency)) as gw:
        yield gw


async def _set_faults(gateway: Gateway, agency: str, faults: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.put(gateway.sandbox.urls[agency] + "/_sandbox/faults", json=faults)
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("agency", sorted(FIELD_OF))
async def test_agency_fault_gives_partial_data_with_a_typed_error(
    gateway: Gateway, persons: list[dict[str, Any]], agency: str, fault: str
) -> None:
    faults, code = FAULTS[fault]
    ref = {"identity": identity(pick(persons, household_kind="single", unknown_to_caf=False))}
    await _set_faults(gateway, agency, faults)
    body = await gateway.person(SELECTION, ref)
    person = body["data"]["person"]
    broken = FIELD_OF[agency]
    assert person[broken] is None
    (error,) = body["errors"]
    assert error["path"] == ["person", broken]
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("provider")
    if code == "RATE_LIMITED":
        assert error["extensions"]["retryIn"] == 7
    # Nothing of the upstream leaks: no address, no body.
    assert "127.0.0.1" not in str(error) and "http" not in error["message"]
    for other, field in FIELD_OF.items():
        if other != agency:
            assert person[field]["provenance"]["agency"], field


ELIGIBILITY = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  eligibility(ref: $ref, context: $ctx, month: "2025-06", benefits: [RSA]) { status } }"""
NESTED_ELIGIBILITY = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  person(ref: $ref, context: $ctx) {
    eligibility(month: "2025-06", benefits: [RSA]) { status } } }"""
ELIGIBILITY_SCOPES = "person:read eligibility:read"
CHECK = {"purpose": "eligibility_check", "recipient": RECIPIENT, "object": "entretien-droits"}


@pytest.mark.parametrize("query", [ELIGIBILITY, NESTED_ELIGIBILITY], ids=["root", "nested"])
@pytest.mark.parametrize("fault", ["timeout", "error", "rate_limited"])
async def test_eligibility_without_the_civil_registry_says_it_did_not_answer(
    gateway: Gateway, persons: list[dict[str, Any]], fault: str, query: str
) -> None:
    """Not FORBIDDEN: the civil status was not refused, it could not be read; the client
    may try again (``retryIn`` when the registry said when)."""
    faults, code = FAULTS[fault]
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    await _set_faults(gateway, "civil_registry", faults)
    token = gateway.token_for("demo-agency-app", ELIGIBILITY_SCOPES)
    body = (await gateway.query(query, {"ref": ref, "ctx": CHECK}, token=token)).json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["provider"]
    assert error["message"].startswith("eligibility needs the person's civil status")
    if code == "RATE_LIMITED":
        assert error["extensions"]["retryIn"] == 7


async def test_the_gateway_recovers_when_the_agency_does(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    await _set_faults(gateway, "dgfip", {"error_rate": 1.0})
    failed = await gateway.person("taxHousehold { incomeYear }", ref)
    assert failed["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    await _set_faults(gateway, "dgfip", {})
    ok = await gateway.person("taxHousehold { incomeYear }", ref)
    assert "errors" not in ok and ok["data"]["person"]["taxHousehold"]["incomeYear"] == 2023


async def test_an_open_circuit_answers_at_once_and_readyz_tells(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    await _set_faults(gateway, "cnam", {"error_rate": 1.0})
    for entry in persons[:8]:
        await gateway.person("healthCoverage { fundCode }", {"identity": identity(entry)})
    ready = await gateway.http.get("/readyz")
    # Shown, not a reason to take the replica out: every replica shares the agency.
    assert ready.status_code == 200
    assert ready.json()["upstreams"]["cnam"] == "open"
    async with httpx.AsyncClient() as client:
        await client.delete(gateway.sandbox.urls["cnam"] + "/_sandbox/stats")
        body = await gateway.person(
            "healthCoverage { fundCode }", {"identity": identity(persons[9])}
        )
        stats = (await client.get(gateway.sandbox.urls["cnam"] + "/_sandbox/stats")).json()
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert stats["paths"] == {}  # the open circuit did not call the agency


FLOOD_PURPOSE = """\
id: e2e_flood
label: Jeu d'essai (e2e_flood)
legal_basis:
  title: Jeu d'essai (bac à sable)
  href: https://example.org/e2e_flood
lawful_ground: public_task
clients: []
groups: [caf]
retention_days: 1
categories:
  2000-01-01: [{categories}]
"""


async def test_one_clients_bad_requests_never_cut_an_agency_off_for_another(
    sandbox: RunningSandbox,
    tmp_path: Path,
    reset_faults: None,
    rules: EligibilityService,
    persons: list[dict[str, Any]],
) -> None:
    # The CAF's demo client may ask for every field under a purpose of its own, so that its
    # bad requests reach the agencies; the department's demo client is the one harmed, if any.
    policies = with_everything(tmp_path / "flood", "e2e_everything")
    categories = ", ".join(sorted(load_catalogue().categories))
    (policies / "purposes" / "e2e_flood.yaml").write_text(
        FLOOD_PURPOSE.format(categories=categories), encoding="utf-8"
    )
    extra = {"UNEFOIS_POLICIES_DIR": str(policies)}
    async with open_gateway(sandbox, tmp_path, rules, extra) as gateway:
        flooder = gateway.token_for("demo-caf")
        flood = {"purpose": "e2e_flood", "recipient": RECIPIENT, "object": "dossier-1"}
        unknown = {**identity(persons[0]), "birthName": "INCONNUE"}
        for n in range(8):
            # The finding's recipient (a trailing line break, a wrong Luhn key): refused here.
            bad = {**flood, "recipient": "13002526500004\n"}
            body = await gateway.person(SELECTION, {"identity": unknown}, bad, token=flooder)
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            # A person no agency knows: every agency answers 404, caused by the request.
            body = await gateway.person(SELECTION, {"identity": unknown}, flood, token=flooder)
            codes = {e["extensions"]["code"] for e in body["errors"]}
            assert "UPSTREAM_UNAVAILABLE" not in codes, (n, codes)
        ready = await gateway.http.get("/readyz")
        assert set(ready.json()["upstreams"].values()) == {"closed"}
        ref = {"identity": identity(pick(persons, household_kind="single", unknown_to_caf=False))}
        body = await gateway.person(SELECTION, ref)
        assert "errors" not in body, body["errors"]
        for field in FIELD_OF.values():
            assert body["data"]["person"][field]["provenance"]["agency"], field
