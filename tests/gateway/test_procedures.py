"""Registering a DS procedure: checked against the catalogue, the form and DS's descriptors.

DS is a small real HTTP server here, answering ``demarcheDescriptor`` with the sandbox's
published procedures (the descriptors as DS's GraphQL API gives them); the mapping files are
the sandbox's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.demarches import Demarches
from gateway.procedures import ProcedureRejected, procedure_for, register_procedure
from prefill.champs import descriptors_from_data, typename_of
from runtime import Parts, Services
from runtime.settings import load

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox" / "demarches"
MAPPINGS = SANDBOX / "mappings"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _node(champ: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "__typename": typename_of(champ["type"]),
        "id": champ["id"],
        "label": champ["label"],
        "description": champ.get("description"),
        "required": bool(champ.get("required", False)),
    }
    if "options" in champ:
        node["options"] = champ["options"]
    if champ.get("children"):
        node["champDescriptors"] = [_node(c) for c in champ["children"]]
    return node


@dataclass
class Ds:
    url: str = ""
    paths: dict[int, str] = field(default_factory=dict)  # a path DS gives instead of its own
    asked: list[int] = field(default_factory=list)


@pytest.fixture
async def ds() -> AsyncIterator[Ds]:
    published = yaml.safe_load((SANDBOX / "procedures.yaml").read_text(encoding="utf-8"))
    procedures = {p["number"]: p for p in published["procedures"]}
    state = Ds()

    async def graphql(request: web.Request) -> web.StreamResponse:
        number = (await request.json())["variables"]["number"]
        state.asked.append(number)
        procedure = procedures.get(number)
        if procedure is None:
            return web.json_response({"data": {"demarcheDescriptor": None}})
        path = state.paths.get(number, procedure["path"])
        descriptor = {
            "number": number,
            "title": procedure["title"],
            "demarcheURL": f"{state.url}/commencer/{path}",
            "revision": {"champDescriptors": [_node(c) for c in procedure["champs"]]},
        }
        return web.json_response({"data": {"demarcheDescriptor": descriptor}})

    app = web.Application()
    app.router.add_post("/api/v2/graphql", graphql)
    server = TestServer(app, port=0)
    await server.start_server()
    state.url = str(server.make_url("")).rstrip("/")
    yield state
    await server.close()


@pytest.fixture
async def services(ds: Ds, tmp_path: Path) -> AsyncIterator[Services]:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path / "data")})
    async with httpx.AsyncClient() as http:
        demarches = Demarches(ds.url, "test-token", http)
        async with Services.open(settings, lambda: NOW, Parts(demarches=demarches)) as opened:
            yield opened


def _variant(tmp_path: Path, name: str, change: dict[str, Any]) -> Path:
    data = yaml.safe_load((MAPPINGS / name).read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def test_a_sandbox_mapping_is_registered(services: Services, ds: Ds) -> None:
    procedure, warnings = await register_procedure(services, MAPPINGS / "demande-rsa.yaml", NOW)
    assert (procedure.number, procedure.path, procedure.form) == (101, "demande-rsa", "rsa")
    assert ds.asked == [101]
    assert any("is not mapped" in w for w in warnings)
    record = await services.procedures.get(101)
    assert (record.path, record.form, record.registered_at) == ("demande-rsa", "rsa", NOW)
    assert record.mapping["client"] == "demo-form-builder"
    assert len(descriptors_from_data(record.champs)) == len(record.champs) > 10


async def test_fields_the_purpose_never_releases_are_warned_of(services: Services, ds: Ds) -> None:
    # On 1 March 2026 citizen_prefill did not read the CAF's benefits: the RSA form's
    # "vous percevez la prime d'activité…" champs could only stay empty. From 6 December 2026
    # the catalogue grants them (with the person's agreement): no warning.
    path = MAPPINGS / "demande-rsa.yaml"
    _, before = await register_procedure(services, path, NOW)
    never = sorted(w.split(":")[0] for w in before if "in no category" in w)
    assert never == ["percoit_aah", "percoit_asf", "percoit_prime_activite"]
    _, after = await register_procedure(services, path, datetime(2026, 12, 6, tzinfo=UTC))
    assert not [w for w in after if "in no category" in w]


async def test_the_procedure_serving_a_departement(services: Services) -> None:
    assert await procedure_for(services, "rsa", "93") is None
    await register_procedure(services, MAPPINGS / "demande-rsa-seine-saint-denis.yaml", NOW)
    assert await procedure_for(services, "rsa", "75") is None  # 105 serves the 93 only
    await register_procedure(services, MAPPINGS / "demande-rsa.yaml", NOW)
    served = {d: await procedure_for(services, "rsa", d) for d in ("93", "75", None)}
    assert {d: r.number if r else None for d, r in served.items()} == {
        "93": 105,
        "75": 101,
        None: 101,
    }
    assert await procedure_for(services, "css", "93") is None


async def test_a_placeholder_champ_id_is_refused_naming_the_key(
    services: Services, tmp_path: Path
) -> None:
    data = yaml.safe_load((MAPPINGS / "demande-rsa.yaml").read_text(encoding="utf-8"))
    data["champs"]["date_naissance"] = "Q2hhbXAtMzEwNDAy"  # Champ-310402: not in procedure 101
    path = tmp_path / "rsa.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProcedureRejected) as refused:
        await register_procedure(services, path, NOW)
    assert refused.value.file == "rsa.yaml" and refused.value.key == "champs.date_naissance"
    assert str(refused.value).startswith("rsa.yaml: champs.date_naissance: ")
    assert await services.procedures.all() == []


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        ({"purpose": "no_such_purpose"}, "purpose", "not in the catalogue"),
        ({"client": "nobody"}, "client", "not in the catalogue"),
        ({"recipient": "12345678901234"}, "recipient", "SIRET"),
        ({"form": "no-such-form"}, "form", "no form"),
        ({"procedure": 999}, "procedure", "has no procedure 999"),
        ({"path": "autre-chemin"}, "path", "démarches-simplifiées says 'demande-rsa'"),
        ({"champs": {"nom_inconnu": "Q2hhbXAtMTAxMDAy"}}, "champs.nom_inconnu", "no such field"),
    ],
)
async def test_what_the_file_names_is_checked(
    services: Services, tmp_path: Path, change: dict[str, Any], key: str, problem: str
) -> None:
    path = _variant(tmp_path, "demande-rsa.yaml", change)
    with pytest.raises(ProcedureRejected) as refused:
        await register_procedure(services, path, NOW)
    assert refused.value.key == key
    assert problem in refused.value.problem
    assert await services.procedures.all() == []


async def test_the_path_ds_gives_wins(services: Services, ds: Ds) -> None:
    ds.paths[101] = "rsa-nouvelle-version"
    with pytest.raises(ProcedureRejected) as refused:
        await register_procedure(services, MAPPINGS / "demande-rsa.yaml", NOW)
    assert refused.value.key == "path"
    assert "'rsa-nouvelle-version'" in refused.value.problem


async def test_a_purpose_outside_the_form_or_the_client(services: Services, tmp_path: Path) -> None:
    # aspa_instruction is in the catalogue, not among the rsa form's purposes.
    path = _variant(tmp_path, "demande-rsa.yaml", {"purpose": "aspa_instruction"})
    with pytest.raises(ProcedureRejected) as refused:
        await register_procedure(services, path, NOW)
    assert refused.value.key == "purpose" and "prefilled under" in refused.value.problem
    # rsa_instruction is among them, but the form builder client may not use it.
    path = _variant(tmp_path, "demande-rsa.yaml", {"purpose": "rsa_instruction"})
    with pytest.raises(ProcedureRejected) as refused:
        await register_procedure(services, path, NOW)
    assert refused.value.key == "client" and "may not use" in refused.value.problem
