"""Compiled plans answer exactly what generic execution answers, over real HTTP.

Each document is sent three times for the same person: its first run is generic (and compiles
it), its second follows the plan; the same text with a new comment added is a document the
gateway has not seen, so its run is generic again. The last two are both served from the
cache, so they must be identical but for the audit log's access id.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eligibility import EligibilityService
from sandbox import RunningSandbox
from schema.plan import Plan
from tests.e2e.conftest import CONTEXT, Gateway, identity, open_gateway, pick
from tests.faults import set_faults

FULL = (Path(__file__).parent / "full_person.graphql").read_text(encoding="utf-8")
_FRESH = itertools.count()  # a comment no document had: a text the gateway has not seen
RSA = {**CONTEXT, "purpose": "rsa_instruction"}
SHAPES = """
query Shapes($ref: PersonRef!, $ctx: AccessContextInput!, $months: Int!) {
  first: person(ref: $ref, context: $ctx) {
    __typename
    handle
    who: identity { ... on Identity { birthName givenNames } sex }
    resources(months: $months) { ...R }
    benefits { ...B }
  }
}
fragment R on Resources { __typename months { month netSocial } missingMonths }
fragment B on Benefits { rsa { receiving since } css { receiving until } }
"""


def _without_access_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_access_ids(v) for k, v in value.items() if k != "accessId"}
    if isinstance(value, list):
        return [_without_access_ids(v) for v in value]
    return value


@pytest.fixture
def plan_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests a plan answered (the plan still answers them)."""
    runs: list[int] = []
    run = Plan.run

    async def counted(self: Plan, context: Any, variables: dict[str, Any] | None) -> Any:
        runs.append(1)
        return await run(self, context, variables)

    monkeypatch.setattr(Plan, "run", counted)
    return runs


async def _three(
    gateway: Gateway, query: str, variables: dict[str, Any], token: str | None = None
) -> tuple[httpx.Response, httpx.Response]:
    await gateway.query(query, variables, token=token)
    planned = await gateway.query(query, variables, token=token)
    generic = await gateway.query(query + f"\n# {next(_FRESH)}", variables, token=token)
    return planned, generic


def _same(planned: httpx.Response, generic: httpx.Response) -> dict[str, Any]:
    assert planned.status_code == generic.status_code
    a, b = planned.json(), generic.json()
    assert _without_access_ids(a) == _without_access_ids(b)
    # Key order is part of the answer, errors' order too.
    assert list(a) == list(b)
    return a  # type: ignore[no-any-return]


async def test_full_view_is_the_same_planned(
    gateway: Gateway, persons: list[dict[str, Any]], plan_runs: list[int]
) -> None:
    entry = next(p for p in persons if p["identifiant_france_travail"] and not p["unknown_to_caf"])
    ref = {"identity": identity(entry), "franceTravailId": entry["identifiant_france_travail"]}
    body = _same(*await _three(gateway, FULL, {"ref": ref, "ctx": CONTEXT}))
    assert "errors" not in body and body["data"]["person"]["identity"]["birthName"]
    assert plan_runs == [1]


async def test_aliases_fragments_typenames_and_arguments_are_the_same_planned(
    gateway: Gateway, persons: list[dict[str, Any]], plan_runs: list[int]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    for months in (1, 3):
        variables = {"ref": ref, "ctx": CONTEXT, "months": months}
        body = _same(*await _three(gateway, SHAPES, variables))
        first = body["data"]["first"]
        assert first["__typename"] == "Person" and first["resources"]["__typename"] == "Resources"
        assert len(first["resources"]["months"]) == months
    assert len(plan_runs) >= 2


async def test_partial_answers_are_the_same_planned(
    gateway: Gateway, persons: list[dict[str, Any]], plan_runs: list[int]
) -> None:
    # Unknown to the CAF, deceased, a homonym: typed errors at their paths, the rest served.
    for flags in ({"unknown_to_caf": True}, {"deceased": True}, {"role": "child"}):
        entry = pick(persons, **flags)
        body = _same(
            *await _three(gateway, FULL, {"ref": {"identity": identity(entry)}, "ctx": CONTEXT})
        )
        assert body.get("errors"), flags
        assert all(e["extensions"]["code"] and e["path"][0] == "person" for e in body["errors"])
    assert len(plan_runs) >= 3


async def test_refusals_are_the_same_planned(
    gateway: Gateway, persons: list[dict[str, Any]], plan_runs: list[int]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    # Fields outside the purpose: refused field by field.
    body = _same(*await _three(gateway, FULL, {"ref": ref, "ctx": RSA}))
    assert "FORBIDDEN" in {e["extensions"]["code"] for e in body["errors"]}
    # An unknown purpose: the whole person refused, with the valid purposes.
    unknown = {**CONTEXT, "purpose": "no_such_purpose"}
    body = _same(*await _three(gateway, FULL, {"ref": ref, "ctx": unknown}))
    assert body["data"] == {"person": None}
    assert body["errors"][0]["extensions"]["validPurposes"]
    # A token without person:read: the scope guard, before anything is read.
    token = gateway.token_for("demo-agency-app", scope="eligibility:read")
    body = _same(*await _three(gateway, FULL, {"ref": ref, "ctx": CONTEXT}, token=token))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A handle that is not one: bad input.
    body = _same(*await _three(gateway, FULL, {"ref": {"handle": "nope"}, "ctx": CONTEXT}))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(plan_runs) >= 4


async def test_variables_that_do_not_coerce_are_worded_by_the_generic_path(
    gateway: Gateway, persons: list[dict[str, Any]], plan_runs: list[int]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single"))}
    await gateway.query(FULL, {"ref": ref, "ctx": CONTEXT})
    bad = {"ref": {"identity": {**ref["identity"], "birthDate": "not a date"}}, "ctx": CONTEXT}
    planned = await gateway.query(FULL, bad)
    generic = await gateway.query(FULL + f"\n# {next(_FRESH)}", bad)
    assert _same(planned, generic)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert plan_runs == [1]  # tried, and handed to the generic path


CACHED_FOR = 1.0  # seconds


@pytest.fixture
async def uncached(
    sandbox: RunningSandbox, tmp_path: Path, reset_faults: None, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    """The gateway with its agencies' answers cached for one second (the in-process cache
    counts real time), which each run of a document below waits out: every run calls the
    agencies, and the gateway's fixed clock gives every run the same provenance."""
    settings = {"UNEFOIS_CACHE_TTL": str(CACHED_FOR)}
    async with open_gateway(sandbox, tmp_path, rules, settings) as gw:
        yield gw


@pytest.mark.parametrize("last", ["civil_registry", "gip_mds", "dgfip"])
async def test_fields_completed_while_agencies_answer_are_the_same_planned(
    uncached: Gateway, persons: list[dict[str, Any]], plan_runs: list[int], last: str
) -> None:
    """A plan completes the fields of the agencies that answered while it waits for the
    others (exchange.partial): with one agency made to answer last, one refusing every call
    and one not knowing the person, the answer, its errors and their order are generic
    execution's."""
    sandbox = uncached.sandbox
    await set_faults(sandbox, last, {"latency_ms": 150})
    await set_faults(sandbox, "cnav", {"rate_limit_rate": 1, "retry_after": 7})
    entry = pick(persons, unknown_to_caf=True)
    variables = {"ref": {"identity": identity(entry)}, "ctx": CONTEXT}

    async def run(query: str) -> httpx.Response:
        await asyncio.sleep(CACHED_FOR + 0.1)  # the agencies are called again
        answer = await uncached.query(query, variables)
        assert b'"cached":true' not in answer.content
        return answer

    await run(FULL)
    planned, generic = await run(FULL), await run(FULL + f"\n# {next(_FRESH)}")
    body = _same(planned, generic)
    person = body["data"]["person"]
    assert person["identity"]["birthName"] and person["resources"]["months"]
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes[("person", "pension")] == "RATE_LIMITED"
    assert codes[("person", "household")] == "NOT_FOUND"
    assert plan_runs == [1]
