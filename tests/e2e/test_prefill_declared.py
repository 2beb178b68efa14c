"""Eligibility re-run on what the person declared, over the real sandbox and OpenFisca.

The housing file is not released to a département instructing the RSA (``rsa_instruction``),
nor to a form builder the person did not let read it (``citizen_prefill`` without the
``logement`` category): the form asks the person for their housing. Once they have declared
it, the RSA is evaluated on it, to the amount the rules give when the same facts come from
the housing agency (the person consenting to the housing file too).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RECIPIENT, Gateway, identity

SCENARIO = "parent-isole-enfant-2-ans"  # renting 550 € in Lyon, no income, no housing aid
RSA_CTX = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "demande-rsa"}
FORM_CTX = {"purpose": "citizen_prefill", "recipient": RECIPIENT, "object": "formulaire-rsa"}
# What the person lets the form builder read: everything it may, but the housing file.
WITHOUT_HOUSING = ["identite", "adresse", "foyer_caf", "ressources", "fiscal", "emploi", "etudes"]
HOUSING = {
    "statut_logement": "locataire",
    "loyer_mensuel": 550,
    "charges_mensuelles": 0,
    "percoit_aide_logement": False,
}
GRANT = """mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }"""
PREFILL = """query($ref: PersonRef!, $ctx: AccessContextInput!, $form: String!) {
  prefill(ref: $ref, context: $ctx, form: $form) {
    fields { id type required value state } } }"""
SUBMIT = """mutation($ref: PersonRef!, $ctx: AccessContextInput!, $form: String!,
                   $confirmations: [String!]!, $corrections: JSON, $provided: JSON) {
  submitPrefill(ref: $ref, context: $ctx, form: $form, confirmations: $confirmations,
                corrections: $corrections, provided: $provided) {
    changed eligibility { benefit status monthlyAmount missing
                          explanation { inputs { name value provenance { agency } } } } } }"""
ELIGIBILITY = """query($ref: PersonRef!, $ctx: AccessContextInput!, $month: String!) {
  eligibility(ref: $ref, context: $ctx, month: $month, benefits: [RSA]) {
    benefit status monthlyAmount missing } }"""
MONTH = "2025-07"  # the gateway's clock is on 2025-07-10: submissions evaluate July 2025
EMPTY = ("TO_PROVIDE", "CONSENT_REQUIRED")


async def _ref(gateway: Gateway) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{SCENARIO}", "limit": 10},
        )
    entry = next(e for e in answer.json()["data"] if e["role"] == "adult")
    return {"identity": identity(entry)}


async def _data(
    gateway: Gateway, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    body = (await gateway.query(query, variables, token=token)).json()
    assert "errors" not in body, body.get("errors")
    data: dict[str, Any] = body["data"]
    return data


async def _settle(
    gateway: Gateway,
    ref: dict[str, Any],
    ctx: dict[str, str],
    token: str,
    change: dict[str, Any] | None = None,
    form: str = "rsa",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form settled by the person: what nobody gave typed (the housing as
    ``HOUSING``, no benefit received), the rest confirmed but ``change`` (field id → value),
    corrected. Returns the prefilled fields and the submission's answer."""
    filled = await _data(gateway, PREFILL, {"ref": ref, "ctx": ctx, "form": form}, token)
    fields = {f["id"]: f for f in filled["prefill"]["fields"]}
    corrections = change or {}
    confirmations = [
        i for i, f in fields.items() if f["state"] == "TO_CONFIRM" and i not in corrections
    ]
    typed = {**HOUSING, "nationalite": "francaise", "situation_familiale": "celibataire"}
    typed.update({i: False for i, f in fields.items() if f["type"] == "boolean"})
    provided = {i: v for i, v in typed.items() if i in fields and fields[i]["state"] in EMPTY}
    variables = {
        "ref": ref,
        "ctx": ctx,
        "form": form,
        "confirmations": confirmations,
        "corrections": corrections,
        "provided": provided,
    }
    data = await _data(gateway, SUBMIT, variables, token)
    return fields, data["submitPrefill"]


async def _consent(gateway: Gateway, categories: list[str]) -> str:
    """The scenario person signs in and lets the form builder read ``categories``; the form
    builder's token."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{SCENARIO}", "limit": 10},
        )
    entry = next(e for e in answer.json()["data"] if e["role"] == "adult")
    citizen = await gateway.citizen_token(entry["index"])
    grant = {"client": "demo-form-builder", "categories": categories, "until": "2025-12-31"}
    await _data(gateway, GRANT, {"input": grant}, citizen)
    return gateway.token_for("demo-form-builder", "person:read prefill:read prefill:write")


def _rsa(answer: dict[str, Any], benefit: str = "RSA") -> dict[str, Any]:
    (rsa,) = answer["eligibility"]
    assert rsa["benefit"] == benefit
    return dict(rsa)


async def test_the_departement_gets_the_rsa_evaluated_on_the_declared_housing(
    gateway: Gateway,
) -> None:
    ref = await _ref(gateway)
    token = gateway.token_for(
        "demo-agency-app", "person:read eligibility:read prefill:read prefill:write"
    )
    # Without the housing file, the rules cannot evaluate the RSA for the département.
    alone = await _data(gateway, ELIGIBILITY, {"ref": ref, "ctx": RSA_CTX, "month": MONTH}, token)
    assert alone["eligibility"][0]["status"] == "CANNOT_EVALUATE"
    assert "housing" in alone["eligibility"][0]["missing"]

    fields, submitted = await _settle(gateway, ref, RSA_CTX, token)
    assert all(fields[f]["state"] in EMPTY for f in HOUSING)  # not released: typed
    assert {"statut_logement", "loyer_mensuel"} <= set(submitted["changed"])
    rsa = _rsa(submitted)
    # Evaluated: the person is entitled. The département does not read the tax household, so
    # the family benefits the amount depends on are unknown, and only them.
    assert rsa["status"] == "ELIGIBLE", rsa
    assert not any("housing" in m for m in rsa["missing"]), rsa["missing"]
    inputs = {i["name"]: i for i in rsa["explanation"]["inputs"]}
    assert inputs["loyer"]["value"].startswith("550.00")
    assert inputs["loyer"]["provenance"]["agency"] == "declaration"
    assert inputs["depcom"]["value"] == "69123"  # the commune the CAF knows the address in


async def test_declared_housing_gives_the_amount_the_agency_data_gives(gateway: Gateway) -> None:
    ref = await _ref(gateway)
    form_builder = await _consent(gateway, WITHOUT_HOUSING)
    fields, declared = await _settle(gateway, ref, FORM_CTX, form_builder)
    assert all(fields[f]["state"] in EMPTY for f in HOUSING)
    rsa = _rsa(declared)
    assert rsa["status"] == "ELIGIBLE" and rsa["monthlyAmount"], rsa

    # The person lets the form builder read the housing file too: the same facts, from the
    # housing agency, give the same RSA.
    form_builder = await _consent(gateway, [*WITHOUT_HOUSING, "logement"])
    fields, read = await _settle(gateway, ref, FORM_CTX, form_builder)
    assert fields["loyer_mensuel"]["state"] == "TO_CONFIRM"
    assert fields["loyer_mensuel"]["value"] == HOUSING["loyer_mensuel"]
    expected = _rsa(read)
    assert {
        i["provenance"]["agency"] for i in expected["explanation"]["inputs"] if i["name"] == "loyer"
    } == {"CAF"}
    assert rsa["monthlyAmount"] == expected["monthlyAmount"], (rsa, expected)

    # The person corrects the resources: 300 € of salary in each of the three months. The
    # RSA counts the household's resources in full (CASF L262-2, R262-6): 300 € a month
    # less.
    table = fields["ressources_trimestre"]["value"]
    earned = {"ressources_trimestre": [{**row, "salaires": 300} for row in table]}
    _, corrected = await _settle(gateway, ref, FORM_CTX, form_builder, earned)
    moved = _rsa(corrected)
    assert moved["status"] == "ELIGIBLE", moved
    assert moved["monthlyAmount"] == pytest.approx(expected["monthlyAmount"] - 300, abs=0.01)


async def test_the_ppa_form_reads_the_declared_housing_and_both_income_tables(
    gateway: Gateway,
) -> None:
    ref = await _ref(gateway)
    form_builder = await _consent(gateway, WITHOUT_HOUSING)
    fields, declared = await _settle(gateway, ref, FORM_CTX, form_builder, form="ppa")
    assert all(fields[f]["state"] in EMPTY for f in ("statut_logement", "loyer_mensuel"))
    nothing = _rsa(declared, "PPA")
    # No activity income: evaluated, and not entitled.
    assert nothing["status"] == "NOT_ELIGIBLE", nothing

    form_builder = await _consent(gateway, [*WITHOUT_HOUSING, "logement"])
    _, read = await _settle(gateway, ref, FORM_CTX, form_builder, form="ppa")
    assert _rsa(read, "PPA")["status"] == "NOT_ELIGIBLE"

    # The person says they earned 900 € of salary a month, and received no other resource:
    # the two tables of the same three months both count.
    activity = [{**row, "salaires": 900} for row in fields["revenus_activite"]["value"]]
    others = fields["autres_ressources"]["value"]
    change = {"revenus_activite": activity, "autres_ressources": others}
    _, working = await _settle(gateway, ref, FORM_CTX, form_builder, change, form="ppa")
    ppa = _rsa(working, "PPA")
    assert ppa["status"] == "ELIGIBLE" and ppa["monthlyAmount"], ppa
