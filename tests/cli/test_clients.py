"""``unefois clients`` against a running application sharing its database: a change made by the
command holds at the application's next request; and the embedded run's banner secrets work."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from cli.main import main
from eligibility import EligibilityService
from gateway.app import build_app, utc_now
from gateway.client_store import demo_credentials
from gateway.clients import ensure_default_clients
from gateway.server import banner
from runtime.settings import Settings, load
from tests.services import unavailable

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = re.compile(r"\(shown once\): (\S+)$")


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
    # The command runs its own event loop, as from a shell: in a thread of its own here.
    code = await asyncio.to_thread(main, ["clients", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _secret(out: str) -> str:
    found = SECRET.search(out.strip())
    assert found, out
    return found.group(1)


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


@pytest.fixture
async def gateway(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(load(env), eligibility=EligibilityService(workers=1))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        yield http


async def test_add_rotate_disable_through_the_command(
    gateway: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await _token(gateway, "caf-web", "nope")).status_code == 401  # registry loaded
    code, out, _ = await _cli(
        capsys, "add", "caf-web", "--name", "CAF", "--scopes", "person:read,eligibility:read"
    )
    assert code == 0
    first = _secret(out)
    answer = await _token(gateway, "caf-web", first)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]

    code, out, _ = await _cli(capsys, "list")
    assert code == 0
    assert "caf-web\tCAF\teligibility:read person:read\tdefault\tactive" in out
    assert first not in out and "scrypt$" not in out

    code, out, _ = await _cli(capsys, "rotate-secret", "caf-web")
    assert code == 0
    second = _secret(out)
    assert (await _token(gateway, "caf-web", first)).json()["error"] == "invalid_client"
    assert (await _token(gateway, "caf-web", second)).status_code == 200
    assert second not in (await _cli(capsys, "list"))[1]

    code, out, _ = await _cli(capsys, "disable", "caf-web")
    assert code == 0
    assert (await _token(gateway, "caf-web", second)).json()["error"] == "invalid_client"
    refused = await gateway.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401
    assert "disabled" in (await _cli(capsys, "list"))[1]


async def test_wrong_arguments_exit_2_with_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await _cli(capsys, "add", "a1", "--name", "A", "--scopes", "person:read"))[0] == 0
    code, _, err = await _cli(capsys, "add", "a1", "--name", "A", "--scopes", "person:read")
    assert (code, err.strip()) == (2, "unefois clients: a client 'a1' already exists")
    code, _, err = await _cli(capsys, "disable", "nobody")
    assert (code, err.strip()) == (2, "unefois clients: no client 'nobody'")
    code, _, err = await _cli(capsys, "rotate-secret", "nobody")
    assert code == 2 and "no client 'nobody'" in err
    code, _, err = await _cli(capsys, "add", "a2", "--name", "A", "--scopes", "admin")
    assert code == 2 and "unknown scope 'admin'" in err
    code, _, err = await _cli(capsys, "add", "a 3", "--name", "A", "--scopes", "person:read")
    assert code == 2 and "id:" in err
    code, _, err = await _cli(capsys, "add", "unknown-org", "--scopes", "person:read")
    assert code == 2 and "--name" in err
    # The catalogue names its clients: the name comes from there, with no note.
    code, _, err = await _cli(capsys, "add", "demo-cpam", "--scopes", "person:read")
    assert code == 0 and err == ""
    assert "demo-cpam\tCaisse primaire" in (await _cli(capsys, "list"))[1]


async def test_import_adds_the_new_clients_of_a_file(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other" / "clients.yaml"
    secret = ensure_default_clients(other)
    assert secret is not None
    code, out, _ = await _cli(capsys, "import", str(other))
    assert code == 0 and "imported: demo-agency-app" in out
    code, out, _ = await _cli(capsys, "import", str(other))
    assert code == 0 and "kept as they are: demo-agency-app" in out
    code, _, err = await _cli(capsys, "import", str(tmp_path / "absent.yaml"))
    assert code == 2 and "cannot be read" in err


async def test_the_embedded_banner_prints_three_working_secrets(env: dict[str, str]) -> None:
    settings: Settings = load(env)
    credentials = await demo_credentials(settings, utc_now())
    text = banner(settings, credentials, None, "2025-06")
    printed = dict(re.findall(r"^    (demo-[a-z-]+)\s+(\S+)", text, re.MULTILINE))
    assert set(printed) == {"demo-agency-app", "demo-auditor", "demo-form-builder"}
    app = build_app(settings, eligibility=EligibilityService(workers=1))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        for client_id, secret in printed.items():
            answer = await _token(http, client_id, secret)
            assert answer.status_code == 200, (client_id, answer.text)
