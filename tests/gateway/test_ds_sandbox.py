"""The sandbox démarches-simplifiées made ready at the embedded start, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.client_store import DEMO_CLIENTS
from gateway.ds_sandbox import SandboxDs, is_sandbox, mapping_files, prepare
from gateway.server import banner
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "http://127.0.0.1:8000"
CREDENTIALS = {demo.id: "secret" for demo in DEMO_CLIENTS}


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=20)) as running:
        yield running


def _settings(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    return load(
        {
            "UNEFOIS_DATA_DIR": str(data_dir),
            "UNEFOIS_PUBLIC_URL": PUBLIC,
            "UNEFOIS_DS_URL": sandbox.demarches_url,
        }
    )


async def _webhook(sandbox: RunningSandbox, number: int) -> object:
    async with httpx.AsyncClient(timeout=5.0) as http:
        answer = await http.get(f"{sandbox.demarches_url}/_sandbox/demarches/{number}/webhook")
    answer.raise_for_status()
    return answer.json()["url"]


def test_the_mapping_files_are_found_without_importing_the_sandbox() -> None:
    probe = (
        "import sys; from gateway.ds_sandbox import mapping_files;"
        " print(len(mapping_files()), 'sandbox' in sys.modules)"
    )
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed probe)
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["5", "False"]
    names = [p.name for p in mapping_files()]
    assert names == [
        "demande-aspa.yaml",
        "demande-css.yaml",
        "demande-prime-activite.yaml",
        "demande-rsa-seine-saint-denis.yaml",
        "demande-rsa.yaml",
    ]


@pytest.mark.parametrize(
    ("url", "sandbox"),
    [
        ("http://127.0.0.1:8713", True),
        ("http://localhost:8713/", True),
        ("http://127.0.0.1:8714", False),
        ("https://127.0.0.1:8713", False),
        ("https://www.demarches-simplifiees.fr", False),
        ("http://ds.example.org:8713", False),
        ("http://127.0.0.1:8713/instance", False),
    ],
)
def test_only_the_local_sandbox_is_made_ready(url: str, sandbox: bool) -> None:
    assert is_sandbox(load({"UNEFOIS_DS_URL": url})) is sandbox


async def test_every_procedure_is_registered_and_its_webhook_points_here(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = _settings(sandbox, tmp_path)
    async with Services.open(settings, _now) as services, httpx.AsyncClient() as http:
        hook = f"{PUBLIC}/demarches-simplifiees/notifications/{services.ds_webhook_secret}"
        first = await prepare(services, _now(), http)
        assert first.problems == ()
        assert [(p.number, p.path, p.form) for p in first.procedures] == [
            (104, "demande-aspa", "aspa"),
            (103, "demande-css", "css"),
            (102, "demande-prime-activite", "ppa"),
            (105, "demande-rsa-seine-saint-denis", "rsa"),
            (101, "demande-rsa", "rsa"),
        ]
        for number in (101, 102, 103, 104, 105):
            assert await _webhook(sandbox, number) == hook
        # Again at the next start: the same, nothing added.
        again = await prepare(services, _now(), http)
        assert again == first
        assert sorted(r.number for r in await services.procedures.all()) == [
            101,
            102,
            103,
            104,
            105,
        ]


async def test_a_refused_file_is_reported_and_the_others_still_done(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    [css] = [p for p in mapping_files() if p.name == "demande-css.yaml"]
    data = yaml.safe_load(css.read_text(encoding="utf-8"))
    data["procedure"] = 999
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = _settings(sandbox, tmp_path / "data")
    async with Services.open(settings, _now) as services, httpx.AsyncClient() as http:
        ready = await prepare(services, _now(), http, files=[wrong, css])
    assert [p.number for p in ready.procedures] == [103]
    assert ready.problems == (
        "refused: wrong.yaml: procedure: démarches-simplifiées has no procedure 999",
    )


async def test_no_file_is_a_problem_said(sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with (
        Services.open(_settings(sandbox, tmp_path), _now) as services,
        httpx.AsyncClient() as http,
    ):
        ready = await prepare(services, _now(), http, files=[])
    assert ready.problems == ("no procedure mapping file found in the sandbox package",)


def test_the_banner_says_where_ds_is_and_where_the_offers_lead(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path)})
    ds = SandboxDs("http://127.0.0.1:8713", (), ("procedure 101: webhook not set (ConnectError)",))
    text = banner(settings, CREDENTIALS, None, "2025-06", ds)
    assert "  Démarches:  http://127.0.0.1:8713/   (sandbox démarches-simplifiées" in text
    assert "the offers' links lead to" in text and "dossiers prefilled there" in text
    assert "    not ready: procedure 101: webhook not set (ConnectError)" in text
    assert "Démarches" not in banner(settings, CREDENTIALS, None, "2025-06")
