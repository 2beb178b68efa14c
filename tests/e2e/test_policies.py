"""Purpose policies on the request path, with the shipped catalogue's purposes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RECIPIENT, Gateway, identity, pick

RSA = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "dossier-rsa-1"}


async def _reset_stats(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as client:
        for url in gateway.sandbox.urls.values():
            await client.delete(url + "/_sandbox/stats")


async def _stats(gateway: Gateway) -> dict[str, dict[str, int]]:
    async with httpx.AsyncClient() as client:
        return {
            name: (await client.get(url + "/_sandbox/stats")).json()["paths"]
            for name, url in gateway.sandbox.urls.items()
        }


async def test_fields_outside_the_purpose_are_denied_and_their_agencies_never_called(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single", unknown_to_caf=False))}
    await _reset_stats(gateway)
    body = await gateway.person(
        "identity { birthName } pension { provenance { agency } } "
        "healthCoverage { fundCode } benefits { rsa { receiving } aspa { receiving } }",
        ref,
        RSA,
    )
    person = body["data"]["person"]
    assert person["identity"]["birthName"] and person["benefits"]["rsa"] is not None
    denied = {tuple(e["path"]): e for e in body["errors"]}
    assert set(denied) == {
        ("person", "pension"),
        ("person", "healthCoverage"),
        ("person", "benefits", "aspa"),
    }
    for error in denied.values():
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "rsa_instruction" in error["message"]
    stats = await _stats(gateway)
    # CNAV and CNAM hold only denied fields: data minimisation means no call at all.
    assert stats["cnav"] == {} and stats["cnam"] == {}
    assert stats["civil_registry"] and stats["api_particulier"]


@pytest.mark.parametrize(
    ("purpose", "client"),
    [
        ("no_such_purpose", "demo-agency-app"),  # unknown
        ("css_attribution", "demo-agency-app"),  # not this client's
        ("rsa_instruction", "demo-cpam"),  # not this client's
    ],
)
async def test_a_refused_purpose_fetches_nothing(
    gateway: Gateway, persons: list[dict[str, Any]], purpose: str, client: str
) -> None:
    ref = {"identity": identity(persons[1])}
    await _reset_stats(gateway)
    context = {**RSA, "purpose": purpose}
    body = await gateway.person(
        "identity { birthName }", ref, context, token=gateway.token_for(client)
    )
    assert body["data"]["person"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert all(paths == {} for paths in (await _stats(gateway)).values())


async def test_an_unknown_purpose_is_refused_with_the_callers_purposes(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(persons[1])}
    body = await gateway.person("identity { birthName }", ref, {**RSA, "purpose": "rsa"})
    (error,) = body["errors"]
    valid = error["extensions"]["validPurposes"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "rsa_instruction" in valid and "css_attribution" not in valid
    assert error["message"].endswith("may use: " + ", ".join(valid))
    listed = await gateway.query("{ purposes { id inForce } }", {})
    offered = [p["id"] for p in listed.json()["data"]["purposes"] if p["inForce"]]
    assert offered == valid


async def test_a_purpose_is_judged_on_the_request_date(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(persons[1])}
    selection = "employment { status { registered } }"
    ref["franceTravailId"] = "1234567A"
    # Before 2025-01-01 the département's RSA purpose does not reach France Travail data.
    gateway.clock.now = gateway.clock.now.replace(year=2024)
    body = await gateway.person(selection, ref, RSA, token=gateway.token_for("demo-agency-app"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_handle_is_returned_and_works_as_a_reference(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    first = await gateway.person("handle identity { birthName }", {"identity": identity(entry)})
    handle = first["data"]["person"]["handle"]
    assert handle.startswith("h1.")
    assert entry["personne"]["nomNaissance"] not in handle
    again = await gateway.person("handle identity { birthName }", {"handle": handle})
    assert "errors" not in again
    assert again["data"]["person"]["handle"] == handle
    assert again["data"]["person"]["identity"] == first["data"]["person"]["identity"]


async def test_a_handle_from_another_sector_is_refused(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    ours = await gateway.person("handle", {"identity": identity(entry)})
    handle = ours["data"]["person"]["handle"]
    other = gateway.token_for("demo-cpam")  # not in the clients file: another sector
    context = {**RSA, "purpose": "css_attribution"}
    theirs = await gateway.person("handle", {"identity": identity(entry)}, context, token=other)
    assert theirs["data"]["person"]["handle"] != handle
    await _reset_stats(gateway)
    refused = await gateway.person("identity { birthName }", {"handle": handle}, context, other)
    assert refused["data"]["person"] is None
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert all(paths == {} for paths in (await _stats(gateway)).values())


async def test_cached_data_still_passes_the_decision(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single", unknown_to_caf=False))}
    warm = await gateway.person("pension { provenance { cached } }", ref)  # e2e purpose: allowed
    assert warm["data"]["person"]["pension"]["provenance"]["cached"] is False
    denied = await gateway.person("pension { provenance { cached } }", ref, RSA)
    assert denied["data"]["person"]["pension"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
