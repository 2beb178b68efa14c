"""The pages' relying party against the real sandbox providers, over HTTP, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey

from gateway.web.oidc import LoginState, OidcError, ProviderConfig, RelyingParty
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from sandbox.agent_connect import (
    AGENT_CONNECT_CLIENT_ID,
    AGENT_CONNECT_CLIENT_SECRET,
    AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI,
    AGENT_CONNECT_REDIRECT_URI,
    AGENT_CONNECT_SCOPE,
)
from sandbox.france_connect import (
    FC_SCOPE,
    SANDBOX_FC_CLIENT_ID,
    SANDBOX_FC_CLIENT_SECRET,
    SANDBOX_FC_POST_LOGOUT_REDIRECT_URI,
    SANDBOX_FC_REDIRECT_URI,
)
from tests.sandbox.test_france_connect_pages import FORM, click


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=30, scenarios=None)) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


def citizens(sandbox: RunningSandbox) -> ProviderConfig:
    return ProviderConfig(
        issuer=sandbox.france_connect_url,
        client_id=SANDBOX_FC_CLIENT_ID,
        client_secret=SANDBOX_FC_CLIENT_SECRET,
        scope=FC_SCOPE,
        redirect_uri=SANDBOX_FC_REDIRECT_URI,
        post_logout_redirect_uri=SANDBOX_FC_POST_LOGOUT_REDIRECT_URI,
        discovery_url=sandbox.france_connect_url + "/api/v2/.well-known/openid-configuration",
        pkce=False,
        acr_values="eidas1",
    )


def agents(sandbox: RunningSandbox) -> ProviderConfig:
    return ProviderConfig(
        issuer=sandbox.agent_connect_url,
        client_id=AGENT_CONNECT_CLIENT_ID,
        client_secret=AGENT_CONNECT_CLIENT_SECRET,
        scope=AGENT_CONNECT_SCOPE,
        redirect_uri=AGENT_CONNECT_REDIRECT_URI,
        post_logout_redirect_uri=AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI,
        discovery_url=None,
    )


async def browse(http: httpx.AsyncClient, authorize_url: str, label: str) -> dict[str, str]:
    """The browser's part: open the provider's page, click ``label``, come back."""
    page = await http.get(authorize_url)
    assert page.status_code == 200, page.text
    url, body = click(authorize_url, page.text, label)
    answer = await http.post(url, content=body, headers=FORM)
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


async def test_a_citizen_signs_in_and_out_with_franceconnect(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    rp = RelyingParty(citizens(sandbox), http, Clock())
    login, url = await rp.begin()
    query = parse_qs(urlsplit(url).query)
    assert "code_challenge" not in query and query["acr_values"] == ["eidas1"]
    # The state travels through the session store as a dict.
    login = LoginState.from_dict(orjson.loads(orjson.dumps(login.to_dict())))
    person = sandbox.population.persons[4]
    signed = await rp.finish(login, await browse(http, url, f"(n° {person.index})"))
    assert signed.claims["family_name"] == person.identity.nom_naissance
    assert signed.claims["birthdate"] == person.identity.date_naissance.isoformat()
    assert signed.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    assert "access_token" not in repr(signed) and signed.access_token not in repr(signed)
    logout = await http.get(await rp.logout_url(signed.id_token, "au-revoir"))
    assert logout.status_code == 302
    assert logout.headers["location"] == SANDBOX_FC_POST_LOGOUT_REDIRECT_URI + "?state=au-revoir"


async def test_an_agent_signs_in_and_out_with_pkce(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    rp = RelyingParty(agents(sandbox), http, Clock())
    login, url = await rp.begin()
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and login.code_verifier
    signed = await rp.finish(login, await browse(http, url, "Camille Martin"))
    claims = signed.claims
    assert claims["siret"] == "22990001400015" and claims["usual_name"] == "Martin"
    assert claims["email"] == "camille.martin@departement-demo.test"
    assert claims["uid"] and claims["idp_id"] and claims["sub"]
    logout = await http.get(await rp.logout_url(signed.id_token, "fin"))
    assert logout.headers["location"] == AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI + "?state=fin"


async def test_without_its_verifier_the_agent_code_is_refused(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    rp = RelyingParty(agents(sandbox), http, Clock())
    login, url = await rp.begin()
    params = await browse(http, url, "Nadia Benali")
    with pytest.raises(OidcError) as refused:
        await rp.finish(replace(login, code_verifier="x" * 64), params)
    assert refused.value.reason == "token_refused"


@pytest.mark.parametrize("provider", [citizens, agents])
async def test_a_return_of_another_sign_in_is_refused(
    http: httpx.AsyncClient,
    sandbox: RunningSandbox,
    provider: Callable[[RunningSandbox], ProviderConfig],
) -> None:
    config = provider(sandbox)
    rp = RelyingParty(config, http, Clock())
    mine, _ = await rp.begin()
    other, url = await rp.begin()
    params = await browse(http, url, "(n° 2)" if config.pkce is False else "Lucas Bernard")
    with pytest.raises(OidcError) as refused:
        await rp.finish(mine, params)
    assert refused.value.reason == "state_mismatch"
    with pytest.raises(OidcError) as cancelled:
        await rp.finish(other, {"state": other.state, "error": "access_denied"})
    assert cancelled.value.reason == "provider_error"


async def test_a_code_is_used_once(http: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    rp = RelyingParty(agents(sandbox), http, Clock())
    login, url = await rp.begin()
    params = await browse(http, url, "Camille Martin")
    await rp.finish(login, params)
    with pytest.raises(OidcError) as replayed:
        await rp.finish(login, params)
    assert replayed.value.reason == "token_refused"


async def test_a_wrong_nonce_is_refused(http: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    rp = RelyingParty(citizens(sandbox), http, Clock())
    login, url = await rp.begin()
    params = await browse(http, url, "(n° 5)")
    with pytest.raises(OidcError) as refused:
        await rp.finish(replace(login, nonce="another"), params)
    assert refused.value.reason == "nonce_mismatch"


async def test_an_expired_id_token_is_refused(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    clock = Clock()
    rp = RelyingParty(agents(sandbox), http, clock)
    login, url = await rp.begin()
    params = await browse(http, url, "Nadia Benali")
    clock.offset = timedelta(seconds=120)  # the id_token lives 60 s, plus 30 s of leeway
    with pytest.raises(OidcError) as refused:
        await rp.finish(login, params)
    assert refused.value.reason == "expired"
    clock.offset = timedelta(minutes=11)
    with pytest.raises(OidcError) as late:
        await rp.finish(login, params)
    assert late.value.reason == "login_expired"


class Forging(httpx.AsyncBaseTransport):
    """The real network, except that the token answer's id_token is re-signed by another key
    (under the provider's ``kid``, or under one of its own)."""

    def __init__(self, keep_kid: bool) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.key = ECKey.generate_key("P-256", {"alg": "ES256"}, auto_kid=True)
        self.keep_kid = keep_kid

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/token"):
            return response
        body = orjson.loads(await response.aread())
        original = jws.extract_compact(body["id_token"].encode())
        kid = original.headers()["kid"] if self.keep_kid else self.key.kid
        claims = orjson.loads(original.payload)
        body["id_token"] = jwt.encode({"alg": "ES256", "kid": kid}, claims, self.key)
        return httpx.Response(200, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(("keep_kid", "reason"), [(True, "bad_signature"), (False, "unknown_kid")])
async def test_an_id_token_signed_by_another_key_is_refused(
    http: httpx.AsyncClient, sandbox: RunningSandbox, keep_kid: bool, reason: str
) -> None:
    async with httpx.AsyncClient(transport=Forging(keep_kid), timeout=10.0) as forging:
        rp = RelyingParty(citizens(sandbox), forging, Clock())
        login, url = await rp.begin()
        params = await browse(http, url, "(n° 6)")
        with pytest.raises(OidcError) as refused:
            await rp.finish(login, params)
    assert refused.value.reason == reason


async def test_a_discovery_document_of_another_issuer_is_refused(
    http: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    config = replace(agents(sandbox), issuer=sandbox.france_connect_url)
    config = replace(
        config, discovery_url=sandbox.agent_connect_url + "/.well-known/openid-configuration"
    )
    with pytest.raises(OidcError) as refused:
        await RelyingParty(config, http, Clock()).begin()
    assert refused.value.reason == "bad_discovery"
