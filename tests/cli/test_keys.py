"""``unefois keys rotate`` and ``unefois keys list``: a data folder's keys, or a mounted file."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cli
from gateway.errors import Unauthenticated
from gateway.keys import for_settings, load_file, load_or_create, rotate_file
from gateway.tokens import build_token_verifier
from runtime.settings import load

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _claims(now: int, jti: str) -> dict[str, object]:
    return {
        "iss": "http://127.0.0.1:8000",
        "sub": "caf-web",
        "client_id": "caf-web",
        "aud": "unefois",
        "iat": now,
        "exp": now + 300,
        "jti": jti,
        "scope": "person:read",
    }


async def test_rotate_then_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path)})
    # The gateway is running: it loaded its keys and issued a token before the rotation.
    running = load_or_create(settings.data_dir, settings.signing_alg)
    verifier = build_token_verifier(settings, running, lambda: NOW)
    now = int(NOW.timestamp())
    old_token = running.sign(_claims(now, "before"))
    old_kid = running.current.kid

    assert cli.main(["keys", "rotate", "--alg", "ES256"]) == 0
    new_kid = capsys.readouterr().out.split()[-1]
    assert new_kid != old_kid

    new_token = running.sign(_claims(now, "after"))
    assert (await verifier.verify(new_token)).token_id == "after"
    assert (await verifier.verify(old_token)).token_id == "before"
    # A process started after the rotation verifies both too.
    fresh = build_token_verifier(settings, load_or_create(tmp_path, "Ed25519"), lambda: NOW)
    assert (await fresh.verify(old_token)).token_id == "before"
    assert (await fresh.verify(new_token)).token_id == "after"

    assert cli.main(["keys", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:2] == [old_kid, "Ed25519"] and "signing" not in lines[0]
    assert lines[1].split() == [new_kid, "ES256", "signing"]


async def test_a_token_of_another_key_set_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path)})
    running = load_or_create(settings.data_dir, settings.signing_alg)
    verifier = build_token_verifier(settings, running, lambda: NOW)
    foreign = load_or_create(tmp_path / "elsewhere", "Ed25519")
    with pytest.raises(Unauthenticated):
        await verifier.verify(foreign.sign(_claims(int(NOW.timestamp()), "x")))


def test_list_without_keys_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    assert cli.main(["keys", "list"]) == 1
    assert "no signing keys" in capsys.readouterr().err


def test_rotate_a_mounted_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "secrets" / "signing-keys.json"
    path.parent.mkdir()
    # The first set of a deployment: a missing file becomes a set of one key.
    assert cli.main(["keys", "rotate", "--file", str(path)]) == 0
    first = capsys.readouterr().out.split()[-1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # With the file configured, the gateway reads it and `keys rotate` extends it in place.
    monkeypatch.setenv("UNEFOIS_SIGNING_KEYS_FILE", str(path))
    running = for_settings(load())
    assert cli.main(["keys", "rotate", "--alg", "ES256"]) == 0
    second = capsys.readouterr().out.split()[-1]
    assert running.sign(_claims(0, "x")) and running.current.kid == second
    assert cli.main(["keys", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [first, second]
    assert not (tmp_path / "data").exists()


def test_a_set_given_as_a_value_is_rotated_into_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    given = rotate_file(tmp_path / "given.json", "Ed25519")
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNEFOIS_SIGNING_KEYS", (tmp_path / "given.json").read_text("utf-8"))
    assert cli.main(["keys", "rotate"]) == 1
    assert "--file" in capsys.readouterr().err
    out = tmp_path / "rotated.json"
    assert cli.main(["keys", "rotate", "--file", str(out)]) == 0
    new_kid = capsys.readouterr().out.split()[-1]
    kids = list(load_file(out).verification_keys())
    assert kids == [given.current.kid, new_kid]
