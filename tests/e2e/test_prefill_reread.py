"""A prefilled form is read again when the person submits it, over HTTP with the sandbox
agencies: an agency that failed when the form was shown and answers at submission does not
refuse what the person typed; one that answered when shown and fails at submission gives the
client its typed failure, nothing recorded, and the same submission succeeds once it is back.
The agencies' answers are cached one second (the shortest setting) and every read waits
past it, so that every read reaches the agencies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eligibility import EligibilityService
from tests.e2e.conftest import RECIPIENT, Gateway, RunningSandbox, open_gateway
from tests.e2e.test_prefill import PREFILL, SUBMIT, _person

SELF = {"purpose": "self_access", "recipient": RECIPIENT, "object": "demande-rsa"}
CACHE_TTL = 1  # seconds
AUDIT = "{ auditLog(first: 20) { entries { kind outcome } } }"


@pytest.fixture
async def gateway(
    sandbox: RunningSandbox, tmp_path: Path, reset_faults: None, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    async with open_gateway(sandbox, tmp_path, rules, {"UNEFOIS_CACHE_TTL": str(CACHE_TTL)}) as gw:
        yield gw


async def _faults(gateway: Gateway, agency: str, faults: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.put(gateway.sandbox.urls[agency] + "/_sandbox/faults", json=faults)
        assert answer.status_code == 200, answer.text


async def _prefill(gateway: Gateway, citizen: str) -> dict[str, dict[str, Any]]:
    await asyncio.sleep(CACHE_TTL + 0.1)  # past the answers cached by the read before
    variables = {"ref": {"franceConnect": True}, "ctx": SELF, "form": "rsa"}
    body = (await gateway.query(PREFILL, variables, token=citizen)).json()
    assert "errors" not in body, body.get("errors")
    return {f["id"]: f for f in body["data"]["prefill"]["fields"]}


async def _submit(gateway: Gateway, citizen: str, **lists: Any) -> dict[str, Any]:
    await asyncio.sleep(CACHE_TTL + 0.1)  # past the answers cached by the read before
    variables = {"ref": {"franceConnect": True}, "ctx": SELF, "form": "rsa", **lists}
    body: dict[str, Any] = (await gateway.query(SUBMIT, variables, token=citizen)).json()
    return body


async def _submissions(gateway: Gateway) -> int:
    body = (await gateway.query(AUDIT, token=gateway.token_for("demo-auditor"))).json()
    return sum(e["kind"] == "prefill_submission" for e in body["data"]["auditLog"]["entries"])


async def test_what_the_person_typed_counts_when_the_agency_answers_at_submission(
    gateway: Gateway,
) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    citizen = await gateway.citizen_token(entry["index"])
    known = await _prefill(gateway, citizen)
    assert known["adresse"]["provenance"]["agency"] == "DGFIP"
    await _faults(gateway, "dgfip", {"error_rate": 1.0})
    shown = await _prefill(gateway, citizen)
    await _faults(gateway, "dgfip", {})
    failed = [i for i, f in shown.items() if f["reason"] == "UPSTREAM_UNAVAILABLE"]
    assert {"adresse", "code_postal", "commune"} <= set(failed)
    # The person types what the form showed empty: another street, the same postcode and
    # city as the tax office knows, and the rest as it is.
    typed = {i: known[i]["value"] for i in failed}
    typed["adresse"] = "12 RUE DES LILAS"
    confirmations = [i for i, f in shown.items() if f["state"] == "TO_CONFIRM"]
    body = await _submit(
        gateway,
        citizen,
        confirmations=confirmations,
        provided={**typed, "nationalite": "francaise"},
    )
    assert "errors" not in body, body.get("errors")
    result = body["data"]["submitPrefill"]
    assert "adresse" in result["changed"] and "nationalite" in result["changed"]
    assert "code_postal" not in result["changed"]  # typed as the agency now says it
    fields = {f["id"]: f for f in result["form"]["fields"]}
    assert (fields["adresse"]["value"], fields["adresse"]["provenance"]) == (
        "12 RUE DES LILAS",
        None,
    )
    assert fields["code_postal"]["provenance"]["agency"] == "DGFIP"


@pytest.mark.parametrize(
    ("faults", "code", "retry_in"),
    [
        ({"error_rate": 1.0}, "UPSTREAM_UNAVAILABLE", None),
        ({"rate_limit_rate": 1.0, "retry_after": 7}, "RATE_LIMITED", 7),
    ],
)
async def test_a_confirmation_the_agency_cannot_back_at_submission_is_retried(
    gateway: Gateway, faults: dict[str, Any], code: str, retry_in: int | None
) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    citizen = await gateway.citizen_token(entry["index"])
    shown = await _prefill(gateway, citizen)
    confirmations = [i for i, f in shown.items() if f["state"] == "TO_CONFIRM"]
    assert "adresse" in confirmations
    lists = {"confirmations": confirmations, "provided": {"nationalite": "francaise"}}
    before = await _submissions(gateway)
    await _faults(gateway, "dgfip", faults)
    refused = await _submit(gateway, citizen, **lists)
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("retryIn") == retry_in
    assert "adresse" in error["message"] and "nothing was recorded" in error["message"]
    assert refused["data"] is None
    assert await _submissions(gateway) == before
    await _faults(gateway, "dgfip", {})
    accepted = await _submit(gateway, citizen, **lists)
    assert "errors" not in accepted, accepted.get("errors")
    assert accepted["data"]["submitPrefill"]["submissionId"]
    assert await _submissions(gateway) == before + 1
