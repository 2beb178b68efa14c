from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox import AGENCIES, RunningSandbox
from tests.sandbox.conftest import particulier, token


def _headers(http: httpx.Client, sandbox: RunningSandbox, agency: str) -> dict[str, str]:
    return particulier(sandbox) if agency == "api_particulier" else token(http, sandbox, agency)


@pytest.mark.parametrize("agency", AGENCIES)
def test_pagination_walks_every_event_once(
    http: httpx.Client, sandbox: RunningSandbox, agency: str
) -> None:
    headers = _headers(http, sandbox, agency)
    base = sandbox.urls[agency]
    seen: list[str] = []
    page = http.get(base + "/events", params={"limit": 500}, headers=headers).json()
    whole = [e["id"] for e in page["data"]]
    page = http.get(base + "/events", params={"limit": 7}, headers=headers).json()
    while page["data"]:
        seen += [e["id"] for e in page["data"]]
        assert page["links"]["next"] == f"/events?since={page['meta']['cursor']}"
        cursor = page["meta"]["cursor"]
        page = http.get(
            base + "/events", params={"since": cursor, "limit": 7}, headers=headers
        ).json()
    assert seen[:500] == whole and len(seen) == len(set(seen)) and seen


def test_event_shape_and_types(http: httpx.Client, sandbox: RunningSandbox) -> None:
    types = set()
    for agency in AGENCIES:
        # Every page: the events are sorted by day, and some types come only late.
        events: list[dict[str, Any]] = []
        params = {"limit": "500"}
        headers = _headers(http, sandbox, agency)
        while body := http.get(sandbox.urls[agency] + "/events", params=params, headers=headers):
            page = body.json()
            if not page["data"]:
                break
            events += page["data"]
            params = {"limit": "500", "since": page["meta"]["cursor"]}
        for event in events:
            assert set(event) == {"id", "type", "occurred_on", "personne", "details"}
            assert event["personne"]["nomNaissance"]
            types.add(event["type"])
        days = [e["occurred_on"] for e in events]
        assert days == sorted(days)
    assert types == {
        "birth",
        "move",
        "job_loss",
        "job_found",
        "resource_drop",
        "right_expiry",
        "rsa_granted",
        "death",
    }


def test_feed_errors(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.urls["gip_mds"] + "/events"
    assert http.get(base).status_code == 401
    headers = token(http, sandbox, "gip_mds")
    assert http.get(base, params={"since": "!!"}, headers=headers).status_code == 422
    assert http.get(base, params={"limit": 501}, headers=headers).status_code == 422
