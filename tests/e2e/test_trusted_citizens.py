"""Citizens under UNEFOIS_TRUSTED_DOCUMENTS=registered: only the @citizens list runs, with a
real FranceConnect token of the sandbox provider (the gateway opens it at the userinfo endpoint)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from eligibility import EligibilityService
from gateway.documents import CITIZENS
from sandbox.runner import RunningSandbox
from store import DocumentStore, TrustedDocument, document_hash
from tests.e2e.conftest import open_gateway

MINE = (
    'query Mine { person(ref: {franceConnect: true}, context: {purpose: "self_access", '
    'recipient: "13002526500013", object: "mon-espace"}) { identity { birthName } } }'
)
WHO = "query Who { __typename }"


def _code(answer: httpx.Response) -> str:
    [error] = answer.json()["errors"]
    return str(error["extensions"]["code"])


async def _post(gateway: Any, token: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return await gateway.http.post("/graphql", json=body, headers=headers)  # type: ignore[no-any-return]


async def test_citizens_run_the_citizens_documents_only(
    sandbox: RunningSandbox, tmp_path: Path, rules: EligibilityService, reset_faults: None
) -> None:
    extra = {"UNEFOIS_TRUSTED_DOCUMENTS": "registered"}
    async with open_gateway(sandbox, tmp_path, rules, extra) as gateway:
        citizen = await gateway.citizen_token(0)
        store = DocumentStore(gateway.services.database)
        now = datetime.now(UTC)
        assert _code(await _post(gateway, citizen, {"query": WHO})) == (
            "PERSISTED_DOCUMENT_REQUIRED"
        )
        # A client's document is not the citizens'.
        await store.register([TrustedDocument("demo-agency-app", WHO, document_hash(WHO), now)])
        assert _code(await _post(gateway, citizen, {"query": WHO})) == (
            "PERSISTED_DOCUMENT_REQUIRED"
        )
        await store.register(
            [
                TrustedDocument(CITIZENS, WHO, document_hash(WHO), now),
                TrustedDocument(CITIZENS, MINE, document_hash(MINE), now),
            ]
        )
        answer = await _post(gateway, citizen, {"documentId": document_hash(WHO)})
        assert answer.json() == {"data": {"__typename": "Query"}}
        # The citizen's own data, by the registered text: the token is opened for real.
        mine = (await _post(gateway, citizen, {"query": MINE})).json()
        assert "errors" not in mine, mine
        assert mine["data"]["person"]["identity"]["birthName"]
        # A forged token is still refused before any document is looked at.
        forged = await _post(gateway, "not-a-token", {"documentId": document_hash(WHO)})
        assert _code(forged) == "UNAUTHENTICATED"
