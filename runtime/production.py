"""Production mode: what ``UNEFOIS_ENV=production`` refuses to start with.

The defaults make the embedded single-machine setup work out of the box: the sandbox agencies
and their public credentials, introspection where ``unefois run`` turns it on, demo clients,
keys and secrets generated in the data directory, SQLite. Each is wrong in production, where
replicas must share their keys and secrets (given by the environment or mounted files) and one
database. :func:`problems` lists every such setting, so that one start names them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from runtime.errors import ConfigurationError
from runtime.settings import (
    SANDBOX_AGENT_CONNECT_CLIENT_SECRET,
    SANDBOX_AGENT_CONNECT_ISSUER,
    SANDBOX_API_PARTICULIER_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_DS_API_TOKEN,
    SANDBOX_DS_URL,
    SANDBOX_FRANCECONNECT_CLIENT_SECRET,
    SANDBOX_FRANCECONNECT_ISSUER,
    SANDBOX_HOST,
    SANDBOX_PORTS,
    SANDBOX_SMS_TOKEN,
    SANDBOX_SMS_URL,
    SANDBOX_SMTP_PORT,
    Settings,
    SettingsError,
)
from store import ClientStore

DEMO_PREFIX = "demo-"


def problems(settings: Settings, client_ids: Iterable[str] = ()) -> list[str]:
    """Every setting a production deployment must not keep, one line each, naming it.

    ``client_ids`` are the API clients the deployment knows (demo clients are refused).
    """
    found: list[str] = []
    for name, upstream in settings.upstreams.items():
        variable = f"UNEFOIS_{name.upper()}"
        port = SANDBOX_PORTS.get(name)
        if port is not None and upstream.url == f"http://{SANDBOX_HOST}:{port}":
            found.append(f"{variable}_URL: the sandbox agency's address ({upstream.url})")
        if upstream.token == SANDBOX_API_PARTICULIER_TOKEN:
            found.append(f"{variable}_TOKEN: the sandbox's public token")
        if upstream.client_id == SANDBOX_CLIENT_ID:
            found.append(f"{variable}_CLIENT_ID: the sandbox's client id")
        if upstream.client_secret == SANDBOX_CLIENT_SECRET:
            found.append(f"{variable}_CLIENT_SECRET: the sandbox's public secret")
    for variable, url in (
        ("UNEFOIS_FRANCECONNECT_ISSUER", settings.franceconnect_issuer),
        ("UNEFOIS_FRANCECONNECT_USERINFO_URL", settings.franceconnect_userinfo_url),
        ("UNEFOIS_FRANCECONNECT_JWKS_URL", settings.franceconnect_jwks_url),
    ):
        if url.rstrip("/").startswith(SANDBOX_FRANCECONNECT_ISSUER):
            found.append(f"{variable}: the sandbox FranceConnect provider ({url})")
    if settings.franceconnect_client_secret == SANDBOX_FRANCECONNECT_CLIENT_SECRET:
        found.append("UNEFOIS_FRANCECONNECT_CLIENT_SECRET: the sandbox provider's public secret")
    if settings.agent_connect_issuer.rstrip("/") == SANDBOX_AGENT_CONNECT_ISSUER:
        found.append(
            "UNEFOIS_AGENT_CONNECT_ISSUER: the sandbox agent provider"
            f" ({SANDBOX_AGENT_CONNECT_ISSUER})"
        )
    if settings.agent_connect_client_secret == SANDBOX_AGENT_CONNECT_CLIENT_SECRET:
        found.append("UNEFOIS_AGENT_CONNECT_CLIENT_SECRET: the sandbox provider's public secret")
    if settings.sms_url == SANDBOX_SMS_URL:
        found.append(f"UNEFOIS_SMS_URL: the sandbox SMS sink ({settings.sms_url})")
    if settings.sms_token == SANDBOX_SMS_TOKEN:
        found.append("UNEFOIS_SMS_TOKEN: the sandbox SMS sink's public token")
    if settings.smtp_port == SANDBOX_SMTP_PORT:
        found.append(f"UNEFOIS_SMTP_PORT: the sandbox mail sink's port ({SANDBOX_SMTP_PORT})")
    if settings.ds_url.rstrip("/") == SANDBOX_DS_URL:
        found.append(f"UNEFOIS_DS_URL: the sandbox démarches-simplifiées ({SANDBOX_DS_URL})")
    if settings.ds_api_token == SANDBOX_DS_API_TOKEN:
        found.append("UNEFOIS_DS_API_TOKEN (or _FILE): the sandbox démarches-simplifiées' token")
    if settings.ds_webhook_secret is None:
        found.append(
            "UNEFOIS_DS_WEBHOOK_SECRET (or _FILE): not set, the DS webhook's address needs"
            " a secret of its own"
        )
    if settings.introspection:
        found.append("UNEFOIS_INTROSPECTION: GraphQL introspection is on")
    for client_id in sorted(set(client_ids)):
        if client_id.startswith(DEMO_PREFIX):
            found.append(f"UNEFOIS_CLIENTS_FILE: demo client {client_id!r}")
    # Generated in the data directory, these differ on every replica: each would reject the
    # others' tokens and derive other pseudonyms.
    if settings.pseudonym_secret is None:
        found.append(
            "UNEFOIS_PSEUDONYM_SECRET (or _FILE): not set, each replica would make its own"
        )
    if settings.signing_keys is None:
        found.append("UNEFOIS_SIGNING_KEYS (or _FILE): not set, each replica would make its own")
    if settings.audit_signing_key is None:
        found.append(
            "UNEFOIS_AUDIT_SIGNING_KEY (or _FILE): not set, each replica would make its own"
        )
    if settings.database_url is None:
        found.append("UNEFOIS_DATABASE_URL: not set, each replica would keep its own SQLite file")
    return found


def clients_in_file(path: Path) -> list[str]:
    """The client ids of a clients file; none when it is absent or unreadable (the gateway
    reports an unusable file itself, with the line at fault)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    clients = document.get("clients") if isinstance(document, dict) else None
    if not isinstance(clients, list):
        return []
    return [str(c["id"]) for c in clients if isinstance(c, dict) and "id" in c]


def refuse_sandbox_defaults(settings: Settings) -> None:
    """Raise a :class:`SettingsError` naming every problem, if there is any."""
    found = problems(settings, clients_in_file(settings.clients_path))
    if found:
        lines = "\n".join(f"  - {problem}" for problem in found)
        raise SettingsError(f"UNEFOIS_ENV=production refuses to start:\n{lines}")


async def refuse_demo_clients(settings: Settings, store: ClientStore) -> None:
    """In production, raise a :class:`ConfigurationError` naming every active demo client of the
    registry in the database (``unefois clients disable`` takes one out); else nothing."""
    if settings.environment != "production":
        return
    demo = sorted(
        r.id for r in await store.all() if r.status == "active" and r.id.startswith(DEMO_PREFIX)
    )
    if demo:
        lines = "\n".join(
            f"  - client registry: demo client {client_id!r} (unefois clients disable {client_id})"
            for client_id in demo
        )
        raise ConfigurationError(f"UNEFOIS_ENV=production refuses to start:\n{lines}")
