import stat
from pathlib import Path

import pytest

from gateway import clients as clients_module
from gateway.clients import (
    DEMO_CLIENT_ID,
    ClientRegistry,
    ensure_default_clients,
    hash_secret,
    load_clients,
    parse_clients,
    verify_secret,
)
from gateway.errors import ConfigurationError

SECRET = "correct horse battery staple"


def _file(extra: str = "", **fields: str) -> str:
    values = {
        "id": "caf-web",
        "name": "CAF web form",
        "secret_hash": hash_secret(SECRET),
        "scopes": "[person:read, prefill:read]",
        "sector": "social",
    }
    values.update(fields)
    lines = [f"    {key}: {value}" for key, value in values.items() if value != "-"]
    lines[0] = "  - " + lines[0].strip()
    return "clients:\n" + "\n".join(lines) + "\n" + extra


def test_hash_format_and_verification() -> None:
    encoded = hash_secret(SECRET)
    assert encoded.split("$")[:4] == ["scrypt", "16384", "8", "1"]
    assert verify_secret(SECRET, encoded)
    assert not verify_secret(SECRET + "x", encoded)
    # A fresh salt per secret: the same secret never hashes the same twice.
    assert hash_secret(SECRET) != encoded


def test_parse_and_authenticate() -> None:
    registry = parse_clients(Path("clients.yaml"), _file(audience="other-api"))
    client = registry.get("caf-web")
    assert client is not None
    assert client.scopes == frozenset({"person:read", "prefill:read"})
    assert client.sector == "social"
    assert client.audience == "other-api"
    assert registry.authenticate("caf-web", SECRET) == client
    assert registry.authenticate("caf-web", "wrong") is None
    assert registry.authenticate("nobody", SECRET) is None
    assert registry.all_scopes() == frozenset({"person:read", "prefill:read"})


def test_unknown_client_still_spends_a_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = parse_clients(Path("clients.yaml"), _file())
    calls: list[str] = []
    real = clients_module._scrypt

    def counting(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        calls.append(secret)
        return real(secret, salt, n, r, p)

    monkeypatch.setattr(clients_module, "_scrypt", counting)
    registry.authenticate("nobody", "guess")
    registry.authenticate("caf-web", "guess")
    assert calls == ["guess", "guess"]


def test_unknown_client_costs_the_hash_of_the_configured_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Parameters are stored with each hash and may be raised: an unknown id must then cost
    # the raised hash too, or its quicker answer would tell that the id does not exist.
    monkeypatch.setattr(clients_module, "SCRYPT_N", 2**15)
    stronger = hash_secret(SECRET)
    monkeypatch.undo()
    registry = parse_clients(Path("clients.yaml"), _file(secret_hash=f'"{stronger}"'))
    calls: list[tuple[int, int, int, int]] = []
    real = clients_module._scrypt

    def recording(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        calls.append((n, r, p, len(salt)))
        return real(secret, salt, n, r, p)

    monkeypatch.setattr(clients_module, "_scrypt", recording)
    assert registry.authenticate("caf-web", "guess") is None
    assert registry.authenticate("nobody", "guess") is None
    assert len(calls) == 2
    assert calls[0] == calls[1] == (2**15, 8, 1, 16)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (_file(colour="blue"), "clients[0].colour: unknown key"),
        (_file(sector="-"), "clients[0].sector: missing"),
        (_file(scopes="[]"), "clients[0].scopes: must be a non-empty list"),
        (_file(scopes='["two words"]'), "clients[0].scopes[0]"),
        (_file(id='"a:b"'), "clients[0].id"),
        (_file(secret_hash="plain-text-secret"), "clients[0].secret_hash"),
        (_file(secret_hash="scrypt$3$8$1$AAAAAAAAAAA=$AAAA"), "clients[0].secret_hash"),
        ("clients: {}\n", "clients: must be a list"),
        ("client: []\n", "client: unknown key"),
        ("- just a list\n", "clients: missing"),
        ("clients: [\n", "not valid YAML"),
    ],
)
def test_loader_names_file_and_key(text: str, key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_clients(Path("conf/clients.yaml"), text)
    assert "conf/clients.yaml" in info.value.message
    assert key in info.value.message


def test_duplicate_ids_are_refused() -> None:
    one = _file()
    two = one + one.removeprefix("clients:\n")
    with pytest.raises(ConfigurationError, match=r"clients\[1\]\.id: duplicate"):
        parse_clients(Path("clients.yaml"), two)


def test_default_file_created_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "var" / "clients.yaml"
    secret = ensure_default_clients(path)
    assert secret is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret not in path.read_text()
    registry = load_clients(path)
    demo = registry.authenticate(DEMO_CLIENT_ID, secret)
    assert demo is not None and demo.scopes
    # Second start: the file is left alone and no new secret appears.
    before = path.read_bytes()
    assert ensure_default_clients(path) is None
    assert path.read_bytes() == before


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_clients(tmp_path / "absent.yaml")


def test_registry_rejects_duplicates_built_in_code() -> None:
    client = parse_clients(Path("c.yaml"), _file()).get("caf-web")
    assert client is not None
    with pytest.raises(ValueError, match="duplicate"):
        ClientRegistry([client, client])
