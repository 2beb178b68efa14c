"""The sandbox ProConnect-style provider over real HTTP: discovery, PKCE and nonce, the
sign-in page as a browser submits it, the agents' claims, end of session; its agents file."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from sandbox import RunningSandbox
from sandbox.agent_connect import (
    AGENT_CONNECT_CLIENT_ID,
    AGENT_CONNECT_CLIENT_SECRET,
    AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI,
    AGENT_CONNECT_REDIRECT_URI,
    AGENT_CONNECT_SCOPE,
    load_agents,
)
from sandbox.gazetteer import luhn_valid
from sandbox.runner import SandboxConfig
from tests.sandbox.test_france_connect_pages import FORM, click, forms


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(base: str, verifier: str | None, nonce: str | None = "auto") -> str:
    params = {
        "response_type": "code",
        "client_id": AGENT_CONNECT_CLIENT_ID,
        "redirect_uri": AGENT_CONNECT_REDIRECT_URI,
        "scope": AGENT_CONNECT_SCOPE,
        "state": "st",
    }
    if nonce is not None:
        params["nonce"] = secrets.token_urlsafe(16) if nonce == "auto" else nonce
    if verifier is not None:
        params["code_challenge"] = _challenge(verifier)
        params["code_challenge_method"] = "S256"
    return str(httpx.URL(base + "/api/v2/authorize", params=params))


def _sign_in(http: httpx.Client, base: str, label: str, verifier: str) -> str:
    page_url = _authorize(base, verifier)
    url, body = click(page_url, http.get(page_url).text, label)
    answer = http.post(url, content=body, headers=FORM)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == AGENT_CONNECT_REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["st"]
    return query["code"][0]


def _exchange(http: httpx.Client, base: str, code: str, verifier: str) -> httpx.Response:
    return http.post(
        base + "/api/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": AGENT_CONNECT_REDIRECT_URI,
            "client_id": AGENT_CONNECT_CLIENT_ID,
            "client_secret": AGENT_CONNECT_CLIENT_SECRET,
            "code_verifier": verifier,
        },
    )


def test_discovery(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.agent_connect_url
    assert base and base != sandbox.france_connect_url
    document = http.get(base + "/.well-known/openid-configuration").json()
    assert document["issuer"] == base
    assert document["authorization_endpoint"] == base + "/api/v2/authorize"
    assert document["end_session_endpoint"] == base + "/api/v2/session/end"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_post" in document["token_endpoint_auth_methods_supported"]
    assert set(AGENT_CONNECT_SCOPE.split()) <= set(document["scopes_supported"])


def test_the_page_lists_the_agents(http: httpx.Client, sandbox: RunningSandbox) -> None:
    page = http.get(_authorize(sandbox.agent_connect_url, "v" * 50))
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "<script" not in page.text.lower() and "style=" not in page.text.lower()
    labels = [label for form in forms(page.text) for _, _, label in form.buttons]
    assert len(labels) == 3
    for agent in load_agents():
        assert any(agent.siret in label and agent.usual_name in label for label in labels)


def test_code_flow_with_pkce(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.agent_connect_url
    verifier = secrets.token_urlsafe(48)
    code = _sign_in(http, base, "Nadia Benali", verifier)
    tokens = _exchange(http, base, code, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    keys = KeySet.import_key_set(http.get(base + "/api/v2/jwks").json())
    id_token = jwt.decode(body["id_token"], keys, algorithms=["ES256", "RS256"]).claims
    assert id_token["iss"] == base and id_token["aud"] == AGENT_CONNECT_CLIENT_ID
    assert id_token["nonce"] and id_token["idp_id"]
    userinfo = http.get(
        base + "/api/v2/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    )
    assert userinfo.headers["content-type"].startswith("application/jwt")
    claims = jwt.decode(userinfo.text, keys, algorithms=["ES256", "RS256"]).claims
    agent = load_agents()[1]
    assert claims["sub"] == id_token["sub"]
    assert (claims["siret"], claims["email"], claims["uid"]) == (
        agent.siret,
        agent.email,
        agent.uid,
    )
    assert (claims["given_name"], claims["usual_name"]) == (agent.given_name, agent.usual_name)
    # The code was for one exchange only.
    again = _exchange(http, base, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_pkce_and_nonce_are_required(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.agent_connect_url
    # The redirect URI is the client's: the refusal goes back there, with no page shown.
    for refused in (_authorize(base, None), _authorize(base, "v" * 50, nonce=None)):
        answer = http.get(refused)
        assert answer.status_code == 302
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["error"] == ["invalid_request"] and "code" not in query
    verifier = secrets.token_urlsafe(48)
    code = _sign_in(http, base, "Camille Martin", verifier)
    wrong = _exchange(http, base, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_end_session(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.agent_connect_url
    verifier = secrets.token_urlsafe(48)
    code = _sign_in(http, base, "Lucas Bernard", verifier)
    hint = _exchange(http, base, code, verifier).json()["id_token"]
    end = base + "/api/v2/session/end"
    params = {"id_token_hint": hint, "state": "x", "post_logout_redirect_uri": ""}
    params["post_logout_redirect_uri"] = AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI
    back = http.get(end, params=params)
    assert back.status_code == 302
    assert back.headers["location"] == AGENT_CONNECT_POST_LOGOUT_REDIRECT_URI + "?state=x"
    params["post_logout_redirect_uri"] = AGENT_CONNECT_REDIRECT_URI  # not a post-logout URI
    assert http.get(end, params=params).status_code == 400
    # A FranceConnect id_token is not this provider's.
    fc = http.get(end.replace(base, sandbox.france_connect_url), params={"id_token_hint": hint})
    assert fc.status_code == 400


def test_the_shipped_agents() -> None:
    agents = load_agents()
    assert len({a.uid for a in agents}) == len(agents) >= 3
    for agent in agents:
        assert luhn_valid(agent.siret) and luhn_valid(agent.siret[:9])
        assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", agent.email)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agents: []\n", "non-empty"),
        ("agents:\n  - uid: a\n", "exactly"),
        (
            "agents:\n  - {uid: a, given_name: A, usual_name: B, email: a@b.test,"
            " organisation: O, siret: '22990001400016', role: R, note: N}\n",
            "SIRET",
        ),
    ],
)
def test_an_unusable_agents_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_agents(path)


def test_the_port_follows_the_witness() -> None:
    config = SandboxConfig()
    assert (config.port("witness"), config.port("agent_connect")) == (8711, 8712)
