"""``unefois documents``: register (files and manifests, validated against the schema), list,
revoke, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from cli.main import main
from store import document_hash
from tests.services import unavailable

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WHO = "query Who { __typename }"
CONSENTS = "query MyConsents { myConsents { id } }"


@pytest.fixture(params=["sqlite", "postgresql"])
async def env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, str]]:
    values = {"UNEFOIS_DATA_DIR": str(tmp_path)}
    conn = None
    schema = "cli_" + uuid.uuid4().hex[:12]
    if request.param == "postgresql":
        try:
            conn = await asyncpg.connect(POSTGRES, timeout=3)
        except (OSError, asyncpg.PostgresError):
            unavailable("PostgreSQL is not running on 127.0.0.1:5432")
        values |= {"UNEFOIS_DATABASE_URL": POSTGRES, "UNEFOIS_DATABASE_SCHEMA": schema}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    try:
        yield values
    finally:
        if conn is not None:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["documents", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_register_list_revoke(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    who = _write(tmp_path / "who.graphql", WHO)
    # GraphQL Codegen's client preset: the bare hex of the document's SHA-256 as the key.
    manifest = _write(
        tmp_path / "persisted-documents.json",
        json.dumps({document_hash(CONSENTS).removeprefix("sha256:"): CONSENTS}),
    )
    code, out, err = await _cli(capsys, "register", "--client", "caf-web", str(who), str(manifest))
    assert code == 0, err
    assert f"{document_hash(WHO)}\tWho\tregistered" in out
    assert f"{document_hash(CONSENTS)}\tMyConsents\tregistered" in out
    assert "no client caf-web in the registry" in err

    code, out, _ = await _cli(capsys, "register", "--client", "caf-web", str(who))
    assert code == 0 and "0 registered, 1 already" in out

    code, out, _ = await _cli(capsys, "list", "--client", "caf-web")
    assert code == 0
    lines = sorted(out.strip().splitlines())
    assert len(lines) == 2 and all(line.endswith("\tactive") for line in lines)
    assert (await _cli(capsys, "list", "--client", "other"))[1] == ""

    code, out, _ = await _cli(capsys, "revoke", "--client", "caf-web", document_hash(WHO))
    assert code == 0 and "revoked" in out
    out = (await _cli(capsys, "list", "--client", "caf-web"))[1]
    assert f"{document_hash(WHO)}\tWho\t" in out and "\trevoked 20" in out
    code, _, err = await _cli(capsys, "revoke", "--client", "caf-web", document_hash(WHO))
    assert code == 2 and "no active document" in err


async def test_an_invalid_document_registers_nothing(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path / "good.graphql", WHO)
    unknown = _write(tmp_path / "unknown.graphql", "{ noSuchField }")
    broken = _write(tmp_path / "broken.gql", "query {")
    code, _, err = await _cli(
        capsys, "register", "--client", "caf-web", str(good), str(unknown), str(broken)
    )
    assert code == 1
    assert f"refused: {unknown}: " in err and "noSuchField" in err
    assert f"refused: {broken}: syntax" in err
    assert "nothing registered" in err
    assert (await _cli(capsys, "list", "--client", "caf-web"))[1] == ""


async def test_manifest_keys_are_checked(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = _write(tmp_path / "wrong.json", json.dumps({"0" * 64: WHO}))
    code, _, err = await _cli(capsys, "register", "--client", "caf-web", str(wrong))
    assert code == 1 and "not the SHA-256" in err
    # A key that is no hash (an id of the application's own): the identifier to send is told.
    named = _write(tmp_path / "named.json", json.dumps({"who-v1": WHO}))
    code, out, _ = await _cli(capsys, "register", "--client", "@citizens", str(named))
    assert code == 0
    assert f"must send {document_hash(WHO)}" in out
    for text in ("[]", '{"a": 1}', "not json"):
        bad = _write(tmp_path / "bad.json", text)
        code, _, err = await _cli(capsys, "register", "--client", "caf-web", str(bad))
        assert code == 2 and "bad.json" in err


async def test_wrong_arguments_exit_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    who = _write(tmp_path / "who.graphql", WHO)
    code, _, err = await _cli(capsys, "register", "--client", "a b", str(who))
    assert code == 2 and "--client" in err
    code, _, err = await _cli(capsys, "revoke", "--client", "caf-web", "sha256:ABC")
    assert code == 2 and "HASH" in err
    code, _, err = await _cli(capsys, "register", "--client", "caf-web", str(tmp_path / "none"))
    assert code == 2 and "cannot be read" in err
