"""The sandbox FranceConnect sign-in page as a browser uses it, and its end of session."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

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
from sandbox.__main__ import gateway_urls
from sandbox.france_connect import SANDBOX_FC_POST_LOGOUT_REDIRECT_URI


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # what a browser submits
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, label
    labelled_inputs: list[str] = field(default_factory=list)  # ids of inputs with a <label for>


class _Forms(HTMLParser):
    """The forms of a page, read the way a browser builds their submissions."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: set[str] = set()
        self.input_ids: list[tuple[Form, str]] = []
        self._button: list[str] | None = None
        self._button_label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "label" and "for" in a:
            self.labels.add(a["for"])
        elif tag == "input" and self.forms and "name" in a:
            self.forms[-1].fields.append((a["name"], a.get("value", "")))
            if a.get("type") != "hidden" and "id" in a:
                self.input_ids.append((self.forms[-1], a["id"]))
        elif tag == "button" and self.forms:
            self._button = [a.get("name", ""), a.get("value", "")]
            self._button_label = []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button_label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value = self._button
            self.forms[-1].buttons.append((name, value, "".join(self._button_label).strip()))
            self._button = None

    def close(self) -> None:
        super().close()
        for form, input_id in self.input_ids:
            if input_id in self.labels:
                form.labelled_inputs.append(input_id)


def forms(page: str) -> list[Form]:
    parser = _Forms()
    parser.feed(page)
    parser.close()
    return parser.forms


def click(
    page_url: str, page: str, label_part: str, typed: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """The POST a browser makes when the button whose label holds ``label_part`` is clicked,
    after typing ``typed`` into the form's fields: (URL, urlencoded body)."""
    for form in forms(page):
        for name, value, label in form.buttons:
            if label_part in label:
                assert form.method == "post"
                fields = [(k, (typed or {}).get(k, v)) for k, v in form.fields]
                if name:
                    fields.append((name, value))
                return urljoin(page_url, form.action), urlencode(fields)
    raise AssertionError(f"no button labelled {label_part!r}")


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _authorize(http: httpx.Client, base: str, redirect_uri: str = SANDBOX_FC_REDIRECT_URI) -> str:
    params = {
        "response_type": "code",
        "client_id": SANDBOX_FC_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid identite_pivot",
        "state": "état-1",
        "nonce": secrets.token_urlsafe(16),  # a nonce of a code not yet exchanged is spent
    }
    return str(httpx.URL(base + "/api/v2/authorize", params=params))


def _code_of(answer: httpx.Response, redirect_uri: str = SANDBOX_FC_REDIRECT_URI) -> str:
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["état-1"]
    return query["code"][0]


def test_the_page_is_plain_accessible_html(http: httpx.Client, sandbox: RunningSandbox) -> None:
    page = http.get(_authorize(http, sandbox.france_connect_url))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<html lang="fr">' in text and "<title>" in text and "<h1>" in text
    lowered = text.lower()
    assert "<script" not in lowered and "style=" not in lowered
    assert not re.search(r"\son[a-z]+=", lowered)  # no inline event handler
    # Nothing fetched from elsewhere: the only URL is the forwarded redirect URI.
    assert "https://" not in text and text.count("http://") == text.count('value="http://')
    number_form = [f for f in forms(text) if f.labelled_inputs]
    assert [f.labelled_inputs for f in number_form] == [["person"]]


def test_clicking_a_listed_person_signs_in_as_that_person(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    base = sandbox.france_connect_url
    page_url = _authorize(http, base)
    page = http.get(page_url).text
    person = sandbox.population.persons[3]
    label = f"(n° {person.index})"
    url, body = click(page_url, page, label)
    code = _code_of(http.post(url, content=body, headers=FORM))
    tokens = http.post(
        base + "/api/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": SANDBOX_FC_REDIRECT_URI,
            "client_id": SANDBOX_FC_CLIENT_ID,
            "client_secret": SANDBOX_FC_CLIENT_SECRET,
        },
    ).json()
    userinfo = http.get(
        base + "/api/v2/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    keys = KeySet.import_key_set(http.get(base + "/api/v2/jwks").json())
    claims = jwt.decode(userinfo.text, keys, algorithms=["ES256"]).claims
    assert claims["family_name"] == person.identity.nom_naissance


def test_the_number_form_signs_in_as_the_typed_person(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    page_url = _authorize(http, sandbox.france_connect_url)
    page = http.get(page_url).text
    url, body = click(page_url, page, "Se connecter", {"person": "42"})
    _code_of(http.post(url, content=body, headers=FORM))
    # Left empty, the number is refused and nothing is redirected.
    url, body = click(page_url, page, "Se connecter")
    answer = http.post(url, content=body, headers=FORM)
    assert answer.status_code == 400 and "location" not in answer.headers
    # Neither is a number out of range, nor one in other digits.
    for typed in (str(len(sandbox.population.persons)), "٤٢"):
        url, body = click(page_url, page, "Se connecter", {"person": typed})
        assert http.post(url, content=body, headers=FORM).status_code == 400


def test_the_number_form_takes_the_e_mail_address_a_campaign_wrote_to(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    person = next(p for p in sandbox.population.persons if p.email is not None)
    assert person.email is not None
    page_url = _authorize(http, sandbox.france_connect_url)
    page = http.get(page_url).text
    url, body = click(page_url, page, "Se connecter", {"person": person.email.upper()})
    _code_of(http.post(url, content=body, headers=FORM))
    url, body = click(page_url, page, "Se connecter", {"person": "personne@example.fr"})
    assert http.post(url, content=body, headers=FORM).status_code == 400


def _id_token(http: httpx.Client, base: str) -> str:
    page_url = _authorize(http, base)
    url, body = click(page_url, http.get(page_url).text, "(n° 1)")
    code = _code_of(http.post(url, content=body, headers=FORM))
    answer = http.post(
        base + "/api/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": SANDBOX_FC_REDIRECT_URI,
        },
        auth=(SANDBOX_FC_CLIENT_ID, SANDBOX_FC_CLIENT_SECRET),
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["id_token"]
    return token


def test_discovery_lists_the_end_session_endpoint(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    base = sandbox.france_connect_url
    for path in ("/.well-known/openid-configuration", "/api/v2/.well-known/openid-configuration"):
        document = http.get(base + path).json()
        assert document["end_session_endpoint"] == base + "/api/v2/session/end"


def test_end_session_returns_to_a_registered_uri_only(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    base = sandbox.france_connect_url
    hint = _id_token(http, base)
    end = base + "/api/v2/session/end"
    back = http.get(
        end,
        params={
            "id_token_hint": hint,
            "state": "s 1",
            "post_logout_redirect_uri": SANDBOX_FC_POST_LOGOUT_REDIRECT_URI,
        },
    )
    assert back.status_code == 302
    assert back.headers["location"] == SANDBOX_FC_POST_LOGOUT_REDIRECT_URI + "?state=s+1"
    elsewhere = http.get(
        end, params={"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.test/"}
    )
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
    forged = http.get(
        end,
        params={
            "id_token_hint": hint[:-4] + "AAAA",
            "post_logout_redirect_uri": SANDBOX_FC_POST_LOGOUT_REDIRECT_URI,
        },
    )
    assert forged.status_code == 400 and "location" not in forged.headers
    page = http.get(end, params={"id_token_hint": hint})
    assert page.status_code == 200 and "déconnecté" in page.text


def test_gateway_urls_from_the_option_and_the_environment() -> None:
    env = {"UNEFOIS_SANDBOX_GATEWAY_URLS": "http://127.0.0.1:9001/, ,http://a.test"}
    assert gateway_urls(["http://127.0.0.1:9000"], env) == (
        "http://127.0.0.1:9000",
        "http://127.0.0.1:9001",
        "http://a.test",
    )
    with pytest.raises(ValueError, match="gateway base URL"):
        gateway_urls(["ftp://x"], {})


def test_an_extra_gateway_url_is_a_registered_redirect(http: httpx.Client) -> None:
    gateway = "http://127.0.0.1:45678"
    config = SandboxConfig(size=30, scenarios=None, gateway_urls=(gateway,))
    with start_in_thread(config) as running:
        base = running.france_connect_url
        page_url = _authorize(http, base, gateway + "/mon-espace/connexion/retour")
        url, body = click(page_url, http.get(page_url).text, "(n° 0)")
        answer = http.post(url, content=body, headers=FORM)
        _code_of(answer, gateway + "/mon-espace/connexion/retour")
        # The default gateway stays registered; another port is not.
        assert http.get(_authorize(http, base)).status_code == 200
        other = http.get(
            _authorize(http, base, "http://127.0.0.1:45679/mon-espace/connexion/retour")
        )
        assert other.status_code == 400
        agents = running.agent_connect.with_gateways(config.gateway_urls)
        assert gateway + "/console/connexion/retour" in agents.relying_parties[0].redirect_uris
