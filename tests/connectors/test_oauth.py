from __future__ import annotations

import asyncio
import base64
from urllib.parse import unquote

import pytest

from connectors import ClientCredentials, UpstreamClient, UpstreamInvalid, UpstreamUnavailable
from connectors.transport import RawResponse
from tests.connectors.conftest import FakeMonotonic, FakeTransport, Request, answer, make_client


class Agency:
    """Token endpoint + one data endpoint that accepts only the latest token."""

    def __init__(self) -> None:
        self.issued = 0
        self.revoked: set[str] = set()

    def __call__(self, request: Request) -> RawResponse:
        if request.url.path == "/oauth/token":
            assert request.method == "POST"
            assert request.headers["authorization"].startswith("Basic ")
            assert request.body is not None and b"grant_type=client_credentials" in request.body
            self.issued += 1
            token = f"token-{self.issued}"
            return answer(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": 600}
            )
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token.startswith("token-") or token in self.revoked:
            return answer(401, json={"errors": [{"code": "00101"}]})
        return answer(200, json={"token": token})


def wire(agency: Agency, clock: FakeMonotonic) -> tuple[UpstreamClient, ClientCredentials]:
    http = make_client(
        "https://agency.example", token=None, transport=FakeTransport(agency), monotonic=clock
    )
    creds = ClientCredentials(http, "client", "secret", clock=clock)
    http.auth = creds
    return http, creds


async def test_token_is_cached_until_shortly_before_expiry() -> None:
    agency, clock = Agency(), FakeMonotonic()
    _, creds = wire(agency, clock)
    assert await creds.token() == "token-1"
    clock.advance(500)
    assert await creds.token() == "token-1"
    clock.advance(80)  # within the 30 s margin of the 600 s lifetime
    assert await creds.token() == "token-2"


async def test_concurrent_callers_share_one_refresh() -> None:
    agency, clock = Agency(), FakeMonotonic()
    _, creds = wire(agency, clock)
    tokens = await asyncio.gather(*(creds.token() for _ in range(20)))
    assert set(tokens) == {"token-1"} and agency.issued == 1


async def test_refreshes_once_on_401() -> None:
    agency, clock = Agency(), FakeMonotonic()
    http, _ = wire(agency, clock)
    assert await http.get_json(["data"], []) == {"token": "token-1"}
    agency.revoked.add("token-1")
    assert await http.get_json(["data"], []) == {"token": "token-2"}
    agency.revoked.add("token-2")
    agency.revoked.add("token-3")
    with pytest.raises(UpstreamUnavailable, match="credentials"):
        await http.get_json(["data"], [])
    assert agency.issued == 3


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer", "expires_in": 60},
        {"access_token": "t", "token_type": "mac", "expires_in": 60},
        {"access_token": "t", "token_type": "Bearer", "expires_in": "soon"},
        {"access_token": "t", "token_type": "Bearer", "expires_in": 0},
    ],
)
async def test_malformed_token_answers(body: dict[str, object]) -> None:
    http = make_client(
        "https://agency.example",
        token=None,
        transport=FakeTransport(lambda r: answer(200, json=body)),
    )
    with pytest.raises(UpstreamInvalid):
        await ClientCredentials(http, "c", "s").token()


async def test_refused_client_credentials() -> None:
    http = make_client(
        "https://agency.example",
        token=None,
        transport=FakeTransport(lambda r: answer(401, json={"error": "x"})),
    )
    with pytest.raises(UpstreamUnavailable, match="credentials"):
        await ClientCredentials(http, "c", "s").token()


async def test_basic_credentials_are_form_encoded_first() -> None:
    """RFC 6749 §2.3.1: a ``:`` in the client id must not split it from the secret."""
    transport = FakeTransport(
        lambda r: answer(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 60})
    )
    http = make_client("https://agency.example", token=None, transport=transport)
    await ClientCredentials(http, "client:1", "s é+%/", scope="read").token()
    request = transport.requests[0]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body == b"grant_type=client_credentials&scope=read"
    encoded = request.headers["authorization"].removeprefix("Basic ")
    raw_id, raw_secret = base64.b64decode(encoded).decode("ascii").split(":")
    assert (unquote(raw_id), unquote(raw_secret)) == ("client:1", "s é+%/")
