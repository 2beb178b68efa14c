"""The sandbox's case-management subgraph: the gateway's tokens, cases under handles, entities."""

from __future__ import annotations

from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.cases import JWKS_PATH, build_app

NOW = 1_750_000_000.0
GATEWAY = "http://gateway.test"
KEY = OKPKey.generate_key("Ed25519", parameters={"alg": "Ed25519"}, private=True)
OTHER = OKPKey.generate_key("Ed25519", parameters={"alg": "Ed25519"}, private=True)


def _jwks_transport(fetches: list[int]) -> httpx.ASGITransport:
    async def jwks(_: Any) -> JSONResponse:
        fetches.append(1)
        public = KeySet([OKPKey.import_key(KEY.as_dict(private=False))])
        return JSONResponse(public.as_dict(private=False))

    return httpx.ASGITransport(Starlette(routes=[Route(JWKS_PATH, jwks)]))


def _token(key: OKPKey = KEY, expires: float = NOW + 300, kid: str | None = None) -> str:
    header = {"alg": "Ed25519", "kid": kid or KEY.thumbprint(), "typ": "at+jwt"}
    return jwt.encode(header, {"sub": "demo-agency-app", "exp": int(expires)}, key, ["Ed25519"])


async def _ask(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, token: str | None
) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def _client(fetches: list[int]) -> httpx.AsyncClient:
    app = build_app(GATEWAY, clock=lambda: NOW, transport=_jwks_transport(fetches))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://cases.test")


OPEN = """mutation($h: String!, $r: String!) { openCase(handle: $h, reference: $r) {
  reference openedOn status person { handle } } }"""


async def test_cases_are_kept_under_handles_and_resolved_as_entities() -> None:
    fetches: list[int] = []
    async with _client(fetches) as http:
        opened = (await _ask(http, OPEN, {"h": "h1.abc", "r": "RSA-1"}, _token())).json()
        assert opened["data"]["openCase"] == {
            "reference": "RSA-1",
            "openedOn": "2025-06-15",
            "status": "OPEN",
            "person": {"handle": "h1.abc"},
        }
        again = (await _ask(http, OPEN, {"h": "h1.def", "r": "RSA-1"}, _token())).json()
        assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        await _ask(http, OPEN, {"h": "h1.abc", "r": "RSA-2"}, _token())
        entities = """query($r: [_Any!]!) { _entities(representations: $r) {
          ... on Person { handle cases { reference } } } }"""
        reps = [{"__typename": "Person", "handle": h} for h in ("h1.abc", "h1.def")]
        body = (await _ask(http, entities, {"r": reps}, _token())).json()
        assert body["data"]["_entities"] == [
            {"handle": "h1.abc", "cases": [{"reference": "RSA-1"}, {"reference": "RSA-2"}]},
            {"handle": "h1.def", "cases": []},
        ]
        sdl = (await _ask(http, "{ _service { sdl } }", None, _token())).json()
        assert 'type Person @key(fields: "handle")' in sdl["data"]["_service"]["sdl"]
    assert len(fetches) == 1  # the keys are read once, then kept


async def test_only_the_gateways_live_tokens_are_taken() -> None:
    fetches: list[int] = []
    async with _client(fetches) as http:
        for token in (
            None,
            "not-a-token",
            _token(key=OTHER),  # signed by another key under the gateway's key id
            _token(expires=NOW - 1),
            _token(key=OTHER, kid=OTHER.thumbprint()),  # a key the gateway does not publish
        ):
            answer = await _ask(http, "{ cases { reference } }", None, token)
            assert answer.status_code == 401, token
            assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await _ask(http, "{ cases { reference } }", None, _token())).status_code == 200
