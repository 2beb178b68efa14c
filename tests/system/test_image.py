"""The image's content, tested without a container engine: the build context exactly as
``.dockerignore`` lets it through, built into a wheel, installed into a clean virtual
environment, and ``unefois serve`` started from there on an empty data folder against the
sandbox, answering a query — what ``docker run`` on a fresh volume does."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.system._image import ROOT, assemble_context, build_wheel, clean_env, make_venv
from tests.system._stack import HOST, Sandbox, free_port, running_sandbox, stop, tail

pytestmark = pytest.mark.system

PRODUCT = (
    "cli",
    "runtime",
    "database",
    "gateway",
    "store",
    "schema",
    "exchange",
    "connectors",
    "sandbox",
    "policies",
    "audit",
    "eligibility",
    "prefill",
    "proactive",
)
CLIENT_ID = "demo-agency-app"
CLIENT_SECRET = "image-test-secret-" + "x" * 24  # test value, hashed into a clients file
START_TIMEOUT = 120.0
QUERY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {"
    " identity { birthName givenNames birthDate } } }"
)


@dataclass
class Installed:
    context: list[str]  # the files of the build context
    python: Path  # the new environment's interpreter
    workdir: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("image")
    context = work / "context"
    copied = assemble_context(ROOT, context)
    wheel = build_wheel(context, work / "wheels")
    python = make_venv(wheel, work / "venv")
    return Installed(copied, python, work)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("image-sandbox"), 200) as running:
        yield running


def test_the_build_context_holds_the_packages_and_no_secret(installed: Installed) -> None:
    files = installed.context
    top = {path.split("/", 1)[0] for path in files}
    assert top == {*PRODUCT, "pyproject.toml", "README.md"} | ({"LICENSE"} & top)
    for path in files:
        name = path.rsplit("/", 1)[-1]
        assert not path.startswith(("var/", ".git", "tests/", ".venv/", "bench/")), path
        assert not name.startswith(".env"), path
        assert not name.endswith((".pem", ".key", ".pyc")), path
        assert name != "signing-keys.json", path
        assert "__pycache__" not in path.split("/"), path
    # The package data the gateway reads at start is part of it.
    assert "store/alembic.ini" in files
    assert "policies/catalogue/clients.yaml" in files


def test_the_product_is_imported_from_the_new_environment(installed: Installed) -> None:
    """Run outside the checkout: every product package comes from the new environment's own
    site-packages, none from the source tree."""
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    print(importlib.import_module(name).__file__)\n"
    )
    done = subprocess.run(  # noqa: S603 - the new environment's interpreter
        [str(installed.python), "-c", code, *PRODUCT],
        cwd=installed.workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    site = installed.workdir / "venv" / "lib"
    files = [Path(line) for line in done.stdout.split()]
    assert len(files) == len(PRODUCT)
    for name, file in zip(PRODUCT, files, strict=True):
        assert file.is_relative_to(site), (name, file)
        assert not file.is_relative_to(ROOT), (name, file)


def _hash_secret(installed: Installed) -> str:
    done = subprocess.run(  # noqa: S603 - the new environment's command
        [str(installed.python.parent / "unefois"), "clients", "hash-secret"],
        input=CLIENT_SECRET + "\n",
        cwd=installed.workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_serve_from_the_new_environment_on_an_empty_data_folder(
    installed: Installed, sandbox: Sandbox
) -> None:
    data = installed.workdir / "volume"
    data.mkdir()  # a fresh volume: there, and empty
    clients = installed.workdir / "secrets" / "clients.yaml"
    clients.parent.mkdir()
    clients.write_text(
        "clients:\n"
        f"  - id: {CLIENT_ID}\n"
        "    name: Image test\n"
        f"    secret_hash: {_hash_secret(installed)}\n"
        "    scopes: [person:read]\n"
        "    sector: social\n",
        encoding="utf-8",
    )
    port = free_port()
    env = clean_env()
    env.update(
        {
            "UNEFOIS_HOST": HOST,
            "UNEFOIS_PORT": str(port),
            "UNEFOIS_DATA_DIR": str(data),
            "UNEFOIS_CLIENTS_FILE": str(clients),
            "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
            "UNEFOIS_AGENT_CONNECT_ISSUER": sandbox.agent_connect_url,
            "UNEFOIS_SMS_URL": sandbox.sms_url + "/v1/sms",
            "UNEFOIS_ELIGIBILITY_WORKERS": "1",
            "UNEFOIS_LOG_LEVEL": "WARNING",
        }
    )
    for name, url in sandbox.urls.items():
        env[f"UNEFOIS_{name.upper()}_URL"] = url
    base = f"http://{HOST}:{port}"
    log = installed.workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the new environment's command
            [str(installed.python.parent / "unefois"), "serve"],
            cwd=installed.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            deadline = time.monotonic() + START_TIMEOUT
            healthy = False
            while not healthy and time.monotonic() < deadline:
                assert process.poll() is None, f"serve exited\n{tail(log)}"
                try:
                    healthy = http.get("/healthz", timeout=1.0).status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert healthy, f"serve did not become healthy\n{tail(log)}"
            assert {"signing-keys.json", "pseudonym.key", "audit-signing-key.pem"} <= {
                p.name for p in data.iterdir()
            }

            token = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "person:read"},
                auth=(CLIENT_ID, CLIENT_SECRET),
            )
            assert token.status_code == 200, token.text
            person = http.get(
                sandbox.urls["civil_registry"] + "/_sandbox/persons", params={"limit": 1}
            ).json()["data"][0]["personne"]
            identity = {
                "birthName": person["nomNaissance"],
                "givenNames": person["prenoms"],
                "birthDate": "{:04d}-{:02d}-{:02d}".format(
                    int(person["anneeDateNaissance"]),
                    int(person["moisDateNaissance"]),
                    int(person["jourDateNaissance"]),
                ),
                "sex": person["sexeEtatCivil"],
                "birthCountry": person["codeCogInseePaysNaissance"],
            }
            if person.get("codeCogInseeCommuneNaissance"):
                identity["birthPlace"] = person["codeCogInseeCommuneNaissance"]
            answer = http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                json={
                    "query": QUERY,
                    "variables": {
                        "ref": {"identity": identity},
                        "ctx": {
                            "purpose": "rsa_instruction",
                            "recipient": "13002526500013",
                            "object": "image-test",
                        },
                    },
                },
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert "errors" not in body, body
            assert body["data"]["person"]["identity"]["birthName"] == person["nomNaissance"]
    finally:
        stop(process)
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace"), tail(log)
