"""The GraphQL over HTTP specification's audit suite (graphql-http) against the real gateway.

The application runs behind uvicorn on an ephemeral port and the suite runs in Node, as any
client would reach it. The specification's MUST requirements and SHOULD recommendations all
hold; any recommendation the gateway departs from on purpose is listed in docs/security.md.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import DEMO_CLIENT_ID, DEMO_SCOPES, ensure_default_clients
from gateway.keys import load_or_create
from runtime.settings import load
from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("graphql_http_audit.mjs")
# Recommendations the gateway does not follow, each explained in docs/security.md: none.
KNOWN_WARNINGS: set[str] = set()


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
    if not (ROOT / "node_modules" / "graphql-http" / "package.json").is_file():
        unavailable("the graphql-http package is not installed (make's setup runs npm ci)")
    return node


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The gateway over real HTTP, and a token of the demo client with all its scopes."""
    # The audits that pass variables query ``__type``: introspection on, as ``unefois run``
    # has it (off, they meet the validation error that hides the schema).
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_INTROSPECTION": "true"})
    ensure_default_clients(settings.clients_path)
    keys = load_or_create(settings.data_dir, settings.signing_alg)
    # Never started: the audits' operations reach no agency and no rule.
    app = build_app(settings, keys=keys, eligibility=EligibilityService(workers=1))
    now = int(datetime.now(UTC).timestamp())
    token = keys.sign(
        {
            "iss": settings.token_issuer,
            "sub": DEMO_CLIENT_ID,
            "client_id": DEMO_CLIENT_ID,
            "aud": settings.token_audience,
            "iat": now,
            "exp": now + 600,
            "jti": f"audit-{now}",
            "scope": " ".join(DEMO_SCOPES),
        }
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        # Our own listening socket: requests sent before uvicorn is up wait in its backlog.
        yield f"http://127.0.0.1:{port}/graphql", token
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _audit(node: str, url: str, token: str) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        url,
        token,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    results: list[dict[str, Any]] = json.loads(out)
    return results


async def test_graphql_over_http_audit(served: tuple[str, str]) -> None:
    node = _node()
    url, token = served
    results = await _audit(node, url, token)
    assert len(results) > 40
    failed = [r for r in results if r["name"].startswith("MUST") and r["status"] != "ok"]
    assert failed == [], failed
    warned = {r["name"]: r["reason"] for r in results if r["status"] == "warn"}
    assert set(warned) <= KNOWN_WARNINGS, warned
