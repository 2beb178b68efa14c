"""``UNEFOIS_ENV=production``: every sandbox default and every secret left to the data
directory is named, in one message; a complete configuration starts."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.client_store import add_client
from gateway.keys import rotate_file
from runtime.errors import ConfigurationError
from runtime.production import problems, refuse_demo_clients
from runtime.settings import SANDBOX_PORTS, Settings, SettingsError, load
from store import ClientStore, connect, database_url_for, migrate

ROOT = Path(__file__).resolve().parents[2]
AGENCIES = [name.upper() for name in SANDBOX_PORTS]
OAUTH_AGENCIES = [name for name in AGENCIES if name != "API_PARTICULIER"]

# Every setting the defaults leave at the sandbox's or to the data directory.
DEFAULTS_REFUSED = [
    *(f"UNEFOIS_{agency}_URL" for agency in AGENCIES),
    "UNEFOIS_API_PARTICULIER_TOKEN",
    *(f"UNEFOIS_{agency}_CLIENT_ID" for agency in OAUTH_AGENCIES),
    *(f"UNEFOIS_{agency}_CLIENT_SECRET" for agency in OAUTH_AGENCIES),
    "UNEFOIS_FRANCECONNECT_ISSUER",
    "UNEFOIS_FRANCECONNECT_USERINFO_URL",
    "UNEFOIS_FRANCECONNECT_JWKS_URL",
    "UNEFOIS_FRANCECONNECT_CLIENT_SECRET",
    "UNEFOIS_AGENT_CONNECT_ISSUER",
    "UNEFOIS_AGENT_CONNECT_CLIENT_SECRET",
    "UNEFOIS_SMS_URL",
    "UNEFOIS_SMS_TOKEN",
    "UNEFOIS_SMTP_PORT",
    "UNEFOIS_DS_URL",
    "UNEFOIS_DS_API_TOKEN",
    "UNEFOIS_DS_WEBHOOK_SECRET",
    "UNEFOIS_PSEUDONYM_SECRET",
    "UNEFOIS_SIGNING_KEYS",
    "UNEFOIS_AUDIT_SIGNING_KEY",
    "UNEFOIS_DATABASE_URL",
]


def _named(found: list[str]) -> list[str]:
    return [problem.split(" ", 1)[0].rstrip(":") for problem in found]


def test_the_defaults_name_each_setting() -> None:
    named = _named(problems(load({})))
    assert sorted(named) == sorted(DEFAULTS_REFUSED)  # each once


def test_introspection_and_demo_clients_are_named() -> None:
    found = problems(
        Settings(introspection=True, upstreams=load({}).upstreams),
        ["caf-web", "demo-auditor", "demo-agency-app"],
    )
    assert "UNEFOIS_INTROSPECTION: GraphQL introspection is on" in found
    demo = [problem for problem in found if problem.startswith("UNEFOIS_CLIENTS_FILE")]
    assert demo == [
        "UNEFOIS_CLIENTS_FILE: demo client 'demo-agency-app'",
        "UNEFOIS_CLIENTS_FILE: demo client 'demo-auditor'",
    ]


def _production(tmp_path: Path) -> dict[str, str]:
    """A complete production configuration: real-looking addresses, secrets in files."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    rotate_file(secrets_dir / "signing-keys", "Ed25519")
    pseudonym = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    (secrets_dir / "pseudonym").write_text(pseudonym + "\n", encoding="ascii")
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (secrets_dir / "audit.pem").write_bytes(pem)
    env = {
        "UNEFOIS_ENV": "production",
        "UNEFOIS_DATA_DIR": str(tmp_path / "data"),
        "UNEFOIS_DATABASE_URL": "postgresql://unefois@db.internal:5432/unefois",
        "UNEFOIS_PSEUDONYM_SECRET_FILE": str(secrets_dir / "pseudonym"),
        "UNEFOIS_SIGNING_KEYS_FILE": str(secrets_dir / "signing-keys"),
        "UNEFOIS_AUDIT_SIGNING_KEY_FILE": str(secrets_dir / "audit.pem"),
        "UNEFOIS_FRANCECONNECT_ISSUER": "https://auth.fc.example",
        "UNEFOIS_FRANCECONNECT_CLIENT_ID": "unefois-prod",
        "UNEFOIS_FRANCECONNECT_CLIENT_SECRET": "fc-relying-party-secret",
        "UNEFOIS_AGENT_CONNECT_ISSUER": "https://proconnect.example/api/v2",
        "UNEFOIS_AGENT_CONNECT_CLIENT_ID": "unefois-console",
        "UNEFOIS_AGENT_CONNECT_CLIENT_SECRET": "agent-relying-party-secret",
        "UNEFOIS_SMS_URL": "https://sms.example/v1/sms",
        "UNEFOIS_SMS_TOKEN": "sms-provider-token",
        "UNEFOIS_SMTP_HOST": "relay.internal",
        "UNEFOIS_SMTP_PORT": "465",
        "UNEFOIS_API_PARTICULIER_TOKEN": "api-particulier-token",
        "UNEFOIS_DS_URL": "https://ds.example",
        "UNEFOIS_DS_API_TOKEN": "ds-instance-token",
        "UNEFOIS_DS_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    }
    for agency in AGENCIES:
        env[f"UNEFOIS_{agency}_URL"] = f"https://{agency.lower().replace('_', '-')}.example"
    for agency in OAUTH_AGENCIES:
        env[f"UNEFOIS_{agency}_CLIENT_ID"] = "unefois-prod"
        (secrets_dir / agency).write_text(f"{agency}-secret\n", encoding="ascii")
        env[f"UNEFOIS_{agency}_CLIENT_SECRET_FILE"] = str(secrets_dir / agency)
    return env


def test_a_complete_configuration_is_accepted(tmp_path: Path) -> None:
    env = _production(tmp_path)
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  - id: caf-web\n", encoding="utf-8")
    settings = load({**env, "UNEFOIS_CLIENTS_FILE": str(clients)})
    assert settings.environment == "production"
    assert problems(settings, ["caf-web"]) == []


def test_loading_refuses_with_every_problem_in_one_message(tmp_path: Path) -> None:
    env = _production(tmp_path)
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  - id: demo-form-builder\n  - id: caf-web\n", encoding="utf-8")
    del env["UNEFOIS_DATABASE_URL"]
    env |= {
        "UNEFOIS_CNAV_URL": "http://127.0.0.1:8704",
        "UNEFOIS_INTROSPECTION": "true",
        "UNEFOIS_CLIENTS_FILE": str(clients),
    }
    with pytest.raises(SettingsError) as caught:
        load(env)
    lines = str(caught.value).splitlines()
    assert lines[0] == "UNEFOIS_ENV=production refuses to start:"
    assert [line.split()[1].rstrip(":") for line in lines[1:]] == [
        "UNEFOIS_CNAV_URL",
        "UNEFOIS_INTROSPECTION",
        "UNEFOIS_CLIENTS_FILE",
        "UNEFOIS_DATABASE_URL",
    ]
    assert "'demo-form-builder'" in lines[3]


def test_development_keeps_the_defaults_and_other_values_are_refused() -> None:
    assert load({}).environment == "development"
    assert load({"UNEFOIS_ENV": "development"}).environment == "development"
    with pytest.raises(SettingsError, match=r"^UNEFOIS_ENV must be one of development, production"):
        load({"UNEFOIS_ENV": "prod"})


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("UNEFOIS_")}
    return subprocess.run(  # noqa: S603
        [str(Path(sys.executable).with_name("unefois")), "serve"],  # the installed command
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_lists_the_problems_and_exits_2(tmp_path: Path) -> None:
    done = _serve({"UNEFOIS_ENV": "production", "UNEFOIS_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "UNEFOIS_ENV=production refuses to start:" in done.stderr
    for variable in DEFAULTS_REFUSED:
        assert f"  - {variable}" in done.stderr
    assert done.stdout == ""
    assert not any(tmp_path.iterdir())  # nothing made in the data directory


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UNEFOIS_ENV": "staging"}, "UNEFOIS_ENV must be one of"),
        ({"UNEFOIS_PORT": "eighty"}, "UNEFOIS_PORT must be an integer"),
        (
            {"UNEFOIS_SMS_TOKEN": "t", "UNEFOIS_SMS_TOKEN_FILE": "/nonexistent"},
            "UNEFOIS_SMS_TOKEN and UNEFOIS_SMS_TOKEN_FILE are both set",
        ),
        ({"UNEFOIS_SMS_TOKEN_FILE": "/nonexistent/token"}, "UNEFOIS_SMS_TOKEN_FILE: "),
    ],
)
def test_serve_reports_an_unusable_setting_in_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    done = _serve({"UNEFOIS_DATA_DIR": str(tmp_path), **env})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


async def test_demo_clients_in_the_registry_are_refused_in_production(tmp_path: Path) -> None:
    database = await connect(database_url_for(tmp_path, None))
    try:
        await migrate(database)
        store = ClientStore(database)
        now = datetime.now(UTC)
        await add_client(store, "caf-web", "CAF", frozenset({"person:read"}), "", now)
        await add_client(store, "demo-auditor", "Démo", frozenset({"person:read"}), "", now)
        development = Settings(data_dir=tmp_path)
        await refuse_demo_clients(development, store)  # the embedded default keeps them
        production = replace(development, environment="production")
        with pytest.raises(ConfigurationError) as refused:
            await refuse_demo_clients(production, store)
        assert "demo client 'demo-auditor' (unefois clients disable demo-auditor)" in str(
            refused.value
        )
        assert "caf-web" not in str(refused.value)
        await store.set_status("demo-auditor", "disabled", now)
        await refuse_demo_clients(production, store)  # disabled: nothing left to refuse
    finally:
        await database.aclose()
