import stat
from pathlib import Path

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from gateway.errors import ConfigurationError
from gateway.keys import (
    KEYS_FILE,
    SigningKeys,
    for_settings,
    generate_key,
    load_or_create,
    rotate,
    rotate_file,
)
from runtime.settings import load


@pytest.mark.parametrize(("alg", "kty"), [("Ed25519", "OKP"), ("ES256", "EC")])
def test_created_on_first_start_and_reloaded(tmp_path: Path, alg: str, kty: str) -> None:
    keys = load_or_create(tmp_path, alg)
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.current.alg == alg
    assert keys.current.kid == keys.current.thumbprint()
    (public,) = keys.public_jwks()["keys"]
    assert public["kty"] == kty and public["kid"] == keys.current.kid
    assert "d" not in public
    again = load_or_create(tmp_path, alg)
    assert again.current.kid == keys.current.kid


def test_public_jwks_verifies_what_the_set_signs(tmp_path: Path) -> None:
    keys = load_or_create(tmp_path, "Ed25519")
    token = keys.sign({"iss": "me", "sub": "x"})
    public = KeySet.import_key_set(keys.public_jwks())
    decoded = jwt.decode(token, public, algorithms=["Ed25519"])
    assert decoded.claims == {"iss": "me", "sub": "x"}
    assert decoded.header == {"alg": "Ed25519", "kid": keys.current.kid, "typ": "at+jwt"}


def test_rotation_newest_signs_all_verify(tmp_path: Path) -> None:
    old = load_or_create(tmp_path, "Ed25519")
    rotated = rotate(tmp_path, "ES256")
    reloaded = load_or_create(tmp_path, "Ed25519")
    assert reloaded.current.kid == rotated.current.kid != old.current.kid
    assert reloaded.current.alg == "ES256"
    assert set(reloaded.verification_keys()) == {old.current.kid, rotated.current.kid}
    assert reloaded.algorithms == frozenset({"Ed25519", "ES256"})
    assert stat.S_IMODE((tmp_path / KEYS_FILE).stat().st_mode) == 0o600


def test_verification_keys_hold_no_private_part() -> None:
    keys = SigningKeys([generate_key("Ed25519")])
    (vk,) = keys.verification_keys().values()
    assert not vk.key.is_private


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not json", "not a JWK set"),
        (
            b'{"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "alg": "HS256"}]}',
            r"keys\[0\]: must be a private",
        ),
    ],
)
def test_bad_key_file(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / KEYS_FILE).write_bytes(content)
    with pytest.raises(ConfigurationError, match=problem):
        load_or_create(tmp_path, "Ed25519")


def test_public_only_or_wrong_kid_refused(tmp_path: Path) -> None:
    key = generate_key("Ed25519")
    (tmp_path / KEYS_FILE).write_bytes(orjson.dumps({"keys": [key.as_dict(private=False)]}))
    with pytest.raises(ConfigurationError, match="private"):
        load_or_create(tmp_path, "Ed25519")
    forged = key.as_dict(private=True) | {"kid": "chosen"}
    (tmp_path / KEYS_FILE).write_bytes(orjson.dumps({"keys": [forged]}))
    with pytest.raises(ConfigurationError, match="thumbprint"):
        load_or_create(tmp_path, "Ed25519")


def test_unsupported_algorithm() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        generate_key("HS256")


def test_a_running_set_follows_the_file(tmp_path: Path) -> None:
    running = load_or_create(tmp_path, "Ed25519")
    old_kid = running.current.kid
    rotated = rotate(tmp_path, "Ed25519")
    # A process that loaded the file before the rotation signs with the new key from its next
    # token on, and still knows the old one.
    token = running.sign({"sub": "x"})
    public = KeySet.import_key_set(running.public_jwks())
    decoded = jwt.decode(token, public, algorithms=["Ed25519"])
    assert decoded.header["kid"] == rotated.current.kid != old_kid
    assert set(running.verification_keys()) == {old_kid, rotated.current.kid}


def test_a_broken_file_keeps_the_running_keys(tmp_path: Path) -> None:
    running = load_or_create(tmp_path, "Ed25519")
    kid = running.current.kid
    (tmp_path / KEYS_FILE).write_bytes(b"not json at all")
    assert running.refresh() is False
    assert running.current.kid == kid


def test_a_configured_file_is_followed_and_a_value_is_fixed(tmp_path: Path) -> None:
    path = tmp_path / "mounted" / "signing-keys.json"
    first = rotate_file(path, "Ed25519")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load(
        {"UNEFOIS_DATA_DIR": str(tmp_path / "data"), "UNEFOIS_SIGNING_KEYS_FILE": str(path)}
    )
    running = for_settings(settings)
    assert running.current.kid == first.current.kid
    rotated = rotate_file(path, "ES256")
    assert running.refresh() is True
    assert running.current.kid == rotated.current.kid
    assert set(running.verification_keys()) == {first.current.kid, rotated.current.kid}
    # A set given as a value has no file to follow; neither makes one in the data directory.
    fixed = for_settings(load({"UNEFOIS_SIGNING_KEYS": path.read_text(encoding="utf-8")}))
    assert fixed.refresh() is False and fixed.current.kid == rotated.current.kid
    assert not (tmp_path / "data").exists()


def test_a_bad_configured_value_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"^UNEFOIS_SIGNING_KEYS: not a JWK set"):
        for_settings(load({"UNEFOIS_SIGNING_KEYS": "{not json"}))


def test_rotate_file_starts_from_a_base_when_the_file_is_missing(tmp_path: Path) -> None:
    base = SigningKeys([generate_key("Ed25519")])
    rotated = rotate_file(tmp_path / "new.json", "Ed25519", base=base)
    assert list(rotated.verification_keys()) == [base.current.kid, rotated.current.kid]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".signing-keys-")]
