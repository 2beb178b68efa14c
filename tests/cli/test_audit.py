"""``unefois audit verify|checkpoint|export`` on the embedded SQLite log."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit import open_database, public_key_from_pem
from cli.main import main
from database import open_engine
from runtime.audit_wiring import (
    KEY_FILE,
    PUBLIC_KEY_FILE,
    WITNESS_FILE,
    audit_origin,
    open_audit_log,
)
from runtime.settings import load
from sandbox.witness import WitnessState
from tests.audit.conftest import make_entry
from tests.audit.test_witness import _modify, _rewrite
from tests.sandbox.test_witness import witness  # noqa: F401 - the fixture


def _url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'unefois.db'}"


def _fill(data_dir: Path, count: int) -> None:
    async def fill() -> None:
        # As the gateway does: its key published, its checkpoints witnessed.
        engine = open_engine(_url(data_dir))
        settings = load({"UNEFOIS_DATA_DIR": str(data_dir)})
        _, log = await open_audit_log(engine, settings, lambda: datetime(2025, 7, 10, tzinfo=UTC))
        await asyncio.gather(*(log.append(make_entry(n)) for n in range(count)))
        await log.aclose()
        await engine.aclose()

    asyncio.run(fill())


def _verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["audit", "verify", *args])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("UNEFOIS_DATABASE_URL", raising=False)
    _fill(tmp_path, 20)
    return tmp_path


def test_verify_passes_then_finds_the_tampered_position(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["size"] == 20
    import sqlite3

    with sqlite3.connect(data_dir / "unefois.db") as conn:
        conn.execute("UPDATE audit_entries SET client = 'someone-else' WHERE seq = 7")
    assert main(["audit", "verify"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["position"] == 7


def test_checkpoint_and_export(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "checkpoint"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 20
    out = tmp_path / "log.jsonl"
    assert main(["audit", "export", "--format", "jsonl", "--output", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20 and json.loads(lines[0])["seq"] in (1, 20)
    assert main(["audit", "export", "--format", "csv", "--from", "2000-01-01"]) == 0
    assert "client" in capsys.readouterr().out.splitlines()[0]


def test_verify_is_read_only_and_reads_no_private_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / KEY_FILE).unlink()
    database = data_dir / "unefois.db"
    before = database.read_bytes()
    code, report = _verify(capsys)
    assert (code, report["ok"], report["size"], report["witnessed"]) == (0, True, 20, 20)
    assert database.read_bytes() == before
    assert not (data_dir / KEY_FILE).exists()


def test_verify_neither_creates_nor_migrates_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("UNEFOIS_DATABASE_URL", raising=False)
    code, report = _verify(capsys)
    assert (code, report["ok"]) == (1, False)
    assert list(tmp_path.iterdir()) == []


def test_a_rewritten_log_without_checkpoints_fails_against_the_witness(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The auditor's copies, taken elsewhere before the rewrite.
    key = tmp_path / "auditor.pub.pem"
    key.write_bytes((data_dir / PUBLIC_KEY_FILE).read_bytes())
    trusted = tmp_path / "auditor-checkpoint.jsonl"
    trusted.write_bytes((data_dir / WITNESS_FILE).read_bytes())

    async def rewrite() -> None:
        db = await open_database(_url(data_dir))
        try:
            await _rewrite(db, _modify)
        finally:
            await db.aclose()

    asyncio.run(rewrite())
    code, report = _verify(capsys)  # the witness file of the data directory
    assert (code, report["ok"], report["checkpoints"]) == (1, False, 0), report
    assert "trusted checkpoint" in str(report["problem"])
    code, report = _verify(capsys, "--public-key", str(key), "--trusted-checkpoint", str(trusted))
    assert (code, report["ok"]) == (1, False), report
    # The witness gone too: nothing trusted covers the entries, more than the grace.
    (data_dir / WITNESS_FILE).unlink()
    code, report = _verify(capsys, "--grace", "5")
    assert (code, report["ok"], report["witnessed"]) == (1, False, 0), report


def test_checkpoint_goes_to_the_cosigning_witness(
    data_dir: Path,
    witness: tuple[str, WitnessState],  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, state = witness
    pem = (data_dir / PUBLIC_KEY_FILE).read_bytes()
    # The checkpoint at size 20 exists already (signed at shutdown under _fill's origin):
    # the command sends that one.
    state.logs[audit_origin("http://127.0.0.1:8000")] = public_key_from_pem(pem)
    monkeypatch.setenv("UNEFOIS_AUDIT_WITNESS_URL", url)
    assert main(["audit", "checkpoint"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 20
    assert [cp["size"] for cp in state.latest.values()] == [20]
    lines = [json.loads(line) for line in (data_dir / WITNESS_FILE).read_text().splitlines()]
    assert any("cosignature" in line and line["size"] == 20 for line in lines)


def test_verify_records_its_result_for_the_chain_status_when_asked(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from audit import AuditReader

    async def status() -> object:
        db = await open_database(_url(data_dir))
        try:
            return (await AuditReader(db).chain_status()).last_verification
        finally:
            await db.aclose()

    code, report = _verify(capsys)
    assert (code, report["recorded"]) == (0, False)
    assert asyncio.run(status()) is None
    code, report = _verify(capsys, "--record")
    assert (code, report["recorded"]) == (0, True)
    last = asyncio.run(status())
    assert last is not None and (last.ok, last.size) == (True, 20)  # type: ignore[attr-defined]
