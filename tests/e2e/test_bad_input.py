"""Bad input gets a clear, typed error; nothing leaks; the process stays up."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import CONTEXT, RECIPIENT, Gateway, identity, pick

Q = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) "
    "{ person(ref: $ref, context: $ctx) { identity { birthName } } }"
)


def _codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors", [])}


async def _raw(gateway: Gateway, content: bytes, content_type: str = "application/json"):
    return await gateway.http.post(
        "/graphql",
        content=content,
        headers={"Authorization": f"Bearer {gateway.token}", "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        b'[{"query": "{ __typename }"}]',
        b'{"query": 3}',
        b'{"query": ""}',
        b'{"query": "{ __typename }", "variables": []}',
    ],
)
async def test_malformed_requests(gateway: Gateway, content: bytes) -> None:
    response = await _raw(gateway, content)
    assert response.status_code == 400
    assert _codes(response.json()) == {"BAD_USER_INPUT"}


async def test_oversized_body(gateway: Gateway) -> None:
    big = b'{"query": "{ __typename }", "x": "' + b"a" * 70_000 + b'"}'
    response = await _raw(gateway, big)
    assert response.status_code == 413
    assert _codes(response.json()) == {"BAD_USER_INPUT"}


async def test_wrong_content_type(gateway: Gateway) -> None:
    response = await _raw(gateway, b"query { __typename }", "text/plain")
    assert response.status_code == 415


async def test_no_queries_over_get(gateway: Gateway) -> None:
    response = await gateway.http.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert response.status_code == 405
    assert "data" not in response.json()


async def test_syntax_error_is_typed(gateway: Gateway) -> None:
    body = (await gateway.query("{ person(")).json()
    assert _codes(body) == {"BAD_USER_INPUT"}
    assert "data" not in body


async def test_no_field_suggestions(gateway: Gateway) -> None:
    body = (await gateway.query("{ persn { identity { birthName } } }")).json()
    assert _codes(body) == {"BAD_USER_INPUT"}
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_introspection_is_off_by_default(gateway: Gateway) -> None:
    body = (await gateway.query("{ __schema { types { name } } }")).json()
    assert _codes(body) == {"BAD_USER_INPUT"}
    assert "data" not in body


async def test_depth_limit(gateway: Gateway) -> None:
    deep = "{ a " + "{ a " * 20 + "}" * 21
    body = (await gateway.query(deep)).json()
    assert _codes(body) == {"BAD_USER_INPUT"}


async def test_alias_limit(gateway: Gateway) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(40))
    body = (await gateway.query("{ " + aliases + " }")).json()
    assert _codes(body) == {"BAD_USER_INPUT"}


async def test_token_limit(gateway: Gateway) -> None:
    body = (await gateway.query("{ " + "__typename " * 3000 + "}")).json()
    assert _codes(body) == {"BAD_USER_INPUT"}


async def test_subscriptions_are_not_served(gateway: Gateway) -> None:
    response = await gateway.query("subscription { x }")
    assert response.status_code == 400
    assert _codes(response.json()) == {"BAD_USER_INPUT"}


async def test_unknown_mutation(gateway: Gateway) -> None:
    body = (await gateway.query("mutation { x }")).json()
    assert _codes(body) == {"BAD_USER_INPUT"}
    assert "data" not in body


async def test_unknown_operation_name(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/graphql",
        json={"query": "query A { __typename }", "operationName": "B"},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert response.status_code == 400
    assert _codes(response.json()) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(
    ("context", "needle"),
    [
        ({**CONTEXT, "recipient": "13002526500014"}, "SIRET"),
        ({**CONTEXT, "recipient": "1300252650001"}, "SIRET"),
        ({**CONTEXT, "object": "x" * 51}, "object"),
        ({**CONTEXT, "purpose": "Not A Purpose!"}, "purpose"),
    ],
)
async def test_invalid_context(
    gateway: Gateway, persons: list[dict[str, Any]], context: dict[str, str], needle: str
) -> None:
    ref = {"identity": identity(persons[1])}
    body = (await gateway.query(Q, {"ref": ref, "ctx": context})).json()
    assert body["data"]["person"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert needle in error["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"birthCountry": "99100", "birthPlace": None},
        {"birthCountry": "FR"},
        {"birthName": "<script>"},
        {"givenNames": []},
        {"givenNames": ["A", "B", "C", "D"]},
        {"birthPlace": "../../x"},
    ],
)
async def test_invalid_identity(
    gateway: Gateway, persons: list[dict[str, Any]], change: dict[str, Any]
) -> None:
    ident = {**identity(pick(persons, household_kind="single")), **change}
    body = (await gateway.query(Q, {"ref": {"identity": ident}, "ctx": CONTEXT})).json()
    assert _codes(body) == {"BAD_USER_INPUT"}


async def test_invalid_variable_type(gateway: Gateway) -> None:
    ref = {
        "identity": {
            "birthName": "X",
            "givenNames": ["Y"],
            "birthDate": "31/12/1990",
            "sex": "M",
            "birthCountry": "99100",
            "birthPlace": "69123",
        }
    }
    body = (await gateway.query(Q, {"ref": ref, "ctx": CONTEXT})).json()
    assert _codes(body) == {"BAD_USER_INPUT"}


async def test_exactly_one_person_reference(gateway: Gateway) -> None:
    body = (await gateway.query(Q, {"ref": {}, "ctx": CONTEXT})).json()
    assert _codes(body) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(
    "identifier", ["../v3/dss/revenu_solidarite_active/identite", "a/b", "%2e%2e", "x" * 40]
)
async def test_path_injection_ids_never_reach_another_endpoint(
    gateway: Gateway, persons: list[dict[str, Any]], identifier: str
) -> None:
    url = gateway.sandbox.urls["api_particulier"]
    async with httpx.AsyncClient() as client:
        await client.delete(url + "/_sandbox/stats")
        body = await gateway.person(
            "employment { status { identifier } }",
            {"identity": identity(persons[1]), "franceTravailId": identifier},
        )
        stats = (await client.get(url + "/_sandbox/stats")).json()
    assert body["data"]["person"]["employment"]["status"] is None
    assert _codes(body) == {"BAD_USER_INPUT"}
    assert stats["paths"] == {}


async def test_the_process_stays_up_after_bad_input(gateway: Gateway) -> None:
    await _raw(gateway, b"\xff\xfe garbage")
    assert (await gateway.http.get("/healthz")).json() == {"status": "ok"}
    assert RECIPIENT


async def test_no_suggestions_for_arguments_either(gateway: Gateway) -> None:
    body = (await gateway.query('{ auditStats(frm: "x", to: "y") { denials { count } } }')).json()
    assert _codes(body) == {"BAD_USER_INPUT"}
    assert all("Did you mean" not in e["message"] for e in body["errors"])
