"""Three gateway replicas behind a real HAProxy, as ``deploy/haproxy.cfg`` and compose.yaml
run them: one PostgreSQL schema, one Redis key prefix, the same secrets given as files, a
data directory each. The replicas must agree: tokens, rate limits, the cache, consents,
the client registry and the audit chain are one service's; a replica killed under load
costs the clients only answers they can retry."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import open_database
from gateway.clients import DEMO_CLIENT_ID, hash_secret
from tests.services import unavailable
from tests.system._audit import entry_rows
from tests.system._load import PERSON_QUERY, access_id_of, context, identity_ref
from tests.system._stack import HOST, Gateway, Sandbox, free_port, gateway_env, stop, tail
from tests.system.conftest import PURPOSE, system_catalogue

pytestmark = [pytest.mark.system, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "haproxy.cfg"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
REPLICAS = ("1", "2", "3")
START_TIMEOUT = 240.0  # three replicas, each warming a rules worker, on a loaded machine

# One bucket per client, shared: a client may send RATE_BURST requests at once whichever
# replicas they reach, then RATE_PER_SECOND. Each load client stays under the burst.
RATE_PER_SECOND = 0.5
RATE_BURST = 60
LOAD_CLIENTS = 8
LOAD_PER_CLIENT = 45
KILL_AFTER = 60  # delivered answers before a replica is killed
SLOW_AGENCY_MS = 1000  # the agencies' added latency while the replica is killed
PROBE = "rate-probe"
LATE = "added-later"
FORM_BUILDER = "demo-form-builder"
LOAD = tuple(f"load-{i}" for i in range(1, LOAD_CLIENTS + 1))
SCOPES = ["person:read", "eligibility:read", "prefill:read", "prefill:write"]

CACHED_QUERY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {"
    " accessId identity { birthName provenance { cached } } } }"
)
PREFILL = {"purpose": "citizen_prefill", "recipient": "13002526500013", "object": "formulaire"}
GRANT = "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id active } }"
REVOKE = "mutation($id: String!) { revokeConsent(id: $id) { id active } }"
CONSENT_QUERY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {"
    " identity { birthName } } }"
)


@dataclass
class Stack:
    sandbox: Sandbox
    gateways: list[Gateway]
    balancer: str  # HAProxy's address: what clients use
    stats: str  # HAProxy's stats page, CSV
    secrets: dict[str, str]  # client id → secret
    cli_env: dict[str, str]  # what `unefois` commands run with (a replica's settings)
    haproxy_log: Path
    schema: str
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, client_id: str, base_url: str | None = None) -> str:
        """A token of ``client_id`` asked of ``base_url`` (the balancer by default)."""
        base = base_url or self.balancer
        key = (client_id, base)
        if key not in self.tokens:
            answer = httpx.post(
                base + "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, self.secrets[client_id]),
                timeout=30.0,
            )
            assert answer.status_code == 200, answer.text
            self.tokens[key] = answer.json()["access_token"]
        return self.tokens[key]

    def servers_up(self) -> dict[str, str]:
        """HAProxy's view: server name → status (``UP``, ``DOWN``, ...)."""
        text = httpx.get(self.stats, timeout=5.0).text.lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == "gateways"}

    def sessions(self, server: str) -> int:
        """Requests HAProxy has in progress on ``server``."""
        text = httpx.get(self.stats, timeout=5.0).text.lstrip("# ")
        for row in csv.DictReader(io.StringIO(text)):
            if row["pxname"] == "gateways" and row["svname"] == server:
                return int(row["scur"] or 0)
        raise LookupError(server)

    def wait_servers(self, expected: dict[str, str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        seen: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                seen = self.servers_up()
            except httpx.TransportError:  # HAProxy is still starting
                time.sleep(0.2)
                continue
            if all(seen.get(k, "").startswith(v) for k, v in expected.items()):
                return
            time.sleep(0.2)
        raise AssertionError(f"HAProxy sees {seen}, expected {expected}\n{tail(self.haproxy_log)}")


def _query(
    base_url: str, bearer: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return httpx.post(
        base_url + "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=30.0,
    )


def _agency_calls(sandbox: Sandbox) -> int:
    """Requests the sandbox agencies have received so far."""
    return sum(
        int(httpx.get(url + "/_sandbox/stats", timeout=5.0).json()["total"])
        for url in sandbox.urls.values()
    )


def _run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _services() -> None:
    """PostgreSQL, Redis and haproxy must be here (skipped without, failed under CI)."""
    if shutil.which("haproxy") is None:
        unavailable("haproxy is not installed (make test installs it)")

    async def reach() -> None:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
        await conn.close()

    try:
        asyncio.run(reach())
    except (OSError, asyncpg.PostgresError):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except (OSError, redis.RedisError):
        unavailable("Redis is not reachable at 127.0.0.1:6379")


def _drop_schema(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


def _drop_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _catalogue(directory: Path) -> Path:
    """The system catalogue, naming this test's clients in the département's group."""
    policies = system_catalogue(directory)
    path = policies / "clients.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for client_id in (*LOAD, PROBE, LATE):
        document["clients"].append(
            {"id": client_id, "name": f"Test client {client_id}", "groups": ["departement"]}
        )
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return policies


def _secrets(directory: Path, env: dict[str, str]) -> dict[str, str]:
    """The three shared secrets as files, made the way docs/deploy.md makes them."""
    directory.mkdir(mode=0o700)
    keys = directory / "signing-keys.json"
    made = _run_cli(env, "keys", "rotate", "--file", str(keys))
    assert made.returncode == 0, made.stderr
    audit_key = directory / "audit-signing-key.pem"
    audit_key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pseudonym = directory / "pseudonym-secret"
    pseudonym.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return {
        "UNEFOIS_SIGNING_KEYS_FILE": str(keys),
        "UNEFOIS_AUDIT_SIGNING_KEY_FILE": str(audit_key),
        "UNEFOIS_PSEUDONYM_SECRET_FILE": str(pseudonym),
    }


def _clients_file(path: Path) -> dict[str, str]:
    """A clients file for the registry's first import: the clients the tests start with."""
    known = {cid: secrets.token_urlsafe(24) for cid in (DEMO_CLIENT_ID, FORM_BUILDER, *LOAD, PROBE)}
    document = {
        "clients": [
            {
                "id": cid,
                "name": cid,
                "secret_hash": hash_secret(secret, n=2**10),  # cheap: many tokens are asked
                "scopes": SCOPES,
                "sector": "social",
            }
            for cid, secret in known.items()
        ]
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return known


def _haproxy_config(directory: Path, listen: int, stats: int, gateways: list[Gateway]) -> Path:
    """``deploy/haproxy.cfg`` with this test's addresses in place of compose.yaml's."""
    addresses = {
        "UNEFOIS_LISTEN": f"{HOST}:{listen}",
        "UNEFOIS_STATS_LISTEN": f"{HOST}:{stats}",
        **{f"UNEFOIS_REPLICA_{g.name}": f"{HOST}:{g.env['UNEFOIS_PORT']}" for g in gateways},
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in addresses.items():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"presetenv {name} "))
        text = text.replace(line, f'    presetenv {name} "{value}"')
    # Checked faster than in production, so that the test sees a replica go down promptly.
    text = text.replace("check inter 2s fall 2 rise 2", "check inter 500ms fall 2 rise 1")
    config = directory / "haproxy.cfg"
    config.write_text(text, encoding="utf-8")
    return config


@contextlib.contextmanager
def _haproxy(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    checked = subprocess.run(  # noqa: S603
        ["haproxy", "-c", "-q", "-f", str(config)],  # noqa: S607 - the Debian package's
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            ["haproxy", "-db", "-f", str(config)],  # noqa: S607
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        stop(process)


@pytest.fixture(scope="module")
def stack(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _services()
    tmp = tmp_path_factory.mktemp("replicas")
    schema = "sys_" + uuid.uuid4().hex[:12]
    prefix = f"unefois-test:{uuid.uuid4().hex}:"
    balancer_port, stats_port = free_port(), free_port()
    balancer = f"http://{HOST}:{balancer_port}"
    catalogue = _catalogue(tmp)
    shared_dir = tmp / "shared"  # what would be mounted on every replica
    shared_dir.mkdir()
    known = _clients_file(shared_dir / "clients.yaml")
    shared = {
        "UNEFOIS_DATABASE_URL": POSTGRES,
        "UNEFOIS_DATABASE_SCHEMA": schema,
        "UNEFOIS_REDIS_URL": REDIS_URL,
        "UNEFOIS_REDIS_PREFIX": prefix,
        "UNEFOIS_REDIS_TIMEOUT": "2",  # a loaded machine must not degrade Redis mid-test
        "UNEFOIS_CLIENTS_FILE": str(shared_dir / "clients.yaml"),
        "UNEFOIS_AUDIT_WITNESS_FILE": str(shared_dir / "audit-witness.jsonl"),
        # One service: one public address, one token issuer, whichever replica answers.
        "UNEFOIS_PUBLIC_URL": balancer,
        "UNEFOIS_RATE_LIMIT": str(RATE_PER_SECOND),
        "UNEFOIS_RATE_BURST": str(RATE_BURST),
        "UNEFOIS_TOKEN_RATE_PER_ADDRESS": "1000",
        "UNEFOIS_TOKEN_BURST_PER_ADDRESS": "1000",
        "UNEFOIS_TOKEN_RATE_PER_CLIENT": "1000",
        "UNEFOIS_TOKEN_BURST_PER_CLIENT": "1000",
    }
    env0 = gateway_env(sandbox, tmp / "cli-data", catalogue, shared)
    shared.update(_secrets(tmp / "secrets", env0))
    gateways = [
        Gateway(name, gateway_env(sandbox, tmp / f"data-{name}", catalogue, shared), tmp)
        for name in REPLICAS
    ]
    cli_env = dict(gateways[1].env)
    haproxy_log = tmp / "haproxy.log"
    try:
        for gateway in gateways:  # at once: the migrations race, as replicas' would
            gateway.start()
        for gateway in gateways:
            gateway.wait_healthy(timeout=START_TIMEOUT)
        config = _haproxy_config(tmp, balancer_port, stats_port, gateways)
        with _haproxy(config, haproxy_log):
            running = Stack(
                sandbox=sandbox,
                gateways=gateways,
                balancer=balancer,
                stats=f"http://{HOST}:{stats_port}/stats;csv",
                secrets=known,
                cli_env=cli_env,
                haproxy_log=haproxy_log,
                schema=schema,
            )
            running.wait_servers({f"gateway-{g.name}": "UP" for g in gateways})
            yield running
    finally:
        for gateway in gateways:
            gateway.stop()
        _drop_schema(schema)
        _drop_prefix(prefix)


def test_haproxy_spreads_requests_over_the_three_replicas(stack: Stack) -> None:
    # Round robin: six health answers through the balancer come from the three replicas;
    # each replica's /readyz is what HAProxy checks.
    for gateway in stack.gateways:
        ready = httpx.get(gateway.url + "/readyz", timeout=10.0)
        assert ready.status_code == 200, ready.text
    # All three in service. On a loaded machine one health check may time out: HAProxy then
    # shows "UP 1/2", still serving (one failed check of the two that take a server out),
    # which counts as up here; a replica really out is DOWN and fails the wait.
    stack.wait_servers({f"gateway-{g.name}": "UP" for g in stack.gateways}, timeout=30.0)
    assert httpx.get(stack.balancer + "/healthz", timeout=10.0).json() == {"status": "ok"}


def test_a_token_from_one_replica_is_accepted_by_every_replica(
    stack: Stack, persons: list[dict[str, Any]]
) -> None:
    ref = identity_ref(persons[1500])
    ctx = context(PURPOSE, "replicas-tokens")
    targets = [g.url for g in stack.gateways] + [stack.balancer]
    for issuer in stack.gateways:
        bearer = stack.token(DEMO_CLIENT_ID, issuer.url)
        for url in targets:
            answer = _query(url, bearer, PERSON_QUERY, {"ref": ref, "ctx": ctx})
            assert answer.status_code == 200, (issuer.name, url, answer.text)
            assert access_id_of(answer), (issuer.name, url, answer.text)


def test_the_rate_limit_is_one_bucket_for_all_replicas(stack: Stack) -> None:
    # Round robin straight to the replicas: none of them alone sees more than two thirds of
    # the burst, so only a shared bucket can refuse.
    bearers = [stack.token(PROBE, g.url) for g in stack.gateways]
    allowed = 0
    refused: httpx.Response | None = None
    started = time.monotonic()
    for i in range(2 * RATE_BURST):
        gateway = stack.gateways[i % len(stack.gateways)]
        answer = _query(gateway.url, bearers[i % len(bearers)], "{ __typename }")
        if answer.status_code == 429:
            refused = answer
            break
        assert answer.status_code == 200, answer.text
        allowed += 1
    elapsed = time.monotonic() - started
    assert refused is not None, f"{allowed} requests allowed over three replicas, none refused"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "Retry-After" in refused.headers
    # The burst, plus what the bucket refilled meanwhile: never one burst per replica.
    assert RATE_BURST <= allowed <= RATE_BURST + RATE_PER_SECOND * elapsed + 1, allowed


def test_the_cache_is_shared(stack: Stack, persons: list[dict[str, Any]]) -> None:
    ref = identity_ref(persons[1501])
    ctx = context(PURPOSE, "replicas-cache")
    first, *others = stack.gateways
    before = _agency_calls(stack.sandbox)
    fetched = _query(
        first.url, stack.token(DEMO_CLIENT_ID, first.url), CACHED_QUERY, {"ref": ref, "ctx": ctx}
    ).json()
    assert fetched["data"]["person"]["identity"]["provenance"]["cached"] is False, fetched
    called = _agency_calls(stack.sandbox)
    assert called > before
    for gateway in others:
        body = _query(
            gateway.url,
            stack.token(DEMO_CLIENT_ID, gateway.url),
            CACHED_QUERY,
            {"ref": ref, "ctx": ctx},
        ).json()
        identity = body["data"]["person"]["identity"]
        assert identity["provenance"]["cached"] is True, (gateway.name, body)
        assert identity["birthName"] == fetched["data"]["person"]["identity"]["birthName"]
    assert _agency_calls(stack.sandbox) == called, "another replica called the agencies again"


async def test_a_consent_revoked_on_one_replica_holds_on_the_others(
    stack: Stack, persons: list[dict[str, Any]]
) -> None:
    entry = next(
        p
        for p in persons[1600:]
        if p.get("household_kind") == "single" and p.get("unknown_to_caf") is False
    )
    async with httpx.AsyncClient(timeout=10.0) as http:
        answer = await http.post(
            stack.sandbox.france_connect_url + "/_sandbox/france_connect/tokens",
            json={"person": entry["index"]},
        )
    assert answer.status_code == 200, answer.text
    citizen = answer.json()["access_token"]
    ref = identity_ref(entry)
    grantor, *readers = stack.gateways
    until = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    granted = _query(
        grantor.url,
        citizen,
        GRANT,
        {"input": {"client": FORM_BUILDER, "categories": ["identite"], "until": until}},
    ).json()
    consent = granted["data"]["grantConsent"]
    assert consent["active"] is True, granted

    def read(gateway: Gateway) -> dict[str, Any]:
        bearer = stack.token(FORM_BUILDER, gateway.url)
        body: dict[str, Any] = _query(
            gateway.url, bearer, CONSENT_QUERY, {"ref": ref, "ctx": PREFILL}
        ).json()
        return body

    for gateway in readers:  # allowed, and the answer now sits in the shared cache
        body = read(gateway)
        assert "errors" not in body, (gateway.name, body)
        assert body["data"]["person"]["identity"]["birthName"]

    revoked = _query(grantor.url, citizen, REVOKE, {"id": consent["id"]}).json()
    assert revoked["data"]["revokeConsent"]["active"] is False, revoked
    for gateway in readers:  # the very next request, on the others
        body = read(gateway)
        assert body["data"]["person"]["identity"] is None, (gateway.name, body)
        assert {e["extensions"]["code"] for e in body["errors"]} == {"CONSENT_REQUIRED"}


def test_a_client_added_by_the_command_works_on_every_replica_without_restart(
    stack: Stack, persons: list[dict[str, Any]]
) -> None:
    for gateway in stack.gateways:
        refused = httpx.post(
            gateway.url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(LATE, "not-yet"),
            timeout=30.0,
        )
        assert refused.status_code == 401, refused.text
    added = _run_cli(stack.cli_env, "clients", "add", LATE, "--scopes", "person:read")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.split("(shown once):", 1)[1].split()[0]
    stack.secrets[LATE] = secret
    starts = [g.starts for g in stack.gateways]
    ref = identity_ref(persons[1502])
    ctx = context(PURPOSE, "replicas-new-client")
    for gateway in stack.gateways:
        bearer = stack.token(LATE, gateway.url)
        for other in stack.gateways:
            answer = _query(other.url, bearer, PERSON_QUERY, {"ref": ref, "ctx": ctx})
            assert access_id_of(answer), (gateway.name, other.name, answer.text)
    assert [g.starts for g in stack.gateways] == starts  # no replica restarted


# --- a replica killed under load ------------------------------------------------------


@dataclass
class Outcomes:
    delivered: list[str] = field(default_factory=list)  # accessIds of successful answers
    typed: dict[str, int] = field(default_factory=dict)  # GraphQL error code → count
    balancer: dict[int, int] = field(default_factory=dict)  # HAProxy's retryable errors
    untyped: list[str] = field(default_factory=list)  # anything else: must stay empty


def _classify(answer: httpx.Response, out: Outcomes) -> None:
    access_id = access_id_of(answer)
    if access_id is not None:
        out.delivered.append(access_id)
        return
    try:
        body = answer.json()
        codes = [e["extensions"]["code"] for e in body["errors"]]
    except (ValueError, KeyError, TypeError):
        out.untyped.append(f"{answer.status_code} {answer.text[:200]}")
        return
    if not codes:
        out.untyped.append(f"{answer.status_code} {answer.text[:200]}")
    elif answer.status_code in (502, 503, 504) and answer.headers.get("Retry-After") == "1":
        out.balancer[answer.status_code] = out.balancer.get(answer.status_code, 0) + 1
    else:
        for code in codes:
            out.typed[code] = out.typed.get(code, 0) + 1


async def _agency_latency(http: httpx.AsyncClient, sandbox: Sandbox, ms: int) -> None:
    for url in sandbox.urls.values():
        answer = await http.put(url + "/_sandbox/faults", json={"latency_ms": ms} if ms else {})
        answer.raise_for_status()


async def _load(
    stack: Stack, persons: list[dict[str, Any]], out: Outcomes, enough: asyncio.Event
) -> None:
    """Each load client sends its own persons, one at a time, through HAProxy."""
    limits = httpx.Limits(max_connections=LOAD_CLIENTS + 4)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as http:

        async def one_client(n: int, client_id: str) -> None:
            bearer = await asyncio.to_thread(stack.token, client_id)
            ctx = context(PURPOSE, "replicas-load")
            chunk = persons[n * LOAD_PER_CLIENT : (n + 1) * LOAD_PER_CLIENT]
            for entry in chunk:
                try:
                    answer = await http.post(
                        stack.balancer + "/graphql",
                        json={
                            "query": PERSON_QUERY,
                            "variables": {"ref": identity_ref(entry), "ctx": ctx},
                        },
                        headers={"Authorization": f"Bearer {bearer}"},
                    )
                except httpx.TransportError as error:
                    out.untyped.append(f"transport error {type(error).__name__}")
                    continue
                _classify(answer, out)
                if len(out.delivered) >= KILL_AFTER:
                    enough.set()

        await asyncio.gather(*(one_client(n, c) for n, c in enumerate(LOAD)))
    enough.set()


async def test_a_replica_killed_under_load_costs_only_retryable_answers(
    stack: Stack, persons: list[dict[str, Any]]
) -> None:
    victim = stack.gateways[0]
    out = Outcomes()
    enough = asyncio.Event()
    load_persons = persons[: LOAD_CLIENTS * LOAD_PER_CLIENT]
    load = asyncio.create_task(_load(stack, load_persons, out, enough))
    await asyncio.wait_for(enough.wait(), timeout=300)
    # The agencies answer slowly for a moment, so that every replica holds requests in
    # progress (the clients are otherwise the slower side); the victim is SIGKILLed as
    # HAProxy shows it one.
    async with httpx.AsyncClient(timeout=10.0) as admin:
        try:
            await _agency_latency(admin, stack.sandbox, SLOW_AGENCY_MS)
            await asyncio.sleep(0.5)  # the requests sent before are answered
            for _ in range(500):
                if await asyncio.to_thread(stack.sessions, f"gateway-{victim.name}"):
                    break
            killed_at = len(out.delivered)
            victim.kill()
        finally:
            await _agency_latency(admin, stack.sandbox, 0)
    await asyncio.wait_for(load, timeout=300)
    print(
        f"killed after {killed_at} answers; delivered {len(out.delivered)}, "
        f"typed {out.typed}, balancer {out.balancer}, untyped {len(out.untyped)}"
    )
    assert not out.untyped, out.untyped[:10]
    # The requests the victim held were answered by HAProxy, typed and retryable.
    assert out.balancer.get(502), out.balancer
    assert len(out.delivered) > killed_at, "nothing answered after the kill"
    answered = len(out.delivered) + sum(out.typed.values()) + sum(out.balancer.values())
    assert answered == len(load_persons)
    stack.wait_servers({f"gateway-{victim.name}": "DOWN"})

    # HAProxy has taken the victim out: every request now succeeds on the two others.
    bearer = stack.token(DEMO_CLIENT_ID)
    ctx = context(PURPOSE, "replicas-after-kill")
    for entry in persons[1510:1516]:
        answer = _query(
            stack.balancer, bearer, PERSON_QUERY, {"ref": identity_ref(entry), "ctx": ctx}
        )
        assert access_id_of(answer), answer.text
        out.delivered.append(str(access_id_of(answer)))

    # No delivered answer without its entry in the one audit log.
    db = await open_database(POSTGRES, schema=stack.schema)
    try:
        logged = {access_id for _, access_id, _ in await entry_rows(db)}
    finally:
        await db.aclose()
    missing = [a for a in out.delivered if a not in logged]
    assert not missing, f"{len(missing)} delivered answers are not in the audit log"


def test_one_audit_chain_verifies(stack: Stack) -> None:
    done = _run_cli(stack.cli_env, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["problem"] is None, report
    assert report["size"] > 0
