"""``unefois procedure`` against the sandbox démarches-simplifiées, served over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml

from cli.main import main
from sandbox.demarches.app import build_app

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "sandbox" / "demarches" / "mappings"


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass


@pytest.fixture(scope="module")
def ds_url() -> Iterator[str]:
    config = uvicorn.Config(build_app(), host="127.0.0.1", port=0, log_level="warning")
    server = _Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the sandbox démarches-simplifiées did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def env(ds_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNEFOIS_DS_URL", ds_url)
    for name in ("UNEFOIS_DATABASE_URL", "UNEFOIS_DATABASE_SCHEMA", "UNEFOIS_ENV"):
        monkeypatch.delenv(name, raising=False)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["procedure", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_sandbox_procedures_are_registered_listed_shown_and_removed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(str(p) for p in MAPPINGS.glob("*.yaml"))
    code, out, err = _cli(capsys, "register", *files)
    assert code == 0, err
    assert out.count(" registered for form ") == len(files) == 5
    assert "warning: demande-rsa.yaml: " in out  # the sworn statement stays the person's
    code, out, _ = _cli(capsys, "list")
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert [(n, p, f, t) for n, p, f, t, _ in lines] == [
        ("101", "demande-rsa", "rsa", "-"),
        ("102", "demande-prime-activite", "ppa", "-"),
        ("103", "demande-css", "css", "-"),
        ("104", "demande-aspa", "aspa", "-"),
        ("105", "demande-rsa-seine-saint-denis", "rsa", "93"),
    ]
    code, out, _ = _cli(capsys, "show", "105")
    shown = json.loads(out)
    assert code == 0 and shown["mapping"]["territory"] == ["93"]
    assert any(c["type"] == "repetition" and c["children"] for c in shown["champs"])
    assert _cli(capsys, "remove", "105")[:2] == (0, "procedure 105 removed\n")
    code, out, err = _cli(capsys, "remove", "105")
    assert (code, out) == (1, "") and "no procedure 105 is registered" in err
    assert _cli(capsys, "show", "105")[0] == 1
    assert len(_cli(capsys, "list")[1].strip().splitlines()) == 4


def test_a_placeholder_champ_id_is_refused_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = yaml.safe_load((MAPPINGS / "demande-rsa.yaml").read_text(encoding="utf-8"))
    # The illustrative id of the shipped examples (Champ-310402): no champ of procedure 101.
    data["champs"]["date_naissance"] = "Q2hhbXAtMzEwNDAy"
    path = tmp_path / "rsa-placeholder.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, err = _cli(capsys, "register", str(path), str(MAPPINGS / "demande-css.yaml"))
    assert code == 1
    assert err.startswith(
        "unefois procedure: refused: rsa-placeholder.yaml: champs.date_naissance:"
    )
    assert "procedure 103 (demande-css) registered" in out  # the other file still is
    assert _cli(capsys, "list")[1].startswith("103\t")


def test_a_procedure_ds_does_not_have(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = yaml.safe_load((MAPPINGS / "demande-css.yaml").read_text(encoding="utf-8"))
    data["procedure"] = 999
    path = tmp_path / "css.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, err = _cli(capsys, "register", str(path))
    assert code == 1
    assert "css.yaml: procedure: démarches-simplifiées has no procedure 999" in err
