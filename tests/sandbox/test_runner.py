from __future__ import annotations

import subprocess
import sys

import httpx

from sandbox import AGENCIES, FaultConfig, RunningSandbox, SandboxConfig, start_in_thread


def test_urls_are_distinct_and_alive(sandbox: RunningSandbox) -> None:
    assert set(sandbox.urls) == set(AGENCIES)
    assert len(set(sandbox.urls.values())) == len(AGENCIES)
    assert sandbox.client_id == "unefois-gateway"
    assert sandbox.api_particulier_token == "sandbox-api-particulier-token"
    assert len(sandbox.population.persons) == 3000 + len(sandbox.population.scenario_of)


def test_start_and_stop_with_faults_from_config() -> None:
    with start_in_thread(
        SandboxConfig(size=50, faults={"*": FaultConfig(error_rate=1.0)})
    ) as running:
        answer = httpx.get(running.urls["dgfip"] + "/events")
        assert answer.status_code == 401
        tokens = httpx.post(
            running.urls["dgfip"] + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(running.client_id, running.client_secret),
        ).json()
        events = httpx.get(
            running.urls["dgfip"] + "/events",
            headers={"Authorization": "Bearer " + tokens["access_token"]},
        )
        assert events.status_code in (502, 503)


def test_command_line_prints_the_urls() -> None:
    # As a context manager, Popen closes the pipe it opened (else a ResourceWarning).
    with subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--size", "30", "--port-base", "0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline().split() for _ in AGENCIES]
            urls = dict(lines)  # type: ignore[arg-type]
            assert set(urls) == set(AGENCIES)
            assert httpx.get(urls["cnav"] + "/_sandbox/stats").status_code == 200
        finally:
            process.terminate()
            # SIGTERM is a clean stop: the command exits 0 (wait raises if it hangs).
            assert process.wait(timeout=10) == 0
