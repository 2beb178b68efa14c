"""Job seekers end to end: the sandbox's France Travail registration and payments, through the
connectors (``ref.franceTravailId``), reach OpenFisca's ``activite`` and ``date_debut_chomage``.

The two scenario persons have the facts of ``eligibility/golden/job_seekers.yaml``, whose
amounts OpenFisca-France 176.1.8 computes on hand-written situations for 2025-06
(``tests/eligibility/test_employment_golden.py``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RECIPIENT, Gateway, identity

SCOPES = "person:read eligibility:read"
CHECK = {"purpose": "eligibility_check", "recipient": RECIPIENT, "object": "entretien-droits"}
Q = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  eligibility(ref: $ref, context: $ctx, month: "2025-06",
              benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]) {
    benefit status monthlyAmount missing
    explanation { inputs { name value provenance { agency } } } } }"""


async def _person(gateway: Gateway, scenario: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{scenario}", "limit": 10},
        )
    [entry] = answer.json()["data"]
    assert entry["identifiant_france_travail"], entry
    return entry


async def _eligibility(
    gateway: Gateway, entry: dict[str, Any], with_identifier: bool
) -> dict[str, dict[str, Any]]:
    ref: dict[str, Any] = {"identity": identity(entry)}
    if with_identifier:
        ref["franceTravailId"] = entry["identifiant_france_travail"]
    token = gateway.token_for("demo-agency-app", SCOPES)
    body = (await gateway.query(Q, {"ref": ref, "ctx": CHECK}, token=token)).json()
    assert "errors" not in body, body.get("errors")
    return {r["benefit"]: r for r in body["data"]["eligibility"]}


def _input(result: dict[str, Any], name: str) -> dict[str, Any]:
    [used] = [i for i in result["explanation"]["inputs"] if i["name"] == name]
    return used


def _amount(result: dict[str, Any]) -> float | None:
    assert result["status"] in ("ELIGIBLE", "NOT_ELIGIBLE"), result
    amount: float | None = result["monthlyAmount"]
    return amount


async def test_an_indemnified_job_seekers_past_salaries_are_abated(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-chomeur-indemnise")
    known = await _eligibility(gateway, entry, with_identifier=True)
    # Housing aid 99 instead of 0, the CSS with a participation instead of none: 30 % of
    # the salaries of the reference year abated (CCH R822-14, CSS R861-8).
    assert _amount(known["AIDE_LOGEMENT"]) == pytest.approx(99.0, abs=0.01)
    assert _amount(known["CSS"]) == pytest.approx(14.0, abs=0.01)
    assert known["RSA"]["status"] == "NOT_ELIGIBLE"
    status = _input(known["AIDE_LOGEMENT"], "activite")
    assert status["value"].startswith("chomeur (registered")
    assert status["provenance"]["agency"] == "France Travail"
    assert _input(known["AIDE_LOGEMENT"], "date_debut_chomage")["value"] == "2025-03-01"
    # Without the identifier the allowance GIP-MDS declares is enough: it is paid only to a
    # registered job seeker, since its first month.
    alone = await _eligibility(gateway, entry, with_identifier=False)
    for benefit in ("AIDE_LOGEMENT", "CSS", "RSA"):
        assert alone[benefit]["status"] == known[benefit]["status"], benefit
        assert alone[benefit]["monthlyAmount"] == known[benefit]["monthlyAmount"], benefit
    assert _input(alone["CSS"], "activite")["provenance"]["agency"] == "GIP-MDS"


async def test_a_non_indemnified_job_seekers_income_is_neutralised(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-chomeur-non-indemnise")
    known = await _eligibility(gateway, entry, with_identifier=True)
    # Housing aid 301 instead of 71: the salaries of the rolling year are left out (CCH
    # R822-15), and the RSA's housing flat rate follows the full aid.
    assert _amount(known["AIDE_LOGEMENT"]) == pytest.approx(301.0, abs=0.01)
    # No housing aid is paid to them: no housing flat rate (eligibility.paid).
    assert _amount(known["RSA"]) == pytest.approx(646.52, abs=0.01)
    assert _amount(known["CSS"]) == 0.0
    assert _input(known["RSA"], "activite")["provenance"]["agency"] == "France Travail"
    # Without the identifier a job seeker without allowance cannot be seen: the status is
    # evaluated both ways; entitled either way, the housing aid names it (301 € registered,
    # 71 € not); the RSA, without a housing aid received, is the same either way.
    alone = await _eligibility(gateway, entry, with_identifier=False)
    housing = alone["AIDE_LOGEMENT"]
    assert (housing["status"], housing["monthlyAmount"]) == ("ELIGIBLE", None), housing
    assert housing["missing"] == ["job-seeker status (France Travail)"]
    assert _amount(alone["RSA"]) == pytest.approx(646.52, abs=0.01)
    assert alone["CSS"]["status"] == "ELIGIBLE" and alone["CSS"]["monthlyAmount"] == 0.0
