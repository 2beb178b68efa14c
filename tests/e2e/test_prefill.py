"""Prefilled forms end to end: filled from agency data, checked by the person, recorded;
fields withheld for lack of consent or by a failing agency say why; a form is prefilled only
under its own purposes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import RECIPIENT, Gateway, identity, pick, register_sandbox_procedures
from tests.faults import set_faults

CTX = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "demande-rsa"}
SELF = {"purpose": "self_access", "recipient": RECIPIENT, "object": "demande-rsa"}
CONSENTED = {"purpose": "citizen_prefill", "recipient": RECIPIENT, "object": "formulaire-rsa"}
# Each shipped form under the instruction purpose of its benefit, by a client it is open to.
INSTRUCTION = {
    "rsa": ("rsa_instruction", "demo-agency-app"),
    "ppa": ("caf_rsa_ppa", "demo-caf"),
    "css": ("css_attribution", "demo-cpam"),
    "aspa": ("aspa_instruction", "demo-carsat"),
}
PREFILL_SCOPES = "person:read prefill:read prefill:write"
# The sandbox démarches-simplifiées procedure of each form (sandbox/demarches/mappings).
PROCEDURES = {"rsa": 101, "ppa": 102, "css": 103, "aspa": 104}
PREFILL = """query($ref: PersonRef!, $ctx: AccessContextInput!, $form: String!, $procedure: Int) {
  prefill(ref: $ref, context: $ctx, form: $form, procedure: $procedure) {
    form title accessId dsPayload dsLeftOut { field reason } consentRequired
    missingSources { source code message categories fields }
    fields { id label type required value state reason categories
             valueLabel options { value label } columns { id label type options { value label } }
             provenance { agency source asOf } } } }"""
GRANT = """mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id active } }"""
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


async def _prefill(
    gateway: Gateway,
    entry: dict[str, Any],
    form: str,
    ctx: dict[str, str] = CTX,
    token: str | None = None,
    procedure: int | None = None,
) -> dict[str, Any]:
    variables = {
        "ref": {"identity": identity(entry)},
        "ctx": ctx,
        "form": form,
        "procedure": procedure,
    }
    body = (await gateway.query(PREFILL, variables, token=token)).json()
    assert "errors" not in body, body.get("errors")
    result: dict[str, Any] = body["data"]["prefill"]
    return result


async def test_every_shipped_form_arrives_filled_with_provenance(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    await register_sandbox_procedures(gateway)
    for form, (purpose, client) in INSTRUCTION.items():
        ctx = {**CTX, "purpose": purpose}
        token = gateway.token_for(client, PREFILL_SCOPES)
        without = await _prefill(gateway, entry, form, ctx, token)
        assert without["dsPayload"] is None and without["dsLeftOut"] == []
        filled = await _prefill(gateway, entry, form, ctx, token, PROCEDURES[form])
        fields = {f["id"]: f for f in filled["fields"]}
        assert fields["nom_naissance"]["value"] == entry["personne"]["nomNaissance"]
        assert fields["nom_naissance"]["state"] == "KNOWN"
        assert fields["nom_naissance"]["provenance"]["agency"]
        assert {f["state"] for f in filled["fields"]} <= {"KNOWN", "TO_CONFIRM", "TO_PROVIDE"}
        names = (entry["personne"]["nomNaissance"], entry["personne"].get("nomUsage"))
        assert filled["dsPayload"]["identite_nom"] in names
        assert any(k.startswith("champ_") for k in filled["dsPayload"])
        assert filled["accessId"]
        # Codes come with the words a form shows the person; tables with their columns.
        for field in filled["fields"]:
            if field["type"] == "choice":
                assert [o["value"] for o in field["options"]], field
                assert all(o["label"] != o["value"] for o in field["options"]), field
                words = {o["value"]: o["label"] for o in field["options"]}
                assert field["valueLabel"] == words.get(field["value"]), field
            if field["type"] == "repetition":
                assert field["columns"] and all(c["label"] for c in field["columns"]), field
                for row in field["value"] or []:
                    assert set(row) == {c["id"] for c in field["columns"]}, field
            else:
                assert field["columns"] == []


async def test_the_person_checks_corrects_and_eligibility_runs_again(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    # The person signed in, reading their own data: every field the rules read is released.
    citizen = await gateway.citizen_token(entry["index"])
    ref = {"franceConnect": True}
    body = (
        await gateway.query(PREFILL, {"ref": ref, "ctx": SELF, "form": "rsa"}, token=citizen)
    ).json()
    assert "errors" not in body, body.get("errors")
    filled = body["data"]["prefill"]
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
                "ctx": SELF,
                "form": "rsa",
                "confirmations": [f for f in to_confirm if f != "ressources_trimestre"],
                "corrections": {"ressources_trimestre": corrected_table},
                "provided": {"nationalite": "francaise"},
            },
            token=citizen,
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
    assert recorded["object"] == "demande-rsa"
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


async def test_without_consent_the_form_asks_for_it_then_fills_once_given(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    builder = gateway.token_for("demo-form-builder", PREFILL_SCOPES)
    before = await _prefill(gateway, entry, "rsa", CONSENTED, builder)
    fields = {f["id"]: f for f in before["fields"]}
    name = fields["nom_naissance"]
    assert (name["state"], name["value"], name["provenance"]) == ("CONSENT_REQUIRED", None, None)
    assert (name["reason"], name["categories"]) == ("CONSENT_REQUIRED", ["identite"])
    assert fields["ressources_trimestre"]["categories"] == ["ressources"]
    missing = {m["source"]: m for m in before["missingSources"]}
    identity_missing = missing["identity"]
    assert identity_missing["code"] == "CONSENT_REQUIRED"
    assert identity_missing["categories"] == ["identite"]
    assert "nom_naissance" in identity_missing["fields"] and identity_missing["message"]
    # The CAF's benefits are not released to the form builder's purpose, consent or not.
    assert missing["benefits.primeActivite"]["code"] == "FORBIDDEN"
    assert fields["percoit_prime_activite"]["state"] == "TO_PROVIDE"
    assert fields["percoit_prime_activite"]["reason"] == "FORBIDDEN"
    wanted = before["consentRequired"]
    assert {"identite", "adresse", "ressources"} <= set(wanted)
    assert "prestations_caf" not in wanted  # no consent would release it
    assert wanted == sorted(wanted)

    citizen = await gateway.citizen_token(entry["index"])
    granted = (
        await gateway.query(
            GRANT,
            {
                "input": {
                    "client": "demo-form-builder",
                    "categories": wanted,
                    "until": "2025-12-31",
                }
            },
            token=citizen,
        )
    ).json()
    assert granted["data"]["grantConsent"]["active"], granted

    after = await _prefill(gateway, entry, "rsa", CONSENTED, builder)
    fields = {f["id"]: f for f in after["fields"]}
    name = fields["nom_naissance"]
    assert (name["state"], name["value"]) == ("KNOWN", entry["personne"]["nomNaissance"])
    assert (name["reason"], name["categories"]) == (None, [])
    assert after["consentRequired"] == []
    assert "CONSENT_REQUIRED" not in {m["code"] for m in after["missingSources"]}
    assert "CONSENT_REQUIRED" not in {f["state"] for f in after["fields"]}


async def test_a_form_under_a_purpose_it_does_not_name_is_refused(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-sans-revenu")
    ref = {"identity": identity(entry)}
    # The département's client, under its own RSA purpose, asking for the ASPA form.
    body = (await gateway.query(PREFILL, {"ref": ref, "ctx": CTX, "form": "aspa"})).json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "rsa_instruction" in error["message"]
    for purpose in ("citizen_prefill", "self_access", "aspa_instruction"):
        assert purpose in error["message"]
    submitted = (
        await gateway.query(SUBMIT, {"ref": ref, "ctx": CTX, "form": "aspa", "confirmations": []})
    ).json()
    assert submitted["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aspa_instruction" in submitted["errors"][0]["message"]
    # Nothing was read: no access recorded for either.
    log = (
        await gateway.query(
            "{ auditLog(first: 5) { entries { kind purpose } } }",
            token=gateway.token_for("demo-auditor"),
        )
    ).json()["data"]["auditLog"]["entries"]
    assert [e for e in log if e["purpose"] != "audit_control"] == []  # only this query
    # A purpose the catalogue does not know keeps the exchange's refusal.
    unknown = (
        await gateway.query(PREFILL, {"ref": ref, "ctx": {**CTX, "purpose": "nope"}, "form": "rsa"})
    ).json()
    assert unknown["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_agency_down_leaves_its_fields_to_provide_with_why(gateway: Gateway) -> None:
    entry = await _person(gateway, "seul-35-salaire-800")
    await set_faults(gateway.sandbox, "gip_mds", {"error_rate": 1.0})
    filled = await _prefill(gateway, entry, "rsa")
    fields = {f["id"]: f for f in filled["fields"]}
    table = fields["ressources_trimestre"]
    assert (table["state"], table["value"]) == ("TO_PROVIDE", None)
    assert (table["reason"], table["categories"]) == ("UPSTREAM_UNAVAILABLE", ["ressources"])
    (resources,) = (m for m in filled["missingSources"] if m["source"] == "resources")
    assert resources["code"] == "UPSTREAM_UNAVAILABLE"
    assert "ressources_trimestre" in resources["fields"]
    assert filled["consentRequired"] == []
    assert fields["nom_naissance"]["state"] == "KNOWN"  # the other agencies answered


def _typed(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """What a person types in the required fields nobody could fill: a valid value each."""
    out: dict[str, Any] = {}
    for field in fields:
        if field["state"] != "TO_PROVIDE" or not field["required"]:
            continue
        if field["options"]:
            out[field["id"]] = field["options"][0]["value"]
        else:
            by_type = {"boolean": False, "number": 0, "money": 0, "date": "1990-01-15"}
            out[field["id"]] = by_type.get(field["type"], "DUPONT")
    return out


async def test_a_submission_the_civil_registry_cannot_check_is_not_recorded(
    gateway: Gateway,
) -> None:
    """The rules need the civil status: the registry failing as the person submits, the
    client is told to try again (its code, not FORBIDDEN) and nothing is recorded, so that
    trying again records the declaration once."""
    entry = await _person(gateway, "seul-35-salaire-800")
    await set_faults(gateway.sandbox, "civil_registry", {"error_rate": 1.0})
    filled = await _prefill(gateway, entry, "rsa")
    provided = _typed(filled["fields"])
    assert {"nom_naissance", "date_naissance"} <= set(provided)  # the civil fields, typed
    variables = {
        "ref": {"identity": identity(entry)},
        "ctx": CTX,
        "form": "rsa",
        "confirmations": [f["id"] for f in filled["fields"] if f["state"] == "TO_CONFIRM"],
        "provided": provided,
    }
    body = (await gateway.query(SUBMIT, variables)).json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", error
    log = (
        await gateway.query(
            "{ auditLog(first: 20) { entries { kind } } }",
            token=gateway.token_for("demo-auditor"),
        )
    ).json()["data"]["auditLog"]["entries"]
    assert "prefill_submission" not in {e["kind"] for e in log}
