"""The unified person view over real HTTP: provenance, planning, partial answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Gateway, identity, pick

FULL = (Path(__file__).parent / "full_person.graphql").read_text(encoding="utf-8")


def _walk_records(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every object of the answer that is a record (has a ``provenance`` key)."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        if "provenance" in value:
            found.append((path, value["provenance"]))
        for key, child in value.items():
            if key != "provenance":
                found += _walk_records(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _walk_records(child, f"{path}[{i}]")
    return found


async def test_full_view_has_provenance_on_every_value(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = next(p for p in persons if p["identifiant_france_travail"] and not p["unknown_to_caf"])
    ref = {"identity": identity(entry), "franceTravailId": entry["identifiant_france_travail"]}
    response = await gateway.query(FULL, {"ref": ref, "ctx": _ctx()})
    body = response.json()
    assert "errors" not in body, body.get("errors")
    person = body["data"]["person"]
    records = _walk_records(person)
    # Every selected record is present and carries its source, date and retrieval time.
    assert len(records) == 17
    for path, provenance in records:
        assert provenance["agency"], path
        assert provenance["asOf"], path
        assert provenance["retrievedAt"] == "2025-07-10T12:00:00+00:00", path
        assert provenance["cached"] is False, path
    assert person["identity"]["birthName"] == entry["personne"]["nomNaissance"]
    assert person["employment"]["status"]["identifier"] == entry["identifiant_france_travail"]
    # The quotient keeps the month the CAF computed it (the sandbox computes it for June 2025).
    household = person["household"]
    assert (household["computedYear"], household["computedMonth"]) == (2025, 6)
    # The quotient is named for what it is; a member's given names are a list, as an
    # identity's; closed sets are enums.
    assert isinstance(household["familyQuotient"], int) and household["regime"] in ("CNAF", "MSA")
    for member in household["claimants"] + person["taxHousehold"]["declarants"]:
        assert isinstance(member["givenNames"], list) and all(member["givenNames"])
    assert person["housing"]["occupancy"] in (
        "TENANT",
        "TENANT_FURNISHED",
        "OWNER",
        "FREE_LODGING",
        "HOMELESS",
    )
    assert person["taxHousehold"]["maritalStatus"].isupper()


async def test_second_read_is_served_from_cache(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    first = await gateway.person("identity { provenance { cached } }", ref)
    second = await gateway.person("identity { provenance { cached } }", ref)
    assert first["data"]["person"]["identity"]["provenance"]["cached"] is False
    assert second["data"]["person"]["identity"]["provenance"]["cached"] is True


async def test_only_agencies_holding_selected_fields_are_called(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    urls = gateway.sandbox.urls
    async with httpx.AsyncClient() as client:
        for url in urls.values():
            await client.delete(url + "/_sandbox/stats")
        body = await gateway.person("benefits { rsa { receiving } }", ref)
        assert "errors" not in body
        counts = {
            name: (await client.get(url + "/_sandbox/stats")).json()["paths"]
            for name, url in urls.items()
        }
    assert counts["api_particulier"] == {"/v3/dss/revenu_solidarite_active/identite": 1}
    for name in ("gip_mds", "dgfip", "cnav", "cnam", "housing", "civil_registry"):
        assert counts[name] == {}, name


async def test_a_person_unknown_to_the_caf_gets_not_found_and_the_rest(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, unknown_to_caf=True))}
    body = await gateway.person("benefits { rsa { receiving } } identity { birthName }", ref)
    assert body["data"]["person"]["benefits"]["rsa"] is None
    assert body["data"]["person"]["identity"]["birthName"]
    (error,) = body["errors"]
    assert error["path"] == ["person", "benefits", "rsa"]
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_deceased_person_has_a_death_date(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, deceased=True)
    assert entry["date_deces"]  # the date the sandbox's civil registry holds for them
    body = await gateway.person("identity { deathDate }", {"identity": identity(entry)})
    assert "errors" not in body, body.get("errors")
    assert body["data"]["person"]["identity"]["deathDate"] == entry["date_deces"]


async def test_resources_window_and_missing_months(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = next(p for p in persons if p["missing_months"])
    body = await gateway.person(
        "resources(months: 24) { months { month } missingMonths }", {"identity": identity(entry)}
    )
    resources = body["data"]["person"]["resources"]
    months = [m["month"] for m in resources["months"]] + resources["missingMonths"]
    assert sorted(months)[0] == "2023-07" and sorted(months)[-1] == "2025-06"
    assert set(resources["missingMonths"]) == {_month(m) for m in entry["missing_months"]}
    short = await gateway.person(
        "resources(months: 2) { months { month } }", {"identity": identity(entry)}
    )
    assert all(m["month"] >= "2025-05" for m in short["data"]["person"]["resources"]["months"])


def _month(value: int | str) -> str:
    """The sandbox lists months as ``YYYY-MM`` or as month indices (year * 12 + month - 1)."""
    if isinstance(value, str):
        return value
    return f"{value // 12:04d}-{value % 12 + 1:02d}"


def _ctx() -> dict[str, str]:
    from tests.e2e.conftest import CONTEXT

    return CONTEXT


async def test_student_status_from_the_mesri(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    selection = (
        "studentStatus { registered inInitialTraining"
        " admissions { start end enrolled regimeCode } provenance { agency } }"
    )
    student = pick(persons, activity="etudiant", unknown_to_caf=False, homonym_of=None)
    body = await gateway.person(selection, {"identity": identity(student)})
    assert "errors" not in body, body.get("errors")
    status = body["data"]["person"]["studentStatus"]
    assert status["registered"] is True and status["inInitialTraining"] is True
    assert status["admissions"][-1]["regimeCode"] == "RF1"
    assert status["provenance"]["agency"] == "MESRI"
    # "No student found" is an answer: not a student, not an error.
    worker = pick(persons, activity="salarie", homonym_of=None)
    body = await gateway.person(selection, {"identity": identity(worker)})
    assert "errors" not in body, body.get("errors")
    assert body["data"]["person"]["studentStatus"] == {
        "registered": False,
        "inInitialTraining": False,
        "admissions": [],
        "provenance": {"agency": "MESRI"},
    }
