from __future__ import annotations

import httpx

from sandbox import RunningSandbox
from tests.sandbox.conftest import OURS, persons, query, token


def test_counts_per_path_and_reset(http: httpx.Client, sandbox: RunningSandbox) -> None:
    for name in ("dgfip", "cnam"):
        http.delete(sandbox.urls[name] + "/_sandbox/stats")
    person = persons(http, sandbox, "adult", 1)[0]
    headers = token(http, sandbox, "dgfip")
    for _ in range(3):
        http.get(
            sandbox.urls["dgfip"] + OURS["dgfip"], params=query(person["personne"]), headers=headers
        )  # type: ignore[arg-type]
    stats = http.get(sandbox.urls["dgfip"] + "/_sandbox/stats").json()
    assert stats["paths"] == {"/oauth/token": 1, OURS["dgfip"]: 3}
    assert stats["total"] == 4
    assert http.get(sandbox.urls["cnam"] + "/_sandbox/stats").json() == {"total": 0, "paths": {}}
    assert http.delete(sandbox.urls["dgfip"] + "/_sandbox/stats").json()["total"] == 0


def test_person_listing(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = sandbox.urls["cnav"] + "/_sandbox/persons"
    page = http.get(url, params={"offset": 10, "limit": 5}).json()
    assert [p["index"] for p in page["data"]] == list(range(10, 15))
    assert page["meta"]["total"] == len(sandbox.population.persons)  # scenario persons included
    seekers = http.get(url, params={"kind": "job_seeker", "limit": 1000}).json()
    assert seekers["data"] and all(p["identifiant_france_travail"] for p in seekers["data"])
    pensioners = http.get(url, params={"kind": "pensioner_single"}).json()["data"]
    assert all(p["household_kind"] == "pensioner_single" for p in pensioners)
    assert http.get(url, params={"limit": 5000}).status_code == 422
