"""The example client: its submission logic on a prefill answer shaped as the contract says,
then the whole script against a real gateway over HTTP and the sandbox agencies, for every
shipped form."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.client_store import demo_credentials
from gateway.keys import load_or_create
from prefill import Submission, apply_submission, load_forms, prefill
from runtime.settings import load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.prefill.records import person_records
from tests.upstreams import agency_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prefill_client.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prefill_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("form_id", ["rsa", "ppa", "css", "aspa"])
def test_the_example_submission_is_accepted(form_id: str) -> None:
    form = load_forms()[form_id]
    filled = prefill(form, person_records(), failures=["housing", "taxHousehold"])
    answer: dict[str, Any] = {
        "fields": [
            {
                "id": f.id,
                "type": d.type,
                "required": d.required,
                "choices": list(d.choices),
                "value": f.value,
                "state": f.state,
            }
            for d, f in zip(form.fields, filled.fields, strict=True)
        ]
    }
    confirmations, corrections, provided = example().submission(answer)
    assert len(corrections) == 1
    validated, changed = apply_submission(
        form, filled, Submission(form_id, tuple(confirmations), corrections, provided)
    )
    assert set(changed) == set(corrections) | set(provided)
    assert all(f.state != "TO_CONFIRM" for f in validated.fields)


def test_the_example_turns_a_sandbox_person_into_an_identity() -> None:
    person = {
        "nomNaissance": "MARTIN",
        "prenoms": ["CLAIRE"],
        "anneeDateNaissance": 1988,
        "moisDateNaissance": 3,
        "jourDateNaissance": 4,
        "sexeEtatCivil": "F",
        "codeCogInseePaysNaissance": "99100",
        "codeCogInseeCommuneNaissance": "69123",
    }
    assert example().identity(person) == {
        "birthName": "MARTIN",
        "givenNames": ["CLAIRE"],
        "birthDate": "1988-03-04",
        "sex": "F",
        "birthCountry": "99100",
        "birthPlace": "69123",
    }


# --- the script against a real gateway ---------------------------------------------------

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox below describes June 2025
UPSTREAM_TIMEOUT = 1.0  # generous: the sandbox shares this process


@dataclass
class Served:
    url: str
    sandbox: RunningSandbox
    secrets: dict[str, str]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=400, reference_month="2025-06")) as running:
        yield running


@pytest.fixture
async def served(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Served]:
    """The gateway as ``unefois run`` serves it (the demo clients with new secrets, the
    shipped catalogue), on the sandbox, over real HTTP; its clock in the sandbox's month."""
    env = {
        "UNEFOIS_DATA_DIR": str(tmp_path),
        "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000",
        "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
    }
    settings = load(env | agency_env(sandbox, UPSTREAM_TIMEOUT))
    secrets = await demo_credentials(settings, NOW)
    rules = EligibilityService(workers=1)
    await rules.start()
    app = build_app(
        settings,
        clock=lambda: NOW,
        keys=load_or_create(settings.data_dir, settings.signing_alg),
        eligibility=rules,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}", sandbox, secrets)
    finally:
        server.should_exit = True
        await task
        sock.close()
        await rules.aclose()


async def test_the_example_runs_every_form_to_an_answer(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    script = example()
    common = [
        "--url",
        served.url,
        "--sandbox",
        served.sandbox.urls["civil_registry"],
        "--france-connect",
        served.sandbox.france_connect_url,
        # Joined with "=": a generated secret may start with "-", which argparse would
        # take for an option.
        "--secret=" + served.secrets["demo-agency-app"],
        "--form-builder-secret=" + served.secrets["demo-form-builder"],
        "--until",
        "2025-08-09",  # the person's consent, a month from the gateway's today
    ]
    for form in script.FORMS:
        code = await asyncio.to_thread(script.main, [*common, "--form", form])
        out = capsys.readouterr().out
        assert code == 0, out
        answers = out.split("eligibility re-run on what the person declared:\n")[1]
        (line,) = answers.strip().splitlines()
        benefit, _, rest = line.strip().partition(": ")
        assert benefit == form.upper(), line
        if rest.startswith("CANNOT_EVALUATE"):
            # Not evaluated: the example says why.
            assert " — missing: " in rest and "(not said)" not in rest, line
        else:
            assert rest.split()[0] in ("ELIGIBLE", "NOT_ELIGIBLE"), line
        if script.DEFAULT_PURPOSES[form] == script.CONSENT:
            assert "the person consents to demo-form-builder reading" in out
