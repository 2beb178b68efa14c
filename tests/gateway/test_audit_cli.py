"""``unefois audit verify|checkpoint|export`` on the embedded SQLite log."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit import AuditLog, CheckpointSigner, migrate, open_database
from gateway.audit_log import KEY_FILE
from gateway.cli import main
from tests.audit.conftest import make_entry


def _fill(data_dir: Path, count: int) -> None:
    async def fill() -> None:
        db = await open_database(f"sqlite+aiosqlite:///{data_dir / 'unefois.db'}")
        await migrate(db)
        signer = CheckpointSigner.from_file(data_dir / KEY_FILE)
        log = AuditLog(db, signer, "test", clock=lambda: datetime(2025, 7, 10, tzinfo=UTC))
        await log.start()
        await asyncio.gather(*(log.append(make_entry(n)) for n in range(count)))
        await log.aclose()
        await db.aclose()

    asyncio.run(fill())


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
