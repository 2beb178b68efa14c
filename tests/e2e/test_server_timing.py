"""``UNEFOIS_SERVER_TIMING``: each answer says how long its slowest agency call took and how
long the gateway took to answer, through the sandbox agencies over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eligibility import EligibilityService
from sandbox import RunningSandbox
from tests.e2e.conftest import CONTEXT, Gateway, identity, open_gateway, pick

# One field per agency (as tests/e2e/test_faults.py): seven calls.
SELECTION = " ".join(
    f"{field} {{ provenance {{ agency }} }}"
    for field in (
        "household",
        "resources",
        "taxHousehold",
        "pension",
        "healthCoverage",
        "housing",
        "identity",
    )
)
QUERY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) "
    f"{{ person(ref: $ref, context: $ctx) {{ {SELECTION} }} }}"
)
_METRIC = re.compile(r'(\w+);dur=([0-9.]+)(?:;desc="([^"]*)")?')
SLOW_MS = 150.0  # added by the sandbox to the DGFiP's answers


@pytest.fixture
async def timed(
    sandbox: RunningSandbox, tmp_path: Path, reset_faults: None, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    extra = {"UNEFOIS_SERVER_TIMING": "true"}
    async with open_gateway(sandbox, tmp_path, rules, extra) as gw:
        yield gw


def _timings(answer: httpx.Response) -> dict[str, tuple[float, str | None]]:
    header = answer.headers["server-timing"]
    return {name: (float(dur), desc) for name, dur, desc in _METRIC.findall(header)}


async def test_the_slowest_agency_and_the_gateways_time(
    timed: Gateway, persons: list[dict[str, Any]]
) -> None:
    ref = {"identity": identity(pick(persons, household_kind="single", unknown_to_caf=False))}
    async with httpx.AsyncClient() as client:
        put = await client.put(
            timed.sandbox.urls["dgfip"] + "/_sandbox/faults", json={"latency_ms": SLOW_MS}
        )
        assert put.status_code == 200, put.text
    answer = await timed.query(QUERY, {"ref": ref, "ctx": CONTEXT})
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    timings = _timings(answer)
    slowest, desc = timings["agencies"]
    gateway, _ = timings["gateway"]
    # The DGFiP slept that long before answering; the answer could not leave before it.
    assert slowest >= SLOW_MS and gateway >= slowest
    assert desc is not None
    calls = re.fullmatch(r"slowest of (\d+) calls", desc)
    assert calls is not None and int(calls.group(1)) >= 7
    # Nothing of the person in it.
    assert "DGFIP" not in answer.headers["server-timing"].upper()
    # Asked again, the answers come from the cache: no agency waited for.
    again = _timings(await timed.query(QUERY, {"ref": ref, "ctx": CONTEXT}))
    assert again["agencies"][0] < SLOW_MS


async def test_an_answer_without_agencies_has_the_gateways_time_only(timed: Gateway) -> None:
    answer = await timed.query("{ __typename }")
    assert set(_timings(answer)) == {"gateway"}
    refused = await timed.http.post("/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 401 and set(_timings(refused)) == {"gateway"}


async def test_off_by_default(gateway: Gateway) -> None:
    answer = await gateway.query("{ __typename }")
    assert answer.status_code == 200 and "server-timing" not in answer.headers
