"""compose.yaml against the Compose specification's JSON schema, and the topology it must
keep: three replicas with the same secrets, checked on /readyz, behind deploy/haproxy.cfg.

The schema is the one check-jsonschema ships (``vendor/compose-spec.json``, from the
compose-spec project, Apache-2.0).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cli.main import parser
from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
HAPROXY = ROOT / "deploy" / "haproxy.cfg"
REPLICAS = ("gateway-1", "gateway-2", "gateway-3")
SHARED_SECRETS = {
    "UNEFOIS_SIGNING_KEYS_FILE",
    "UNEFOIS_AUDIT_SIGNING_KEY_FILE",
    "UNEFOIS_PSEUDONYM_SECRET_FILE",
    "UNEFOIS_DS_WEBHOOK_SECRET_FILE",
}


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return document


def _schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


def test_compose_yaml_follows_the_compose_specification() -> None:
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_schema_refuses_what_compose_would() -> None:
    # The check can fail: a misspelt key is refused.
    schema = _schema()
    document = _compose()
    document["services"]["gateway-1"]["healtcheck"] = {}
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(document)


def test_three_replicas_in_production_mode_with_the_same_secrets() -> None:
    services = _compose()["services"]
    replicas = {name: services[name] for name in REPLICAS}
    assert set(replicas) == {n for n in services if n.startswith("gateway-")}
    environments = [r["environment"] for r in replicas.values()]
    assert all(e == environments[0] for e in environments)
    environment = environments[0]
    assert environment["UNEFOIS_ENV"] == "${UNEFOIS_ENV:-production}"
    assert SHARED_SECRETS <= set(environment)
    declared = _compose()["secrets"]
    mounted = {s: r["secrets"] for s, r in replicas.items()}
    assert all(m == mounted["gateway-1"] for m in mounted.values())
    for variable in SHARED_SECRETS:
        name = environment[variable].removeprefix("/run/secrets/")
        assert name in mounted["gateway-1"], variable
        assert declared[name]["file"].startswith("deploy/secrets/"), name
    assert environment["UNEFOIS_DATABASE_URL"].startswith("postgresql://")
    assert environment["UNEFOIS_REDIS_URL"].startswith("redis://")
    # Each replica keeps a data directory of its own.
    volumes = [r["volumes"] for r in replicas.values()]
    assert len({v[0] for v in volumes}) == len(REPLICAS)


def test_replica_healthchecks_and_haproxy_use_readyz() -> None:
    services = _compose()["services"]
    for name in REPLICAS:
        check = " ".join(services[name]["healthcheck"]["test"])
        assert "/readyz" in check, name
    config = HAPROXY.read_text(encoding="utf-8")
    assert re.search(r"^\s*http-check send meth GET uri /readyz$", config, re.M)
    assert re.search(r"^\s*balance roundrobin$", config, re.M)
    assert re.search(r"^\s*retry-on conn-failure$", config, re.M)
    assert re.search(r"^\s*option redispatch", config, re.M)


def test_the_haproxy_backend_lists_the_three_replicas() -> None:
    config = HAPROXY.read_text(encoding="utf-8")
    servers = re.findall(r'^\s*server (\S+) "\$\{(UNEFOIS_REPLICA_\d)\}"', config, re.M)
    defaults = dict(re.findall(r'^\s*presetenv (\S+) "([^"]*)"', config, re.M))
    haproxy = _compose()["services"]["haproxy"]
    addresses = {v: haproxy["environment"][v] for _, v in servers}
    assert sorted(addresses.values()) == [f"{r}:8000" for r in REPLICAS]
    assert {defaults[v] for _, v in servers} == set(addresses.values())
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy["volumes"]


def test_the_sandbox_is_an_optional_profile() -> None:
    services = _compose()["services"]
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert all("profiles" not in services[n] for n in services if n != "sandbox")


def test_secrets_and_the_agencies_file_are_never_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "deploy/secrets/signing-keys.json", "deploy/agencies.env"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.stdout.split() == ["deploy/secrets/signing-keys.json", "deploy/agencies.env"]


def test_haproxy_accepts_the_configuration() -> None:
    if shutil.which("haproxy") is None:
        unavailable("haproxy is not installed (make test installs it)")
    checked = subprocess.run(  # noqa: S603 - the Debian package's haproxy, our file
        ["haproxy", "-c", "-f", str(HAPROXY)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_worker_service_runs_batches_from_the_rabbitmq_broker() -> None:
    document = _compose()
    services = document["services"]
    worker, broker = services["worker"], services["rabbitmq"]
    # The gateway's image and settings, running `unefois worker` instead of the server.
    assert worker["image"] == services["gateway-1"]["image"]
    assert worker["command"][:2] == ["unefois", "worker"]
    assert worker["environment"] == services["gateway-1"]["environment"]
    assert worker["secrets"] == services["gateway-1"]["secrets"]
    assert worker["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
    assert worker["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert worker["healthcheck"] == {"disable": True}  # no HTTP server to ask
    assert worker["volumes"][0].endswith(":/var/lib/unefois")
    assert worker["volumes"][0] not in [services[r]["volumes"][0] for r in REPLICAS]
    # The broker URL, a secret (it holds the broker's password), given to both.
    url = worker["environment"]["UNEFOIS_BROKER_URL_FILE"]
    assert url == "/run/secrets/broker-url" and "broker-url" in worker["secrets"]
    assert "UNEFOIS_BROKER_URL" not in worker["environment"]
    assert document["secrets"]["broker-url"]["file"] == "deploy/secrets/broker-url"
    # The official image on a pinned release line, checked healthy before the workers start.
    name, _, tag = broker["image"].partition(":")
    assert name == "rabbitmq" and re.fullmatch(r"\d+\.\d+(\.\d+)?", tag), broker["image"]
    assert "rabbitmq-diagnostics" in broker["healthcheck"]["test"]
    assert broker["hostname"] == "rabbitmq"  # the node's name, hence its queues' directory
    assert any(v.endswith(":/var/lib/rabbitmq") for v in broker["volumes"])
    (account,) = broker["secrets"]
    assert account["target"].startswith("/etc/rabbitmq/conf.d/")
    assert document["secrets"][account["source"]]["file"].startswith("deploy/secrets/")


def test_the_worker_is_started_by_the_cli_it_names() -> None:
    command = _compose()["services"]["worker"]["command"]
    assert command[0] == "unefois"  # the image's console script, cli.main:main
    args = parser().parse_args(command[1:])
    assert args.command == "worker" and args.processes >= 1 and args.threads >= 1


def test_every_secret_the_agencies_file_names_is_mounted_and_made_by_the_guide() -> None:
    # A `_FILE` naming a file no replica has stops every replica at start.
    example = (ROOT / "deploy" / "agencies.env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^UNEFOIS_\w+_FILE=/run/secrets/(\S+)$", example, re.M))
    assert {"franceconnect-client-secret", "agent-connect-client-secret", "sms-token"} <= named
    document = _compose()
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for service in (*REPLICAS, "worker"):
        mounted = set(document["services"][service]["secrets"])
        assert named <= mounted, (service, named - mounted)
    for name in named:
        assert document["secrets"][name]["file"] == f"deploy/secrets/{name}", name
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", guide), name


def test_replicas_and_worker_read_the_operators_policy_catalogue() -> None:
    services = _compose()["services"]
    for service in (*REPLICAS, "worker"):
        where = services[service]["environment"]["UNEFOIS_POLICIES_DIR"]
        assert f"./deploy/policies:{where}:ro" in services[service]["volumes"], service
