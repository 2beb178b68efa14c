"""One sandbox for the whole test session: starting it costs a fraction of a second."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import AGENCIES, RunningSandbox, SandboxConfig, start_in_thread

RECIPIENT = "13002526500013"
OURS = {
    "gip_mds": "/v1/ressources/identite",
    "dgfip": "/v1/foyer-fiscal/identite",
    "cnav": "/v1/retraite/identite",
    "cnam": "/v1/assurance-maladie/identite",
    "housing": "/v1/logement/identite",
    "civil_registry": "/v1/etat-civil/identite",
}


def query(personne: dict[str, object]) -> dict[str, object]:
    """A person entry's pivot identity as API Particulier query parameters."""
    out = {k: v for k, v in personne.items() if k != "prenoms"}
    out["prenoms[]"] = personne["prenoms"]
    out["recipient"] = RECIPIENT
    return out


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=3000)) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_faults_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        running: RunningSandbox = request.getfixturevalue("sandbox")
        with httpx.Client() as client:
            for name in AGENCIES:
                client.put(running.urls[name] + "/_sandbox/faults", json={})


def token(http: httpx.Client, sandbox: RunningSandbox, agency: str) -> dict[str, str]:
    answer = http.post(
        sandbox.urls[agency] + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["access_token"]}


def particulier(sandbox: RunningSandbox) -> dict[str, str]:
    return {"Authorization": "Bearer " + sandbox.api_particulier_token}


def persons(
    http: httpx.Client, sandbox: RunningSandbox, kind: str | None = None, limit: int = 5
) -> list[dict[str, object]]:
    params: dict[str, object] = {"limit": limit}
    if kind:
        params["kind"] = kind
    answer = http.get(sandbox.urls["gip_mds"] + "/_sandbox/persons", params=params)
    assert answer.status_code == 200
    data: list[dict[str, object]] = answer.json()["data"]
    return data
