"""Prefilled forms end to end: filled from agency data, checked by the person, recorded."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import RECIPIENT, Gateway, identity

CTX = {"purpose": "e2e_everything", "recipient": RECIPIENT, "object": "demande-rsa"}
PREFILL = """query($ref: PersonRef!, $ctx: AccessContextInput!, $form: String!) {
  prefill(ref: $ref, context: $ctx, form: $form) {
    form title accessId missingSources dsPayload
    fields { id label type required value state provenance { agency source asOf } } } }"""
SUBMIT = """mutation($ref: PersonRef!, $ctx: AccessContextInput!, $form: String!,
                   $confirmations: [String!]!, $corrections: JSON, $provided: JSON) {
  submitPrefill(ref: $ref, context: $ctx, form: $form, confirmations: $confirmations,
                corrections: $corrections, provided: $provided) {
    submissionId changed
    form { fields { id value state provenance { agency } } }
    eligibility { benefit status monthlyAmount } } }"""


async def _person(gateway: Gateway, scenario: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{scenario}", "limit": 10},
        )
    return next(e for e in answer.json()["data"] if e["role"] == "adult")


async def _prefill(gateway: Gateway, entry: dict[str, Any], form: str) -> dict[str, Any]:
    body = (
        await gateway.query(
            PREFILL, {"ref": {"identity": identity(entry)}, "ctx": CTX, "form": form}
        )
    ).json()
    assert "errors" not in body, body.get("errors")
    result: dict[str, Any] = body["data"]["prefill"]
    return result


async def test_every_shipped_form_arrives_filled_with_provenance(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    for form in ("rsa", "ppa", "css", "aspa"):
        filled = await _prefill(gateway, entry, form)
        fields = {f["id"]: f for f in filled["fields"]}
        assert fields["nom_naissance"]["value"] == entry["personne"]["nomNaissance"]
        assert fields["nom_naissance"]["state"] == "KNOWN"
        assert fields["nom_naissance"]["provenance"]["agency"]
        assert {f["state"] for f in filled["fields"]} <= {"KNOWN", "TO_CONFIRM", "TO_PROVIDE"}
        assert filled["dsPayload"]["identite_nom"] == entry["personne"]["nomNaissance"]
        assert any(k.startswith("champ_") for k in filled["dsPayload"])
        assert filled["accessId"]


async def test_the_person_checks_corrects_and_eligibility_runs_again(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    ref = {"identity": identity(entry)}
    filled = await _prefill(gateway, entry, "rsa")
    fields = {f["id"]: f for f in filled["fields"]}
    to_confirm = [f["id"] for f in filled["fields"] if f["state"] == "TO_CONFIRM"]
    table = fields["ressources_trimestre"]["value"]
    # The person says their salary stopped: three months without income.
    corrected_table = [{**row, "salaires": 0} for row in table]
    submitted = (
        await gateway.query(
            SUBMIT,
            {
                "ref": ref,
                "ctx": CTX,
                "form": "rsa",
                "confirmations": [f for f in to_confirm if f != "ressources_trimestre"],
                "corrections": {"ressources_trimestre": corrected_table},
                "provided": {"nationalite": "francaise"},
            },
        )
    ).json()
    assert "errors" not in submitted, submitted.get("errors")
    result = submitted["data"]["submitPrefill"]
    assert "ressources_trimestre" in result["changed"] and "nationalite" in result["changed"]
    assert result["submissionId"]
    # Declared by the person: no agency behind the corrected values.
    corrected = {f["id"]: f for f in result["form"]["fields"]}
    assert corrected["ressources_trimestre"]["provenance"] is None
    (rsa,) = result["eligibility"]
    assert rsa["benefit"] == "RSA"
    log = (
        await gateway.query(
            "{ auditLog(first: 5) { entries { kind client object } } }",
            token=gateway.token_for("demo-auditor"),
        )
    ).json()["data"]["auditLog"]["entries"]
    recorded = next(e for e in log if e["kind"] == "prefill_submission")
    assert recorded["client"] == "demo-agency-app" and recorded["object"] == "demande-rsa"
    # Without the salary of the last three months, the RSA the agencies' data refused is due.
    assert rsa["status"] == "ELIGIBLE" and rsa["monthlyAmount"] > 0


async def test_bad_submissions_are_refused(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-sans-revenu")
    ref = {"identity": identity(entry)}
    base = {"ref": ref, "ctx": CTX, "form": "rsa", "confirmations": []}
    for variables in (
        {**base, "form": "nope"},
        {**base, "corrections": {"date_naissance": "31/12/1990"}},
        {**base, "corrections": {"no_such_field": 1}},
        {**base, "corrections": {"loyer_mensuel": -5}},
        {**base, "corrections": ["not", "an", "object"]},
    ):
        body = (await gateway.query(SUBMIT, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables


async def test_unknown_form(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-sans-revenu")
    body = (
        await gateway.query(
            PREFILL, {"ref": {"identity": identity(entry)}, "ctx": CTX, "form": "nope"}
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
