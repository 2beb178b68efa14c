import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette

from gateway.clients import hash_secret, parse_clients
from gateway.keys import SigningKeys, generate_key, load_or_create, rotate
from gateway.oauth import TOKEN_BODY_LIMIT, build_authorization_server, oauth_routes
from gateway.ratelimit import MemoryRateLimiter
from gateway.tokens import TokenVerifier
from runtime.settings import Settings

ISSUER = "https://gateway.test"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests"
OTHER_SECRET = "another-s3cret"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _registry_yaml() -> str:
    return f"""
clients:
  - id: caf-web
    name: CAF web form
    secret_hash: "{hash_secret(SECRET)}"
    scopes: [person:read, prefill:read, prefill:write]
    sector: social
  - id: partner
    name: Partner resource server
    secret_hash: "{hash_secret(OTHER_SECRET)}"
    scopes: [eligibility:read]
    sector: social
    audience: partner-api
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys([generate_key("Ed25519")])


@pytest.fixture
def settings() -> Settings:
    return Settings(public_url=ISSUER, token_issuer=ISSUER, token_ttl=300)


@pytest.fixture
async def client(settings: Settings, keys: SigningKeys, clock: Clock) -> httpx.AsyncClient:
    registry = parse_clients(Path("clients.yaml"), _registry_yaml())
    server = build_authorization_server(settings, registry, keys, clock)
    app = Starlette(routes=oauth_routes(server))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ISSUER) as http:
        yield http


def _verifier(keys: SigningKeys, clock: Clock) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience="unefois", keys=keys, clock=clock)


async def test_client_secret_basic(client: httpx.AsyncClient, keys: SigningKeys, clock: Clock):
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("caf-web", SECRET),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "person:read prefill:read prefill:write"
    assert "refresh_token" not in body
    principal = await _verifier(keys, clock).verify(body["access_token"])
    assert principal.client_id == "caf-web"
    assert principal.scopes == frozenset({"person:read", "prefill:read", "prefill:write"})
    assert principal.expires_at == NOW + timedelta(seconds=300)


async def test_rfc9068_claims(client: httpx.AsyncClient, keys: SigningKeys) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "prefill:read"},
        auth=("caf-web", SECRET),
    )
    token = jwt.decode(response.json()["access_token"], keys.current, algorithms=["Ed25519"])
    assert token.header == {"alg": "Ed25519", "kid": keys.current.kid, "typ": "at+jwt"}
    claims = token.claims
    assert claims["iss"] == ISSUER
    assert claims["sub"] == claims["client_id"] == "caf-web"
    assert claims["aud"] == "unefois"
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["exp"] == claims["iat"] + 300
    assert claims["scope"] == "prefill:read"
    assert len(claims["jti"]) >= 16


async def test_client_secret_post_and_scope_subset(
    client: httpx.AsyncClient, keys: SigningKeys, clock: Clock
) -> None:
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "caf-web",
            "client_secret": SECRET,
            "scope": "prefill:read person:read",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "person:read prefill:read"
    principal = await _verifier(keys, clock).verify(response.json()["access_token"])
    assert principal.scopes == frozenset({"person:read", "prefill:read"})


async def test_client_audience_goes_into_the_token(
    client: httpx.AsyncClient, keys: SigningKeys
) -> None:
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("partner", OTHER_SECRET)
    )
    token = jwt.decode(response.json()["access_token"], keys.current, algorithms=["Ed25519"])
    assert token.claims["aud"] == "partner-api"


@pytest.mark.parametrize(
    ("auth", "data"),
    [
        (("caf-web", "wrong"), {"grant_type": "client_credentials"}),
        (("nobody", SECRET), {"grant_type": "client_credentials"}),
        (None, {"grant_type": "client_credentials"}),
        (None, {"grant_type": "client_credentials", "client_id": "caf-web"}),
        (
            None,
            {"grant_type": "client_credentials", "client_id": "caf-web", "client_secret": "x"},
        ),
    ],
)
async def test_invalid_client(
    client: httpx.AsyncClient, auth: tuple[str, str] | None, data: dict[str, str]
) -> None:
    response = await client.post("/oauth/token", data=data, auth=auth)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.headers["cache-control"] == "no-store"


async def test_unknown_and_wrong_secret_answer_alike(client: httpx.AsyncClient) -> None:
    grant = {"grant_type": "client_credentials"}
    unknown = await client.post("/oauth/token", data=grant, auth=("nobody", "x"))
    wrong = await client.post("/oauth/token", data=grant, auth=("caf-web", "x"))
    assert unknown.json() == wrong.json()


async def test_unsupported_grant_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token", data={"grant_type": "password"}, auth=("caf-web", SECRET)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_scope_escalation_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "person:read eligibility:read"},
        auth=("caf-web", SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b"scope=person%3Aread", "application/x-www-form-urlencoded", 400, "invalid_request"),
        (
            b"grant_type=client_credentials&grant_type=client_credentials",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
        (b'{"grant_type": "client_credentials"}', "application/json", 400, "invalid_request"),
        (b"\xff\xfe", "application/x-www-form-urlencoded", 400, "invalid_request"),
        (
            b"grant_type=client_credentials&x=" + b"a" * TOKEN_BODY_LIMIT,
            "application/x-www-form-urlencoded",
            413,
            "invalid_request",
        ),
    ],
)
async def test_malformed_requests(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int, error: str
) -> None:
    response = await client.post(
        "/oauth/token",
        content=content,
        headers={"content-type": content_type},
        auth=("caf-web", SECRET),
    )
    assert response.status_code == status
    assert response.json()["error"] == error


async def test_two_authentication_methods_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "caf-web", "client_secret": SECRET},
        auth=("caf-web", SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_token_endpoint_is_post_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/oauth/token?grant_type=client_credentials")
    assert response.status_code == 405


async def test_jwks_verifies_issued_tokens(client: httpx.AsyncClient) -> None:
    jwks = await client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert all("d" not in key for key in jwks.json()["keys"])
    issued = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("caf-web", SECRET)
    )
    # Verified with nothing but the published document, as another resource server would.
    key_set = KeySet.import_key_set(jwks.json())
    token = jwt.decode(issued.json()["access_token"], key_set, algorithms=["Ed25519"])
    assert token.claims["client_id"] == "caf-web"


async def test_metadata(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    meta = response.json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == ISSUER + "/oauth/token"
    assert meta["jwks_uri"] == ISSUER + "/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "eligibility:read" in meta["scopes_supported"]


async def test_plain_http_allowed_on_loopback_only(keys: SigningKeys, clock: Clock) -> None:
    registry = parse_clients(Path("clients.yaml"), _registry_yaml())
    grant = {"grant_type": "client_credentials"}
    for public_url, status in (("http://127.0.0.1:8000", 200), ("http://gateway:8000", 400)):
        settings = Settings(public_url=public_url, token_issuer=public_url)
        server = build_authorization_server(settings, registry, keys, clock)
        transport = httpx.ASGITransport(Starlette(routes=oauth_routes(server)))
        async with httpx.AsyncClient(transport=transport, base_url=public_url) as http:
            basic = base64.b64encode(f"caf-web:{SECRET}".encode()).decode()
            response = await http.post(
                "/oauth/token", data=grant, headers={"authorization": f"Basic {basic}"}
            )
        assert response.status_code == status
        if status != 200:
            assert response.json()["error"] == "insecure_transport"


# The token endpoint's admission. The buckets' clock stands still, so nothing refills during
# a test: what is refused is decided by counts, never by timing.
GRANT = {"grant_type": "client_credentials"}


def _limited_app(keys: SigningKeys, clock: Clock, **limits: float) -> Starlette:
    settings = Settings(public_url=ISSUER, token_issuer=ISSUER, **limits)  # type: ignore[arg-type]
    registry = parse_clients(Path("clients.yaml"), _registry_yaml())
    server = build_authorization_server(settings, registry, keys, clock)
    return Starlette(routes=oauth_routes(server, MemoryRateLimiter(clock=lambda: 0.0)))


async def _from(
    app: Starlette, address: str, auth: tuple[str, str] | None = None, **form: str
) -> httpx.Response:
    transport = httpx.ASGITransport(app, client=(address, 50123))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        return await http.post("/oauth/token", data={**GRANT, **form}, auth=auth)


def _assert_slow_down(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "slow_down"
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["cache-control"] == "no-store"


async def test_a_flood_from_one_address_does_not_stop_another(
    keys: SigningKeys, clock: Clock
) -> None:
    app = _limited_app(keys, clock, token_burst_per_address=3, token_burst_per_client=100)
    for i in range(3):
        refused = await _from(app, "203.0.113.7", auth=(f"guess-{i}", "x"))
        assert refused.status_code == 401
    # Past its burst the flooding address is turned away before any hash, whatever it sends,
    # even the right secret.
    _assert_slow_down(await _from(app, "203.0.113.7", auth=("caf-web", SECRET)))
    _assert_slow_down(await _from(app, "203.0.113.7", client_id="x", client_secret="y"))
    legitimate = await _from(app, "198.51.100.20", auth=("caf-web", SECRET))
    assert legitimate.status_code == 200, legitimate.text
    assert legitimate.json()["access_token"]


async def test_an_ipv6_flood_counts_by_its_64_block(keys: SigningKeys, clock: Clock) -> None:
    app = _limited_app(keys, clock, token_burst_per_address=2, token_burst_per_client=100)
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::ffff"):
        assert (await _from(app, host, auth=("guess", "x"))).status_code == 401
    _assert_slow_down(await _from(app, "2001:db8:1:2:abcd::9", auth=("caf-web", SECRET)))
    assert (await _from(app, "2001:db8:1:3::1", auth=("caf-web", SECRET))).status_code == 200


async def test_a_flood_against_one_client_id_spares_the_others(
    keys: SigningKeys, clock: Clock
) -> None:
    app = _limited_app(keys, clock, token_burst_per_address=100, token_burst_per_client=3)
    # Spread over addresses, as a distributed attempt would be.
    for i in range(3):
        assert (await _from(app, f"192.0.2.{i}", auth=("caf-web", "guess"))).status_code == 401
    _assert_slow_down(await _from(app, "192.0.2.50", auth=("caf-web", "guess")))
    # The id in a form counts as the same id as in a Basic header.
    _assert_slow_down(await _from(app, "192.0.2.51", client_id="caf-web", client_secret="guess"))
    other = await _from(app, "192.0.2.52", auth=("partner", OTHER_SECRET))
    assert other.status_code == 200, other.text


async def test_being_limited_does_not_tell_whether_an_id_exists(
    keys: SigningKeys, clock: Clock
) -> None:
    app = _limited_app(keys, clock, token_burst_per_address=100, token_burst_per_client=2)
    answers: dict[str, list[int]] = {}
    for client_id in ("caf-web", "no-such-client"):
        answers[client_id] = [
            (await _from(app, f"192.0.2.{i}", auth=(client_id, "guess"))).status_code
            for i in range(4)
        ]
    assert answers["caf-web"] == answers["no-such-client"] == [401, 401, 429, 429]


async def test_a_rotation_is_followed_without_restart(
    tmp_path: Path, settings: Settings, clock: Clock
) -> None:
    keys = load_or_create(tmp_path, "Ed25519")
    registry = parse_clients(Path("clients.yaml"), _registry_yaml())
    app = Starlette(
        routes=oauth_routes(build_authorization_server(settings, registry, keys, clock))
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ISSUER) as http:
        assert len((await http.get("/.well-known/jwks.json")).json()["keys"]) == 1
        rotated = rotate(tmp_path, "Ed25519")
        published = (await http.get("/.well-known/jwks.json")).json()["keys"]
        assert [k["kid"] for k in published][-1] == rotated.current.kid
        answer = await http.post("/oauth/token", data=GRANT, auth=("caf-web", SECRET))
        token = answer.json()["access_token"]
        public = KeySet.import_key_set({"keys": published})
        assert jwt.decode(token, public, algorithms=["Ed25519"]).header["kid"] == (
            rotated.current.kid
        )
