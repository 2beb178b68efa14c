"""Served answers match each agency's OpenAPI document (a small structural validator)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import httpx
import pytest
import yaml

from sandbox import RunningSandbox
from tests.sandbox.conftest import OURS, persons, query, token

_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def check(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str = "$") -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        check(value, root["components"]["schemas"][name], root, where)
        return
    if value is None:
        assert schema.get("nullable"), f"{where}: null not allowed"
        return
    expected = schema.get("type")
    if expected:
        assert isinstance(value, _TYPES[expected]), f"{where}: not {expected}"
        assert not (expected in ("integer", "number") and isinstance(value, bool)), where
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in enum"
    if expected == "object":
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(properties), f"{where}: extra {set(value) - set(properties)}"
        for key, item in value.items():
            if key in properties:
                check(item, properties[key], root, f"{where}.{key}")
    if expected == "array":
        assert len(value) >= schema.get("minItems", 0), where
        for position, item in enumerate(value):
            check(item, schema.get("items", {}), root, f"{where}[{position}]")


def _document(agency: str) -> dict[str, Any]:
    text = resources.files("sandbox").joinpath("openapi", f"{agency}.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@pytest.mark.parametrize("agency", sorted(OURS))
def test_answers_match_the_document(
    http: httpx.Client, sandbox: RunningSandbox, agency: str
) -> None:
    document = _document(agency)
    served = http.get(sandbox.urls[agency] + "/openapi.yaml")
    assert served.status_code == 200 and yaml.safe_load(served.text) == document
    operation = document["paths"][OURS[agency]]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    error = operation["responses"]["404"]["content"]["application/json"]["schema"]
    headers = token(http, sandbox, agency)
    chosen = persons(http, sandbox, None, 40)[::4] + persons(http, sandbox, "job_seeker", 2)
    chosen += persons(http, sandbox, "pensioner_couple", 2) + persons(http, sandbox, "deceased", 1)
    for person in chosen:
        params = query(person["personne"])  # type: ignore[arg-type]
        answer = http.get(sandbox.urls[agency] + OURS[agency], params=params, headers=headers)
        if answer.status_code == 404:
            check(answer.json(), error, document)
            continue
        assert answer.status_code == 200, answer.text
        check(answer.json(), ok, document)
    feed = document["paths"]["/events"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    check(http.get(sandbox.urls[agency] + "/events", headers=headers).json(), feed, document)
