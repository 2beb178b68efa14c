from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from sandbox import FaultConfig, RunningSandbox, load_faults
from tests.sandbox.conftest import OURS, persons, query, token


def _call(
    http: httpx.Client, sandbox: RunningSandbox, faults: dict[str, object], agency: str = "cnav"
) -> httpx.Response:
    assert http.put(sandbox.urls[agency] + "/_sandbox/faults", json=faults).status_code == 200
    person = persons(http, sandbox, "adult", 1)[0]
    return http.get(
        sandbox.urls[agency] + OURS[agency],
        params=query(person["personne"]),
        headers=token(http, sandbox, agency),
    )  # type: ignore[arg-type]


def test_error_rate(http: httpx.Client, sandbox: RunningSandbox) -> None:
    statuses = {_call(http, sandbox, {"error_rate": 1.0}).status_code for _ in range(12)}
    assert statuses <= {502, 503} and statuses
    answer = _call(http, sandbox, {"error_rate": 1.0})
    assert answer.json()["errors"][0]["meta"]["provider"] == "CNAV"
    assert _call(http, sandbox, {"error_rate": 0.0}).status_code == 200


def test_rate_limit(http: httpx.Client, sandbox: RunningSandbox) -> None:
    answer = _call(http, sandbox, {"rate_limit_rate": 1.0, "retry_after": 7})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.json()["errors"][0]["code"] == "00429"


def test_timeout_hangs_until_the_client_gives_up(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        assert (
            http.put(
                sandbox.urls["cnav"] + "/_sandbox/faults", json={"timeout_rate": 1.0}
            ).status_code
            == 200
        )
        person = persons(http, sandbox, "adult", 1)[0]
        http.get(
            sandbox.urls["cnav"] + OURS["cnav"],
            params=query(person["personne"]),
            headers=token(http, sandbox, "cnav"),
            timeout=0.3,
        )  # type: ignore[arg-type]
    short = _call(http, sandbox, {"timeout_rate": 1.0, "hang_seconds": 0.05})
    assert short.status_code == 504


def test_latency(http: httpx.Client, sandbox: RunningSandbox) -> None:
    started = time.perf_counter()
    assert _call(http, sandbox, {"latency_ms": 150}).status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_malformed(http: httpx.Client, sandbox: RunningSandbox) -> None:
    kinds = set()
    for _ in range(16):
        answer = _call(http, sandbox, {"malformed_rate": 1.0})
        assert answer.status_code == 200
        try:
            body = answer.json()
        except ValueError:
            kinds.add("not json")
            continue
        assert "identite" not in body.get("data", {})
        kinds.add("off schema")
    assert kinds == {"not json", "off schema"}


def test_wrong_person(http: httpx.Client, sandbox: RunningSandbox) -> None:
    person = persons(http, sandbox, "adult", 1)[0]
    answer = _call(http, sandbox, {"wrong_person_rate": 1.0})
    assert answer.status_code == 200
    echo = answer.json()["data"]["identite"]
    assert (echo["nom_naissance"], echo["date_naissance"]) != (
        person["personne"]["nomNaissance"],  # type: ignore[index]
        "{anneeDateNaissance}".format(**person["personne"]),  # type: ignore[arg-type]
    ) or echo["prenoms"] != person["personne"]["prenoms"]  # type: ignore[index]


def test_faults_are_validated(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = sandbox.urls["cnav"] + "/_sandbox/faults"
    assert http.put(url, json={"error_rate": 2}).status_code == 422
    assert http.put(url, json={"surprise": 1}).status_code == 422
    assert http.put(url, json=[1]).status_code == 422
    assert http.get(url).json()["error_rate"] == 0.0


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("'*': {latency_ms: 5}\ngip_mds: {error_rate: 0.5}\n")
    faults = load_faults(path)
    assert faults["gip_mds"] == FaultConfig(error_rate=0.5)
    assert faults["*"].latency_ms == 5
    path.write_text("gip_mds: {error_rate: 3}\n")
    with pytest.raises(ValueError, match="gip_mds"):
        load_faults(path)
