"""Eligibility end to end: sandbox agency data → connectors → exchange → OpenFisca-France.

The sandbox's scenario persons have controlled facts; the amounts for the first three were
computed with OpenFisca-France 176.1.8 for 2025-06 (the issue that specified them).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RECIPIENT, Gateway, identity, pick

# Each root field checks its own scope on top of person:read.
SCOPES = "person:read eligibility:read"
CHECK = {"purpose": "eligibility_check", "recipient": RECIPIENT, "object": "entretien-droits"}
Q = """query($ref: PersonRef!, $ctx: AccessContextInput!, $month: String!) {
  eligibility(ref: $ref, context: $ctx, month: $month,
              benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]) {
    benefit status monthlyAmount receiving nonTakeUp missing
    explanation { criteria { text legalBasis { title href } }
                  inputs { name value provenance { agency asOf } } } } }"""


async def _scenario(gateway: Gateway, scenario: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{scenario}", "limit": 10},
        )
    entries: list[dict[str, Any]] = answer.json()["data"]
    return next(e for e in entries if e["role"] == "adult")


async def _eligibility(gateway: Gateway, scenario: str, month: str = "2025-06") -> dict[str, Any]:
    entry = await _scenario(gateway, scenario)
    token = gateway.token_for("demo-agency-app", SCOPES)
    body = (
        await gateway.query(
            Q, {"ref": {"identity": identity(entry)}, "ctx": CHECK, "month": month}, token=token
        )
    ).json()
    assert "errors" not in body, body.get("errors")
    return {r["benefit"]: r for r in body["data"]["eligibility"]}


# These persons are paid nothing, not even the housing aid they are entitled to: the RSA, PPA
# and CSS housing flat rate, which applies to an aid received (CASF R262-10, CSS R844-3,
# R861-5), is not counted (with it: RSA 568.94 €, PPA 261.04 €, a CSS participation of 14 €;
# eligibility/golden/single_adult.yaml).
@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            "seul-35-sans-revenu",
            {"RSA": 646.52, "PPA": None, "CSS": 0.0, "AIDE_LOGEMENT": 301.0},
        ),
        (
            "seul-35-salaire-800",
            {"RSA": None, "PPA": 336.6, "CSS": 0.0, "AIDE_LOGEMENT": 187.0},
        ),
        (
            "seul-67-sans-revenu",
            {"ASPA": 1034.29, "CSS": 25.0, "AIDE_LOGEMENT": 301.0},
        ),
    ],
)
async def test_golden_cases_from_agency_data(
    gateway: Gateway, scenario: str, expected: dict[str, float | None]
) -> None:
    results = await _eligibility(gateway, scenario)
    for benefit, amount in expected.items():
        result = results[benefit]
        if amount is None:
            assert result["status"] == "NOT_ELIGIBLE", (benefit, result)
        else:
            assert result["status"] == "ELIGIBLE", (benefit, result)
            assert result["monthlyAmount"] == pytest.approx(amount, abs=0.01), benefit
            # Nobody in these scenarios receives anything: eligible means non-take-up.
            assert result["receiving"] is False and result["nonTakeUp"] is True
        assert result["explanation"]["criteria"], benefit
        assert all(
            c["legalBasis"]["href"].startswith("https://")
            for c in result["explanation"]["criteria"]
        )
    rsa_inputs = results["RSA"]["explanation"]["inputs"]
    assert rsa_inputs and all(i["provenance"]["agency"] for i in rsa_inputs)


async def test_missing_months_are_never_read_as_zero_income(gateway: Gateway) -> None:
    results = await _eligibility(gateway, "seul-35-mois-manquants")
    rsa = results["RSA"]
    assert rsa["status"] == "CANNOT_EVALUATE"
    assert any("2025-02" in m or "2025-04" in m for m in rsa["missing"]), rsa["missing"]
    # The same months cannot open the ASPA at 35: evaluated at their bounds, it is answered
    # with a note naming them (docs/eligibility.md, "Missing data that does not change the
    # answer").
    aspa = results["ASPA"]
    assert aspa["status"] == "NOT_ELIGIBLE" and aspa["missing"] == [], aspa
    [note] = [
        c["text"]
        for c in aspa["explanation"]["criteria"]
        if c["text"].startswith("Données manquantes sans effet")
    ]
    assert "resources 2025-02" in note and "resources 2025-04" in note


async def test_a_person_without_history_cannot_be_evaluated(gateway: Gateway) -> None:
    # No declaration at all is missing data like any other (docs/sandbox.md): every benefit
    # the months can change answers CANNOT_EVALUATE naming them, and the query raises no
    # error.
    results = await _eligibility(gateway, "seul-35-sans-historique")
    assert set(results) == {"RSA", "PPA", "CSS", "ASPA", "AIDE_LOGEMENT"}
    # But the ASPA, which no resource can open at 35 (every month evaluated at its bounds).
    aspa = results.pop("ASPA")
    assert aspa["status"] == "NOT_ELIGIBLE" and aspa["missing"] == [], aspa
    for benefit, result in results.items():
        assert result["status"] == "CANNOT_EVALUATE", (benefit, result)
        assert result["monthlyAmount"] is None and result["nonTakeUp"] is False
        assert "resources 2023-12" in result["missing"], (benefit, result["missing"])
        assert "resources 2025-05" in result["missing"], (benefit, result["missing"])


async def test_a_deceased_person_is_not_evaluated(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, deceased=True)
    died = entry["date_deces"]  # what the sandbox's civil registry holds for them
    token = gateway.token_for("demo-agency-app", SCOPES)

    async def statuses(month: str) -> dict[str, dict[str, Any]]:
        variables = {"ref": {"identity": identity(entry)}, "ctx": CHECK, "month": month}
        body = (await gateway.query(Q, variables, token=token)).json()
        assert "errors" not in body, body.get("errors")
        return {r["benefit"]: r for r in body["data"]["eligibility"]}

    # The month of the death, and any later one: no benefit is evaluated.
    for month in (died[:7], _next_month(died[:7])):
        results = await statuses(month)
        assert set(results) == {"RSA", "PPA", "CSS", "ASPA", "AIDE_LOGEMENT"}
        for benefit, result in results.items():
            assert result["status"] == "DECEASED", (month, benefit, result)
            assert result["monthlyAmount"] is None and result["nonTakeUp"] is False
            assert result["missing"] == []
            [why] = result["explanation"]["criteria"]
            assert died in why["text"] and why["legalBasis"]["href"].startswith("https://")
            [used] = result["explanation"]["inputs"]
            assert used["name"] == "date_deces" and used["value"] == died
            assert used["provenance"]["agency"]
    # The month before, the person was alive: evaluated as anyone else.
    before = await statuses(_next_month(died[:7], -1))
    assert all(r["status"] != "DECEASED" for r in before.values()), before


def _next_month(month: str, delta: int = 1) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@pytest.mark.parametrize(
    ("month", "code"), [("2025-13", "BAD_USER_INPUT"), ("1990-01", "BAD_USER_INPUT")]
)
async def test_bad_months(gateway: Gateway, month: str, code: str) -> None:
    entry = await _scenario(gateway, "seul-35-sans-revenu")
    body = (
        await gateway.query(
            Q,
            {"ref": {"identity": identity(entry)}, "ctx": CHECK, "month": month},
            token=gateway.token_for("demo-agency-app", SCOPES),
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == code


async def test_a_bad_month_under_person_is_a_typed_error_at_its_field(gateway: Gateway) -> None:
    """Two eligibilities under one person, one with a malformed month: one typed error, at
    that field's path (its list is non-null: the null reaches the person, as GraphQL says)."""
    entry = await _scenario(gateway, "seul-35-sans-revenu")
    query = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
      person(ref: $ref, context: $ctx) {
        a: eligibility(benefits: [CSS], month: "2025-13") { status }
        b: eligibility(benefits: [CSS], month: "2025-06") { benefit status } } }"""
    body = (
        await gateway.query(
            query,
            {"ref": {"identity": identity(entry)}, "ctx": CHECK},
            token=gateway.token_for("demo-agency-app", SCOPES),
        )
    ).json()
    [error] = body["errors"]
    assert error["path"] == ["person", "a"] and error["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["data"] == {"person": None}


async def test_unknown_benefit(gateway: Gateway) -> None:
    body = (
        await gateway.query(
            '{ eligibility(ref: {}, context: {purpose: "x", recipient: "1", object: "o"}, '
            'month: "2025-06", benefits: [NOPE]) { status } }'
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_eligibility_under_person_is_one_audited_access(gateway: Gateway) -> None:
    entry = await _scenario(gateway, "seul-35-sans-revenu")
    q = """query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {
      accessId eligibility(month: "2025-06", benefits: [RSA]) { status monthlyAmount } } }"""
    body = (
        await gateway.query(
            q,
            {"ref": {"identity": identity(entry)}, "ctx": CHECK},
            token=gateway.token_for("demo-agency-app", SCOPES),
        )
    ).json()
    assert "errors" not in body, body
    (rsa,) = body["data"]["person"]["eligibility"]
    assert rsa["status"] == "ELIGIBLE" and rsa["monthlyAmount"] == pytest.approx(646.52, abs=0.01)
    assert body["data"]["person"]["accessId"]


async def test_one_benefit_reads_only_what_its_rules_need(gateway: Gateway) -> None:
    """The CSS alone gives the answer it has among all five without reading the other
    benefits' payments, nor the CNAV's record of someone the identity given says is 35, as the
    access's audit entry shows."""
    entry = await _scenario(gateway, "seul-35-sans-revenu")
    token = gateway.token_for("demo-agency-app", SCOPES)
    ctx = {**CHECK, "object": "css-seule"}
    query = Q.replace("benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]", "benefits: [CSS]")
    body = (
        await gateway.query(
            query,
            {"ref": {"identity": identity(entry)}, "ctx": ctx, "month": "2025-06"},
            token=token,
        )
    ).json()
    assert "errors" not in body, body.get("errors")
    [css] = body["data"]["eligibility"]
    assert css["benefit"] == "CSS" and css["status"] == "ELIGIBLE"
    assert css["monthlyAmount"] == pytest.approx(0.0, abs=0.01)
    log = """query($filter: AuditFilterInput) { auditLog(filter: $filter, first: 5) {
      entries { object released agencies } } }"""
    auditor = gateway.token_for("demo-auditor")
    got = (await gateway.query(log, {"filter": {"object": "css-seule"}}, token=auditor)).json()
    [access] = got["data"]["auditLog"]["entries"]
    released = set(access["released"])
    assert {"benefits.css", "resources", "housing", "studentStatus"} <= released
    assert not released & {"benefits.rsa", "benefits.primeActivite", "pension", "benefits.aspa"}
    assert "cnav" not in access["agencies"]


async def test_no_benefit_asked_is_refused_before_anything_is_read(gateway: Gateway) -> None:
    entry = await _scenario(gateway, "seul-35-sans-revenu")
    token = gateway.token_for("demo-agency-app", SCOPES)
    ctx = {**CHECK, "object": "aucune-prestation"}
    query = Q.replace("benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]", "benefits: []")
    variables = {"ref": {"identity": identity(entry)}, "ctx": ctx, "month": "2025-06"}
    body = (await gateway.query(query, variables, token=token)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "one or more" in body["errors"][0]["message"]
    nested = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
      person(ref: $ref, context: $ctx) { eligibility(benefits: [], month: "2025-06") { status } }
    }"""
    body = (await gateway.query(nested, variables, token=token)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    log = """query($filter: AuditFilterInput) { auditLog(filter: $filter, first: 5) {
      entries { object released } } }"""
    auditor = gateway.token_for("demo-auditor")
    got = (
        await gateway.query(log, {"filter": {"object": "aucune-prestation"}}, token=auditor)
    ).json()
    # The root query read nothing; the nested one read the person with no field.
    assert all(e["released"] == [] for e in got["data"]["auditLog"]["entries"])


NESTED = """query($ref: PersonRef!, $ctx: AccessContextInput!, $month: String!) {
  person(ref: $ref, context: $ctx) {
    handle eligibility(month: $month, benefits: [CSS]) { benefit status } } }"""


@pytest.mark.parametrize("nested", [False, True], ids=["root", "under-person"])
async def test_asked_by_handle_the_persons_age_still_spares_the_cnav(
    gateway: Gateway, nested: bool
) -> None:
    """A handle says nothing of the person to the schema; the exchange, once it has opened
    it, leaves out the CNAV's record of someone too young for the ASPA, and reads it for
    someone old enough (as the access's audit entry shows); under ``person`` as at the root."""
    token = gateway.token_for("demo-agency-app", SCOPES)
    auditor = gateway.token_for("demo-auditor")
    log = """query($filter: AuditFilterInput) { auditLog(filter: $filter, first: 5) {
      entries { object released agencies } } }"""
    handle_query = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
      person(ref: $ref, context: $ctx) { handle } }"""
    query = (
        NESTED
        if nested
        else Q.replace("benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]", "benefits: [CSS]")
    )
    for scenario, reads_cnav in (("seul-35-sans-revenu", False), ("seul-67-sans-revenu", True)):
        entry = await _scenario(gateway, scenario)
        ref = {"identity": identity(entry)}
        got = await gateway.query(handle_query, {"ref": ref, "ctx": CHECK}, token=token)
        handle = got.json()["data"]["person"]["handle"]
        ctx = {**CHECK, "object": f"par-handle-{scenario}-{nested}"}
        variables = {"ref": {"handle": handle}, "ctx": ctx, "month": "2025-06"}
        body = (await gateway.query(query, variables, token=token)).json()
        assert "errors" not in body, body.get("errors")
        data = body["data"]["person"] if nested else body["data"]
        [css] = data["eligibility"]
        assert css["benefit"] == "CSS" and css["status"] != "CANNOT_EVALUATE"
        filter = {"filter": {"object": ctx["object"]}}
        [access] = (await gateway.query(log, filter, token=auditor)).json()["data"]["auditLog"][
            "entries"
        ]
        assert ("cnav" in access["agencies"]) is reads_cnav, scenario
        assert ("pension" in access["released"]) is reads_cnav, scenario
