"""``unefois procedure`` against the sandbox démarches-simplifiées, served over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cli.main import main
from exchange import PersonReference
from gateway.citizen.signin import identity_data
from gateway.client_store import LiveClients, ensure_demo_clients
from gateway.dossiers.acting import Registered, acting_for
from gateway.dossiers.start import binding
from gateway.sealing import Sealer
from prefill import load_forms
from prefill.ds_payload import ds_payload
from proactive.population import identity_from_params
from runtime import Parts, Services
from runtime.settings import load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from schema.prefill import fill_form
from store.dossiers import DossierLink
from tests.sandbox.test_demarches_support import (
    ADRESSE,
    AIDE,
    ATTESTATION,
    LOGEMENT,
    LOYER,
    NATIONALITE,
    SITUATION,
    form_of,
    submit,
)
from tests.system._stack import previous_month
from tests.upstreams import agency_env

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "sandbox" / "demarches" / "mappings"
MONTH = previous_month()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def ds_url(sandbox: RunningSandbox) -> str:
    return sandbox.demarches_url


@pytest.fixture(autouse=True)
def env(ds_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNEFOIS_DS_URL", ds_url)
    for name in ("UNEFOIS_DATABASE_URL", "UNEFOIS_DATABASE_SCHEMA", "UNEFOIS_ENV"):
        monkeypatch.delenv(name, raising=False)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["procedure", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_sandbox_procedures_are_registered_listed_shown_and_removed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(str(p) for p in MAPPINGS.glob("*.yaml"))
    code, out, err = _cli(capsys, "register", *files)
    assert code == 0, err
    assert out.count(" registered for form ") == len(files) == 5
    assert "warning: demande-rsa.yaml: " in out  # the sworn statement stays the person's
    code, out, _ = _cli(capsys, "list")
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert [(n, p, f, t) for n, p, f, t, _ in lines] == [
        ("101", "demande-rsa", "rsa", "-"),
        ("102", "demande-prime-activite", "ppa", "-"),
        ("103", "demande-css", "css", "-"),
        ("104", "demande-aspa", "aspa", "-"),
        ("105", "demande-rsa-seine-saint-denis", "rsa", "93"),
    ]
    code, out, _ = _cli(capsys, "show", "105")
    shown = json.loads(out)
    assert code == 0 and shown["mapping"]["territory"] == ["93"]
    assert any(c["type"] == "repetition" and c["children"] for c in shown["champs"])
    assert _cli(capsys, "remove", "105")[:2] == (0, "procedure 105 removed\n")
    code, out, err = _cli(capsys, "remove", "105")
    assert (code, out) == (1, "") and "no procedure 105 is registered" in err
    assert _cli(capsys, "show", "105")[0] == 1
    assert len(_cli(capsys, "list")[1].strip().splitlines()) == 4


def test_a_placeholder_champ_id_is_refused_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = yaml.safe_load((MAPPINGS / "demande-rsa.yaml").read_text(encoding="utf-8"))
    # The illustrative id of the shipped examples (Champ-310402): no champ of procedure 101.
    data["champs"]["date_naissance"] = "Q2hhbXAtMzEwNDAy"
    path = tmp_path / "rsa-placeholder.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, err = _cli(capsys, "register", str(path), str(MAPPINGS / "demande-css.yaml"))
    assert code == 1
    assert err.startswith(
        "unefois procedure: refused: rsa-placeholder.yaml: champs.date_naissance:"
    )
    assert "procedure 103 (demande-css) registered" in out  # the other file still is
    assert _cli(capsys, "list")[1].startswith("103\t")


def test_a_procedure_ds_does_not_have(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = yaml.safe_load((MAPPINGS / "demande-css.yaml").read_text(encoding="utf-8"))
    data["procedure"] = 999
    path = tmp_path / "css.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, err = _cli(capsys, "register", str(path))
    assert code == 1
    assert "css.yaml: procedure: démarches-simplifiées has no procedure 999" in err


def test_the_webhook_url_carries_the_gateways_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNEFOIS_PUBLIC_URL", "https://passerelle.example.fr/")
    monkeypatch.setenv("UNEFOIS_DS_WEBHOOK_SECRET", "s" * 32)
    code, out, _ = _cli(capsys, "webhook-url")
    assert (code, out) == (
        0,
        "https://passerelle.example.fr/demarches-simplifiees/notifications/" + "s" * 32 + "\n",
    )


def test_without_a_configured_secret_the_url_is_the_one_the_gateway_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _cli(capsys, "webhook-url")

    async def secret() -> str:
        async with Services.open(load(), _now) as services:
            return services.ds_webhook_secret

    expected = asyncio.run(secret())
    assert len(expected) >= 32
    assert (code, out) == (
        0,
        f"http://127.0.0.1:8000/demarches-simplifiees/notifications/{expected}\n",
    )


# --- sync: the sandbox's agencies and démarches-simplifiées, a dossier deposited there ---


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def whole_sandbox(
    env: None, sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> RunningSandbox:
    monkeypatch.setenv("UNEFOIS_ELIGIBILITY_WORKERS", "1")
    for name, value in agency_env(sandbox).items():
        monkeypatch.setenv(name, value)
    return sandbox


def _someone(sandbox: RunningSandbox) -> dict[str, Any]:
    with httpx.Client(timeout=5.0) as client:
        answer = client.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "scenario:seul-35-sans-revenu", "limit": 20},
        )
    entry: dict[str, Any] = next(e for e in answer.json()["data"] if e["role"] == "adult")
    return entry


def _instruction_mapping(tmp_path: Path) -> Path:
    """The sandbox's RSA procedure, instructed by the département under its legal basis
    (no consent to record before the dossier is read again)."""
    data = yaml.safe_load((MAPPINGS / "demande-rsa.yaml").read_text(encoding="utf-8"))
    data.update(purpose="rsa_instruction", client="demo-agency-app")
    path = tmp_path / "rsa-instruction.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def _prefilled_dossier(person: dict[str, Any], ours: bool) -> tuple[int, str]:
    """A dossier prefilled through DS's API with what the gateway reads for the procedure,
    as the gateway creates one; ``ours``: with the gateway's link to it, the person's
    identity sealed."""
    now = _now()
    identity = identity_from_params(person["personne"])
    async with Services.open(load(), _now, Parts(rules=True)) as services:
        await ensure_demo_clients(services.clients, now)  # as `unefois run` does
        registry = await LiveClients().registry(services.clients)
        chosen = Registered.of(await services.procedures.get(101))
        rc = acting_for(services, registry, chosen.procedure.client, now)
        form = load_forms()["rsa"]
        view, filled = await fill_form(
            rc, PersonReference(identity=identity), chosen.context(), form
        )
        payload = ds_payload(form, filled, chosen.procedure, chosen.champs)
        created = await services.demarches.create_dossier(101, payload.body)
        if ours:
            sealed = Sealer(services.seal_key).seal(
                identity_data(identity), binding(created.number)
            )
            await services.dossiers.create(
                DossierLink(
                    number=created.number,
                    procedure=101,
                    form="rsa",
                    offer_id=None,
                    person="pseudonyme-de-test",
                    sealed=sealed,
                    access_id=view.access_id,
                    status="created",
                    created_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(days=30),
                )
            )
    return created.number, created.url


def _deposit(sandbox: RunningSandbox, number: int, url: str) -> None:
    form = form_of(sandbox, number)
    # What the person types: what no agency gave, or what DS's champs could not take.
    form[NATIONALITE.key] = ["Française"]
    form[ADRESSE.key] = ["3 rue Pasteur 69003 Lyon"]
    form[SITUATION.key] = form.get(SITUATION.key) or ["Célibataire"]
    form[LOGEMENT.key] = ["Locataire"]
    form[LOYER.key] = ["480"]
    form[AIDE.key] = ["false"]
    form[ATTESTATION.key] = ["true"]
    with httpx.Client(timeout=10.0) as browser:
        done = submit(browser, url, form)
    errors = re.findall(r'<li><a href="#[^"]*">([^<]*)<', done.text)
    assert done.status_code == 200 and "a bien été déposé" in done.text, errors


def _status(number: int) -> str:
    async def read() -> str:
        async with Services.open(load(), _now) as services:
            return (await services.dossiers.get(number)).status

    return asyncio.run(read())


def test_sync_processes_a_submitted_dossier_once(
    capsys: pytest.CaptureFixture[str], whole_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    code, _, err = _cli(capsys, "register", str(_instruction_mapping(tmp_path)))
    assert code == 0, err
    person = _someone(whole_sandbox)
    number, url = asyncio.run(_prefilled_dossier(person, ours=True))
    # Still a draft on DS: DS lists no draft, there is nothing to do yet.
    code, out, err = _cli(capsys, "sync")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "procedure 101: processed 0, already 0, not ours 0, not submitted 0, failed 0, rejected 0"
    )
    assert _status(number) == "created"

    _deposit(whole_sandbox, number, url)  # no webhook is set: the call is "lost"
    other, other_url = asyncio.run(_prefilled_dossier(person, ours=False))
    _deposit(whole_sandbox, other, other_url)

    code, out, err = _cli(capsys, "sync")
    assert code == 0, err
    assert out.splitlines() == [
        "procedure 101: processed 1, already 0, not ours 1, not submitted 0, failed 0, rejected 0",
        "total: processed 1, already 0, not ours 1, not submitted 0, failed 0, rejected 0",
    ]
    assert _status(number) == "processed"

    # Nothing new since: the second sync finds nothing to do.
    code, out, err = _cli(capsys, "sync")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "procedure 101: processed 0, already 0, not ours 0, not submitted 0, failed 0, rejected 0"
    )
    # Looking again from further back: the dossier is not processed a second time.
    code, out, err = _cli(capsys, "sync", "--since", "2000-01-01T00:00:00")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "procedure 101: processed 0, already 0, not ours 0, not submitted 0, failed 0, rejected 0"
    )


def test_sync_exits_1_when_ds_cannot_be_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _cli(capsys, "register", str(MAPPINGS / "demande-css.yaml"))
    assert code == 0, err
    monkeypatch.setenv("UNEFOIS_DS_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("UNEFOIS_ELIGIBILITY_WORKERS", "1")
    code, out, err = _cli(capsys, "sync")
    assert code == 1
    assert out.splitlines()[0].endswith("(démarches-simplifiées could not be asked)")
    assert "some dossiers were not processed" in err


def test_sync_refuses_a_date_that_is_not_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _cli(capsys, "sync", "--since", "hier")
    assert exited.value.code == 2
    assert "not an ISO 8601 date-time: 'hier'" in capsys.readouterr().err
