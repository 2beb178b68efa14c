"""A real federation router in front of the gateway and the sandbox's case subgraph.

The sandbox and the gateway run as processes; ``compose.mjs`` composes their SDLs (read with
``_service { sdl }``) with @theguild/federation-composition, and Hive Gateway serves the
supergraph with ``gateway.config.mjs``, which forwards the client's ``Authorization`` and the
``Unefois-*`` access-context headers. One query spans both subgraphs: the router asks the
gateway's ``_entities`` for the person of a case, which is decided and audited as a person
access under the headers' context.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.clients import ensure_default_clients
from tests.catalogue import with_everything
from tests.services import unavailable
from tests.system._audit import cli_verify
from tests.system._load import RECIPIENT, identity_ref, token
from tests.system._stack import HOST, Gateway, free_port, gateway_env, running_sandbox, stop, tail

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HIVE_GATEWAY = ROOT / "node_modules" / ".bin" / "hive-gateway"
ROUTER_START_TIMEOUT = 60.0
PURPOSE = "rsa_instruction"
CASE = "RSA-974-2025-0001"
HEADERS = {"Unefois-Purpose": PURPOSE, "Unefois-Recipient": RECIPIENT, "Unefois-Object": CASE}
PERSON = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  person(ref: $ref, context: $ctx) { handle identity { birthName } } }"""
SPANNING = """query($reference: String!) { case(reference: $reference) {
  reference status person { handle identity { birthName } benefits { rsa { receiving } } } } }"""


def _node() -> str:
    node = shutil.which("node")
    if node is None or not HIVE_GATEWAY.exists():
        unavailable("Node.js and the npm devDependencies (npm ci) are needed")
    return node


@contextlib.contextmanager
def _router(supergraph: Path, workdir: Path) -> Iterator[str]:
    """Hive Gateway serving ``supergraph``, stopped on exit."""
    port = free_port()
    log = workdir / "router.log"
    command = [
        str(HIVE_GATEWAY),
        "supergraph",
        str(supergraph),
        "--host",
        HOST,
        "--port",
        str(port),
        "--config-path",
        str(HERE / "gateway.config.mjs"),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the project's own devDependency
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + ROUTER_START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the router did not start\n{tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/readiness", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        stop(process)


def _compose(node: str, out: Path, bearer: str, subgraphs: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603 - our own script
        [node, str(HERE / "compose.mjs"), str(out), *(f"{n}={u}" for n, u in subgraphs.items())],
        cwd=ROOT,
        env={**os.environ, "FEDERATION_TOKEN": bearer},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _person(persons: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        p for p in persons if p.get("household_kind") == "single" and not p.get("unknown_to_caf")
    )


def _ask(
    router: str, query: str, variables: dict[str, Any], bearer: str, **headers: str
) -> dict[str, Any]:
    answer = httpx.post(
        router + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {bearer}", **headers},
        timeout=30,
    )
    body: dict[str, Any] = answer.json()
    return body


def _codes(body: dict[str, Any]) -> set[str]:
    return {str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []}


def _entries(data_dir: Path, obj: str) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(data_dir / "unefois.db")) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, kind, client, purpose, recipient, object, person, outcome"
            " FROM audit_entries WHERE object = ? ORDER BY seq",
            (obj,),
        ).fetchall()
    return [dict(r) for r in rows]


def _forged(bearer: str) -> str:
    head, payload, signature = bearer.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def test_one_query_spans_the_gateway_and_the_case_subgraph(tmp_path: Path) -> None:
    node = _node()
    data_dir = tmp_path / "data"
    secret = ensure_default_clients(data_dir / "clients.yaml")
    assert secret is not None
    catalogue = with_everything(tmp_path, "system_everything")
    port = free_port()
    gateway_url = f"http://{HOST}:{port}"
    # The case subgraph takes this gateway's tokens: it reads the gateway's published keys.
    with running_sandbox(tmp_path, 300, ["--gateway-url", gateway_url]) as sandbox:
        env = gateway_env(sandbox, data_dir, catalogue, {"UNEFOIS_PORT": str(port)})
        gateway = Gateway("federation", env, tmp_path)
        try:
            gateway.start()
            gateway.wait_healthy(timeout=180)
            with httpx.Client(timeout=10) as http:
                persons = http.get(
                    sandbox.urls["civil_registry"] + "/_sandbox/persons", params={"limit": 100}
                ).json()["data"]
            entry = _person(persons)
            bearer = _token(gateway.url, secret)
            supergraph = tmp_path / "supergraph.graphql"
            _compose(
                node,
                supergraph,
                bearer,
                {"unefois": gateway.url + "/graphql", "cases": sandbox.cases_url + "/graphql"},
            )
            with _router(supergraph, tmp_path) as router:
                _journey(router, bearer, entry, data_dir)
            report = cli_verify(gateway)
            assert report["ok"] is True, report
        except BaseException:
            print(gateway.log_tail())
            raise
        finally:
            gateway.stop()


def _token(gateway_url: str, secret: str) -> str:
    async def get() -> str:
        async with httpx.AsyncClient(timeout=10) as http:
            return await token(http, gateway_url, secret)

    return asyncio.run(get())


def _journey(router: str, bearer: str, entry: dict[str, Any], data_dir: Path) -> None:
    # 1. The client gets the person's handle from the gateway, through the router.
    lookup_variables = {
        "ref": identity_ref(entry),
        "ctx": {"purpose": PURPOSE, "recipient": RECIPIENT, "object": "dossier-fed-1"},
    }
    found = _ask(router, PERSON, lookup_variables, bearer)
    assert "errors" not in found, found
    handle = found["data"]["person"]["handle"]
    birth_name = entry["personne"]["nomNaissance"]
    assert handle and found["data"]["person"]["identity"]["birthName"] == birth_name
    [lookup] = _entries(data_dir, "dossier-fed-1")

    # 2. It opens a case for that handle in the case subgraph.
    opened = _ask(
        router,
        "mutation($handle: String!, $reference: String!) {"
        " openCase(handle: $handle, reference: $reference) { reference status } }",
        {"handle": handle, "reference": CASE},
        bearer,
    )
    assert opened == {"data": {"openCase": {"reference": CASE, "status": "OPEN"}}}, opened

    # 3. One query over both subgraphs: the person of the case comes from the gateway.
    spanning = _ask(router, SPANNING, {"reference": CASE}, bearer, **HEADERS)
    assert "errors" not in spanning, spanning
    case = spanning["data"]["case"]
    assert case["status"] == "OPEN" and case["person"]["handle"] == handle
    assert case["person"]["identity"]["birthName"] == birth_name
    assert isinstance(case["person"]["benefits"]["rsa"]["receiving"], bool)

    # 5. The entity read is on the log: an access to that person, under the headers' context.
    [access] = _entries(data_dir, CASE)
    assert access["kind"] == "person_access" and access["client"] == "demo-agency-app"
    assert (access["purpose"], access["recipient"]) == (PURPOSE, RECIPIENT)
    assert access["person"] == lookup["person"]  # the same person's pseudonym
    assert access["outcome"] == "released"

    # 4. Policies hold through the router. A field outside the purpose: refused, typed.
    outside = _ask(
        router,
        "query($reference: String!) { case(reference: $reference) {"
        " person { identity { birthName } pension { pensions { scheme } } } } }",
        {"reference": CASE},
        bearer,
        **HEADERS,
    )
    assert outside["data"]["case"]["person"]["identity"]["birthName"] == birth_name
    assert outside["data"]["case"]["person"]["pension"] is None
    assert _codes(outside) == {"FORBIDDEN"}, outside

    # Without the access-context headers: a typed error naming them, and nothing read.
    before = len(_entries(data_dir, CASE))
    bare = _ask(router, SPANNING, {"reference": CASE}, bearer)
    assert _codes(bare) == {"BAD_USER_INPUT"}, bare
    assert any("Unefois-Purpose" in e["message"] for e in bare["errors"]), bare
    assert len(_entries(data_dir, CASE)) == before

    # A forged token: refused by both subgraphs, nothing read.
    forged = _ask(router, SPANNING, {"reference": CASE}, _forged(bearer), **HEADERS)
    assert not (forged.get("data") or {}).get("case"), forged
    assert _codes(forged) == {"UNAUTHENTICATED"}, forged
    alone = _ask(router, PERSON, lookup_variables, _forged(bearer))
    assert _codes(alone) == {"UNAUTHENTICATED"}, alone
    assert not (alone.get("data") or {}).get("person"), alone
    assert len(_entries(data_dir, CASE)) == before
