"""The sandbox FranceConnect provider over real HTTP: discovery, code flow, userinfo JWT."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from sandbox import (
    SANDBOX_FC_CLIENT_ID,
    SANDBOX_FC_CLIENT_SECRET,
    SANDBOX_FC_REDIRECT_URI,
    RunningSandbox,
    SandboxConfig,
    start_in_thread,
)
from tests.sandbox.conftest import RECIPIENT, persons


def _claims(http: httpx.Client, base: str, userinfo: httpx.Response) -> dict[str, object]:
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.headers["content-type"].startswith("application/jwt")
    keys = KeySet.import_key_set(http.get(base + "/api/v2/jwks").json())
    token = jwt.decode(userinfo.text, keys, algorithms=["ES256", "RS256"])
    return dict(token.claims)


def _shortcut(http: httpx.Client, base: str, person: int) -> str:
    answer = http.post(base + "/_sandbox/france_connect/tokens", json={"person": person})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_discovery(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.france_connect_url
    assert base.endswith(":" + base.rsplit(":", 1)[1]) and base not in sandbox.urls.values()
    document = http.get(base + "/.well-known/openid-configuration").json()
    assert document["issuer"] == base
    assert document["authorization_endpoint"] == base + "/api/v2/authorize"
    assert document["token_endpoint"] == base + "/api/v2/token"
    assert document["userinfo_endpoint"] == base + "/api/v2/userinfo"
    assert document["jwks_uri"] == base + "/api/v2/jwks"
    assert "identite_pivot" in document["scopes_supported"]
    assert document["subject_types_supported"] == ["pairwise"]
    assert http.get(base + "/api/v2/jwks").json()["keys"][0]["kty"] in ("EC", "RSA")


def _login(http: httpx.Client, base: str, person: int, state: str = "xyz") -> str:
    params = {
        "response_type": "code",
        "client_id": SANDBOX_FC_CLIENT_ID,
        "redirect_uri": SANDBOX_FC_REDIRECT_URI,
        "scope": "openid identite_pivot",
        "state": state,
        "nonce": "n-0S6_WzA2Mj",
    }
    page = http.get(base + "/api/v2/authorize", params=params)
    assert page.status_code == 200 and "<form" in page.text
    # The page carries the request forward in hidden fields: submit them with a person.
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert hidden["state"] == state
    chosen = http.post(base + "/api/v2/authorize", data={**hidden, "person": str(person)})
    assert chosen.status_code == 302, chosen.text
    location = urlsplit(chosen.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == SANDBOX_FC_REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def test_code_flow(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.france_connect_url
    entry = persons(http, sandbox, limit=1)[0]
    code = _login(http, base, int(entry["index"]))  # type: ignore[call-overload]
    tokens = http.post(
        base + "/api/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": SANDBOX_FC_REDIRECT_URI,
            "client_id": SANDBOX_FC_CLIENT_ID,
            "client_secret": SANDBOX_FC_CLIENT_SECRET,
        },
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "openid identite_pivot"
    assert 0 < body["expires_in"] <= 3600
    keys = KeySet.import_key_set(http.get(base + "/api/v2/jwks").json())
    id_token = jwt.decode(body["id_token"], keys, algorithms=["ES256", "RS256"]).claims
    assert id_token["iss"] == base and id_token["nonce"] == "n-0S6_WzA2Mj"
    userinfo = http.get(
        base + "/api/v2/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    )
    claims = _claims(http, base, userinfo)
    personne = entry["personne"]
    assert isinstance(personne, dict)
    assert claims["sub"] == id_token["sub"] and claims["iss"] == base
    assert claims["aud"] == SANDBOX_FC_CLIENT_ID
    assert claims["family_name"] == personne["nomNaissance"]
    assert claims["given_name_array"] == personne["prenoms"]
    assert claims["gender"] == {"M": "male", "F": "female"}[personne["sexeEtatCivil"]]
    assert claims["birthcountry"] == personne["codeCogInseePaysNaissance"]
    assert claims["birthplace"] == personne.get("codeCogInseeCommuneNaissance", "")
    born = [
        int(personne[k]) for k in ("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance")
    ]
    assert claims["birthdate"] == "{:04d}-{:02d}-{:02d}".format(*born)
    # A code is single-use.
    again = http.post(
        base + "/api/v2/token",
        data={"grant_type": "authorization_code", "code": code},
        auth=(SANDBOX_FC_CLIENT_ID, SANDBOX_FC_CLIENT_SECRET),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.france_connect_url
    code = _login(http, base, 1)
    grant = {"grant_type": "authorization_code", "code": code}
    basic = http.post(base + "/api/v2/token", data=grant, auth=(SANDBOX_FC_CLIENT_ID, "wrong"))
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    post = http.post(
        base + "/api/v2/token",
        data={**grant, "client_id": SANDBOX_FC_CLIENT_ID, "client_secret": "wrong"},
    )
    assert post.status_code in (400, 401) and post.json()["error"] == "invalid_client"


def test_unregistered_redirect_uri_is_refused(http: httpx.Client, sandbox: RunningSandbox) -> None:
    params = {
        "response_type": "code",
        "client_id": SANDBOX_FC_CLIENT_ID,
        "redirect_uri": "https://attacker.example/cb",
        "scope": "openid identite_pivot",
    }
    answer = http.get(sandbox.france_connect_url + "/api/v2/authorize", params=params)
    assert answer.status_code == 400 and "location" not in answer.headers


def test_unknown_token_is_401(http: httpx.Client, sandbox: RunningSandbox) -> None:
    answer = http.get(
        sandbox.france_connect_url + "/api/v2/userinfo",
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert answer.status_code == 401 and "invalid_token" in answer.headers["www-authenticate"]
    assert http.get(sandbox.france_connect_url + "/api/v2/userinfo").status_code == 401


def test_shortcut_token_at_userinfo_and_api_particulier(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    entry = persons(http, sandbox, "rsa", 1)[0]
    token = _shortcut(http, sandbox.france_connect_url, int(entry["index"]))  # type: ignore[call-overload]
    headers = {"Authorization": "Bearer " + token}
    userinfo = http.get(sandbox.france_connect_url + "/api/v2/userinfo", headers=headers)
    assert _claims(http, sandbox.france_connect_url, userinfo)["family_name"]
    answer = http.get(
        sandbox.urls["api_particulier"] + "/v3/dss/revenu_solidarite_active/france_connect",
        params={"recipient": RECIPIENT},
        headers=headers,
    )
    assert answer.status_code == 200 and answer.json()["data"]["est_beneficiaire"] is True
    # API Particulier's own shortcut issues tokens the provider knows too.
    legacy = http.post(
        sandbox.urls["api_particulier"] + "/_sandbox/france_connect/tokens", json={"person": 3}
    ).json()["access_token"]
    assert (
        http.get(
            sandbox.france_connect_url + "/api/v2/userinfo",
            headers={"Authorization": "Bearer " + legacy},
        ).status_code
        == 200
    )


def test_sub_is_pairwise(http: httpx.Client, sandbox: RunningSandbox) -> None:
    base = sandbox.france_connect_url
    subs = set()
    for _ in range(2):
        userinfo = http.get(
            base + "/api/v2/userinfo",
            headers={"Authorization": "Bearer " + _shortcut(http, base, 5)},
        )
        subs.add(_claims(http, base, userinfo)["sub"])
    assert len(subs) == 1  # stable for one person and one relying party


class _Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def timed() -> Iterator[tuple[RunningSandbox, _Clock]]:
    clock = _Clock()
    with start_in_thread(SandboxConfig(size=30, clock=clock)) as running:
        yield running, clock


def test_expired_token_is_401(http: httpx.Client, timed: tuple[RunningSandbox, _Clock]) -> None:
    running, clock = timed
    token = _shortcut(http, running.france_connect_url, 0)
    headers = {"Authorization": "Bearer " + token}
    url = running.france_connect_url + "/api/v2/userinfo"
    assert http.get(url, headers=headers).status_code == 200
    clock.now += 3600
    answer = http.get(url, headers=headers)
    assert answer.status_code == 401 and "expired" in answer.json()["error_description"]
    particulier = http.get(
        running.urls["api_particulier"] + "/v3/dss/prime_activite/france_connect",
        params={"recipient": RECIPIENT},
        headers=headers,
    )
    assert particulier.status_code == 401
