"""Every secret from a variable or from the file its ``_FILE`` form names (mounted secrets).

Then two gateways with data folders of their own, given the same keys and secrets, accept each
other's tokens, open each other's handles and sign the audit log with the same key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.identity import PivotIdentity
from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import hash_secret
from gateway.keys import rotate_file
from runtime.audit_wiring import PUBLIC_KEY_FILE
from runtime.settings import Settings, SettingsError, load

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
Q = {"query": "{ __typename }"}
AGENCIES = ("GIP_MDS", "DGFIP", "CNAV", "CNAM", "HOUSING", "CIVIL_REGISTRY")


def _pseudonym_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _audit_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
        .rstrip("\n")  # as the settings give it, trailing newline stripped
    )


def _client_secret(agency: str) -> Callable[[Settings], str | None]:
    return lambda settings: settings.upstreams[agency].client_secret


def _fresh(prefix: str) -> Callable[[], str]:
    return lambda: prefix + _pseudonym_secret()


# variable → (how the settings expose it, a valid value made fresh)
SECRETS: dict[str, tuple[Callable[[Settings], str | None], Callable[[], str]]] = {
    "UNEFOIS_PSEUDONYM_SECRET": (lambda s: s.pseudonym_secret, _pseudonym_secret),
    "UNEFOIS_SIGNING_KEYS": (
        lambda s: s.signing_keys,
        lambda: "signing-keys-" + _pseudonym_secret(),
    ),
    "UNEFOIS_AUDIT_SIGNING_KEY": (lambda s: s.audit_signing_key, _audit_pem),
    "UNEFOIS_API_PARTICULIER_TOKEN": (
        lambda s: s.upstreams["api_particulier"].token,
        lambda: "token-" + _pseudonym_secret(),
    ),
    "UNEFOIS_SMS_TOKEN": (lambda s: s.sms_token, lambda: "sms-" + _pseudonym_secret()),
    "UNEFOIS_DS_API_TOKEN": (lambda s: s.ds_api_token, lambda: "ds-" + _pseudonym_secret()),
    "UNEFOIS_BROKER_URL": (
        lambda s: s.broker_url,
        lambda: f"amqp://unefois:{secrets.token_hex(16)}@rabbitmq:5672/%2F",
    ),
    "UNEFOIS_DS_WEBHOOK_SECRET": (
        lambda s: s.ds_webhook_secret,
        lambda: secrets.token_urlsafe(32),  # a URL path segment
    ),
    **{
        f"UNEFOIS_{agency}_CLIENT_SECRET": (
            _client_secret(agency.lower()),
            _fresh("client-secret-"),
        )
        for agency in AGENCIES
    },
}


@pytest.mark.parametrize("variable", sorted(SECRETS))
def test_from_the_variable(variable: str) -> None:
    read, make = SECRETS[variable]
    value = make()
    settings = load({variable: value})
    assert read(settings) == value
    assert value not in repr(settings)


@pytest.mark.parametrize("variable", sorted(SECRETS))
def test_from_a_mounted_file(tmp_path: Path, variable: str) -> None:
    read, make = SECRETS[variable]
    value = make()
    path = tmp_path / "secret"
    path.write_text(value + "\n", encoding="utf-8")  # as `echo` or an editor leaves it
    settings = load({f"{variable}_FILE": str(path)})
    assert read(settings) == value
    assert value not in repr(settings)


@pytest.mark.parametrize("variable", sorted(SECRETS))
def test_both_forms_are_an_error_naming_both(tmp_path: Path, variable: str) -> None:
    value = SECRETS[variable][1]()
    path = tmp_path / "secret"
    path.write_text(value, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load({variable: value, f"{variable}_FILE": str(path)})
    assert variable in caught.value.args[0] and f"{variable}_FILE" in caught.value.args[0]
    assert value not in str(caught.value)


def _unreadable(tmp_path: Path, case: str, value: str) -> Path:
    path = tmp_path / "secret"
    if case == "missing":
        return path
    if case == "directory":
        path.mkdir()
    elif case == "empty":
        path.write_text("\n", encoding="utf-8")
    elif case == "not text":
        path.write_bytes(b"\xff\xfe" + value.encode("ascii"))
    return path


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("missing", "does not exist"),
        ("directory", "is a directory"),
        ("empty", "is empty"),
        ("not text", "not UTF-8"),
    ],
)
@pytest.mark.parametrize("variable", ["UNEFOIS_PSEUDONYM_SECRET", "UNEFOIS_GIP_MDS_CLIENT_SECRET"])
def test_an_unreadable_file_names_the_variable_and_the_problem(
    tmp_path: Path, variable: str, case: str, problem: str
) -> None:
    value = SECRETS[variable][1]()
    path = _unreadable(tmp_path, case, value)
    with pytest.raises(SettingsError) as caught:
        load({f"{variable}_FILE": str(path)})
    message = str(caught.value)
    assert message.startswith(f"{variable}_FILE: ") and problem in message
    assert value not in message and "\\x" not in message


def test_unusable_values_name_the_form_used_never_the_content(tmp_path: Path) -> None:
    short = base64.urlsafe_b64encode(b"too short").decode()
    path = tmp_path / "pseudonym"
    path.write_text(short, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load({"UNEFOIS_PSEUDONYM_SECRET_FILE": str(path)})
    assert str(caught.value).startswith("UNEFOIS_PSEUDONYM_SECRET_FILE: ")
    assert short not in str(caught.value)
    rsa_like = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"
    with pytest.raises(SettingsError) as caught:
        load({"UNEFOIS_AUDIT_SIGNING_KEY": rsa_like})
    assert str(caught.value).startswith("UNEFOIS_AUDIT_SIGNING_KEY: ")
    assert "bm90IGEga2V5" not in str(caught.value)


def test_a_signing_key_file_is_remembered_to_be_followed(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    rotate_file(path, "Ed25519")
    settings = load({"UNEFOIS_SIGNING_KEYS_FILE": str(path)})
    assert settings.signing_keys_file == path
    assert settings.signing_keys == path.read_text(encoding="utf-8").rstrip("\n")
    from_value = load({"UNEFOIS_SIGNING_KEYS": path.read_text(encoding="utf-8")})
    assert from_value.signing_keys_file is None


# Two gateways, each with a data folder of its own, configured with the same secrets.

CLIENT_ID = "caf-web"
CLIENT_SECRET = "replica-test-secret"


def _shared(tmp_path: Path) -> dict[str, str]:
    shared = tmp_path / "secrets"
    shared.mkdir(parents=True)
    rotate_file(shared / "signing-keys.json", "Ed25519")
    (shared / "pseudonym").write_text(_pseudonym_secret() + "\n", encoding="ascii")
    (shared / "audit.pem").write_text(_audit_pem(), encoding="ascii")
    (shared / "clients.yaml").write_text(
        "clients:\n"
        f"  - id: {CLIENT_ID}\n"
        "    name: CAF web form\n"
        f'    secret_hash: "{hash_secret(CLIENT_SECRET)}"\n'
        "    scopes: [person:read]\n"
        "    sector: social\n",
        encoding="utf-8",
    )
    return {
        "UNEFOIS_PUBLIC_URL": "https://gateway.test",
        "UNEFOIS_SIGNING_KEYS_FILE": str(shared / "signing-keys.json"),
        "UNEFOIS_PSEUDONYM_SECRET_FILE": str(shared / "pseudonym"),
        "UNEFOIS_AUDIT_SIGNING_KEY_FILE": str(shared / "audit.pem"),
        "UNEFOIS_CLIENTS_FILE": str(shared / "clients.yaml"),
    }


Gateway = tuple[httpx.AsyncClient, Settings, object]


@pytest.fixture
async def gateways(tmp_path: Path) -> AsyncIterator[list[Gateway]]:
    shared = _shared(tmp_path)
    started: list[Gateway] = []
    async with AsyncExitStack() as stack:
        for name in ("a", "b"):
            settings = load({**shared, "UNEFOIS_DATA_DIR": str(tmp_path / name)})
            # The rules' pool is never started: no query here computes eligibility.
            app = build_app(settings, clock=lambda: NOW, eligibility=EligibilityService(workers=1))
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=settings.public_url)
            )
            started.append((http, settings, app))
        yield started


async def _token(http: httpx.AsyncClient) -> str:
    answer = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def test_two_gateways_accept_each_other_s_tokens(gateways: list[Gateway]) -> None:
    (a, settings_a, app_a), (b, settings_b, app_b) = gateways
    assert settings_a.data_dir != settings_b.data_dir
    for issuer, verifier in ((a, b), (b, a)):
        token = await _token(issuer)
        answer = await verifier.post(
            "/graphql", json=Q, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"data": {"__typename": "Query"}}
    jwks_a = (await a.get("/.well-known/jwks.json")).json()
    assert jwks_a == (await b.get("/.well-known/jwks.json")).json()
    # Nothing was generated in either data folder: both use the configured secrets.
    for settings in (settings_a, settings_b):
        assert not (settings.data_dir / "signing-keys.json").exists()
        assert not (settings.data_dir / "pseudonym.key").exists()
        assert not (settings.data_dir / "audit-signing-key.pem").exists()
    published_a = (settings_a.data_dir / PUBLIC_KEY_FILE).read_bytes()
    assert published_a == (settings_b.data_dir / PUBLIC_KEY_FILE).read_bytes()
    person = PivotIdentity("MARTIN", ("SAMUEL",), date(1980, 9, 20), "M", "99100", "08480")
    handle = app_a.state.services.pseudonyms.handle(person, "social")  # type: ignore[attr-defined]
    assert app_b.state.services.pseudonyms.open(handle, "social") == person  # type: ignore[attr-defined]


async def test_a_rotation_of_the_mounted_set_reaches_both(
    gateways: list[Gateway], tmp_path: Path
) -> None:
    (a, settings_a, _), (b, _, _) = gateways
    before = await _token(a)
    assert settings_a.signing_keys_file is not None
    rotated = rotate_file(settings_a.signing_keys_file, "ES256")
    after = await _token(b)  # b signs with the new key, a has not seen it yet
    for token in (before, after):
        for gateway in (a, b):
            answer = await gateway.post(
                "/graphql", json=Q, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.text
    kids = [key["kid"] for key in (await a.get("/.well-known/jwks.json")).json()["keys"]]
    assert kids[-1] == rotated.current.kid and len(kids) == 2


async def test_a_gateway_with_keys_of_its_own_is_refused(
    gateways: list[Gateway], tmp_path: Path
) -> None:
    (a, _, _), _ = gateways
    shared = _shared(tmp_path / "other")
    del shared["UNEFOIS_SIGNING_KEYS_FILE"]
    settings = load({**shared, "UNEFOIS_DATA_DIR": str(tmp_path / "c")})
    app = build_app(settings, clock=lambda: NOW, eligibility=EligibilityService(workers=1))
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as c,
    ):
        token = await _token(c)
    answer = await a.post("/graphql", json=Q, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
