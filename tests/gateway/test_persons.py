"""Person tokens against the sandbox FranceConnect provider, over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.errors import Unauthenticated
from gateway.persons import Citizen, PersonTokenVerifier, identity_of
from runtime.settings import load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=60)) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        yield client


def _verifier(
    sandbox: RunningSandbox, http: httpx.AsyncClient, clock: Clock, **urls: str
) -> PersonTokenVerifier:
    base = sandbox.france_connect_url
    return PersonTokenVerifier(
        urls.get("userinfo", base + "/api/v2/userinfo"),
        urls.get("jwks", base + "/api/v2/jwks"),
        urls.get("issuer", base),
        http,
        clock,
    )


async def _token(http: httpx.AsyncClient, sandbox: RunningSandbox, person: int) -> str:
    answer = await http.post(
        sandbox.france_connect_url + "/_sandbox/france_connect/tokens", json={"person": person}
    )
    token: str = answer.json()["access_token"]
    return token


async def _userinfo_calls(http: httpx.AsyncClient, sandbox: RunningSandbox) -> int:
    stats = (await http.get(sandbox.france_connect_url + "/_sandbox/stats")).json()
    calls: int = stats["paths"].get("/api/v2/userinfo", 0)
    return calls


async def _reason(verifier: PersonTokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_valid_token_gives_the_persons_identity(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    verifier = _verifier(sandbox, http, Clock())
    listed = await http.get(sandbox.france_connect_url + "/_sandbox/persons", params={"limit": 60})
    for entry in listed.json()["data"][:15]:
        p = entry["personne"]
        token = await _token(http, sandbox, entry["index"])
        citizen = await verifier.verify(token)
        assert isinstance(citizen, Citizen) and citizen.token == token
        assert token not in repr(citizen)
        assert citizen.subject.endswith("v1")
        identity = citizen.identity
        assert identity.birth_name == p["nomNaissance"]
        assert list(identity.given_names) == p["prenoms"]
        assert identity.birth_date == date(
            int(p["anneeDateNaissance"]), int(p["moisDateNaissance"]), int(p["jourDateNaissance"])
        )
        assert identity.sex == p["sexeEtatCivil"]
        assert identity.birth_country == p["codeCogInseePaysNaissance"]
        assert identity.birth_place == p.get("codeCogInseeCommuneNaissance")
        assert identity.usage_name == p.get("nomUsage")


async def test_forged_token_is_refused(http: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    verifier = _verifier(sandbox, http, Clock())
    assert await _reason(verifier, "aZ3kq9Vb0x7LmN2pQ4rS6tU8wY1cE5gH") == "person_token_rejected"
    assert await _reason(verifier, "not a token!") == "malformed"


async def test_wrong_issuer_is_refused(http: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    verifier = _verifier(sandbox, http, Clock(), issuer="https://app.franceconnect.gouv.fr")
    assert await _reason(verifier, await _token(http, sandbox, 1)) == "wrong_issuer"


async def test_userinfo_signed_by_another_key_is_refused(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    # A fake provider that knows the real issuer and the real key id, not the real key.
    real_kid = (await http.get(sandbox.france_connect_url + "/api/v2/jwks")).json()["keys"][0][
        "kid"
    ]
    other = ECKey.generate_key("P-256")
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": sandbox.france_connect_url,
        "sub": "forged",
        "iat": now,
        "exp": now + 600,
        "family_name": "DUPONT",
        "given_name": "Jean",
        "birthdate": "1980-01-01",
        "gender": "male",
        "birthplace": "75056",
        "birthcountry": "99100",
    }
    forged = jwt.encode({"alg": "ES256", "kid": real_kid}, claims, other)

    def fake(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=forged, headers={"content-type": "application/jwt"})

    async with httpx.AsyncClient(mounts={"http://fake.test": httpx.MockTransport(fake)}) as mixed:
        verifier = _verifier(sandbox, mixed, Clock(), userinfo="http://fake.test/api/v2/userinfo")
        assert await _reason(verifier, "aZ3kq9Vb0x7LmN2pQ4rS6tU8") == "bad_signature"


async def test_second_verify_is_served_from_the_cache(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    clock = Clock()
    verifier = _verifier(sandbox, http, clock)
    token = await _token(http, sandbox, 2)
    await http.delete(sandbox.france_connect_url + "/_sandbox/stats")
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first
    assert await _userinfo_calls(http, sandbox) == 1
    clock.offset = timedelta(seconds=301)  # past the cache's ttl: asked again
    assert await verifier.verify(token) == first
    assert await _userinfo_calls(http, sandbox) == 2


async def test_provider_down_is_unauthenticated_not_a_crash(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = _verifier(
        sandbox, http, Clock(), userinfo=closed + "/api/v2/userinfo", jwks=closed + "/api/v2/jwks"
    )
    token = await _token(http, sandbox, 3)
    with pytest.raises(Unauthenticated) as caught:
        await down.verify(token)
    assert caught.value.reason == "provider_unavailable"
    assert caught.value.message != Unauthenticated("malformed").message
    # The provider's userinfo reachable but its keys not: still no crash.
    keyless = _verifier(sandbox, http, Clock(), jwks=closed + "/api/v2/jwks")
    assert await _reason(keyless, token) == "provider_unavailable"
    # A provider failing with 5xx is unavailable too; once it is back, all is well.
    faults = sandbox.france_connect_url + "/_sandbox/faults"
    await http.put(faults, json={"error_rate": 1.0})
    try:
        assert await _reason(_verifier(sandbox, http, Clock()), token) == "provider_unavailable"
    finally:
        await http.put(faults, json={})
    assert (await _verifier(sandbox, http, Clock()).verify(token)).identity.birth_name


async def test_settings_point_at_the_sandbox_provider() -> None:
    settings = load({})
    assert settings.franceconnect_issuer == "http://127.0.0.1:8708"
    assert settings.franceconnect_userinfo_url == "http://127.0.0.1:8708/api/v2/userinfo"
    assert settings.franceconnect_jwks_url == "http://127.0.0.1:8708/api/v2/jwks"
    assert settings.franceconnect_timeout == 2.0
    custom = load(
        {
            "UNEFOIS_FRANCECONNECT_ISSUER": "https://oidc.franceconnect.gouv.fr/api/v2",
            "UNEFOIS_FRANCECONNECT_TIMEOUT": "0.5",
        }
    )
    assert custom.franceconnect_userinfo_url == (
        "https://oidc.franceconnect.gouv.fr/api/v2/api/v2/userinfo"
    )
    assert custom.franceconnect_timeout == 0.5


def _claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "abc",
        "family_name": "Delatour",
        "given_name": "Thomas Jean Marc Pierre",
        "birthdate": "1994-04-16",
        "gender": "male",
        "birthplace": "75111",
        "birthcountry": "99100",
    }
    return {**base, **changes}


def test_claims_map_to_the_pivot_identity() -> None:
    identity = identity_of(_claims())
    assert identity.given_names == ("Thomas", "Jean", "Marc")  # three at most
    assert identity.sex == "M" and identity.birth_place == "75111"
    abroad = identity_of(_claims(birthcountry="99134", birthplace="", gender="female"))
    assert abroad.birth_place is None and abroad.sex == "F"
    named = identity_of(_claims(given_name_array=["Anne-Marie"], preferred_username="Martin"))
    assert named.given_names == ("Anne-Marie",) and named.usage_name == "Martin"
    for bad in (
        _claims(gender="other"),
        _claims(birthdate="1994-13-45"),
        _claims(birthcountry="France"),
        _claims(birthplace=""),
        _claims(family_name=""),
        {k: v for k, v in _claims().items() if k != "family_name"},
    ):
        with pytest.raises(Unauthenticated) as caught:
            identity_of(bad)
        assert caught.value.reason == "person_identity_invalid"
