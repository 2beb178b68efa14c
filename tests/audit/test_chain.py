"""The hash chain and signed checkpoints: RFC 6962 prefixes, signatures, forgeries refused."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import (
    GENESIS,
    CheckpointSigner,
    key_id_of,
    leaf_hash,
    next_head,
    public_key_from_pem,
    public_keys,
    verify_checkpoint,
)
from audit.checkpoint import note

AT = datetime(2025, 7, 10, 8, 0, tzinfo=UTC)


def test_leaf_and_head_follow_rfc_6962_prefixes() -> None:
    assert GENESIS == bytes(32)
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    leaf = leaf_hash(b"abc")
    assert next_head(GENESIS, leaf) == hashlib.sha256(b"\x01" + GENESIS + leaf).digest()
    # A leaf is never an interior value: the same bytes hash differently in each role.
    assert leaf_hash(GENESIS + leaf) != next_head(GENESIS, leaf)


def test_note_is_the_signed_text() -> None:
    head = bytes(range(32))
    assert note("log.example/audit", 12, head, AT) == (
        b"log.example/audit\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        b"2025-07-10T08:00:00.000000Z\n"
    )
    with pytest.raises(ValueError):
        note("two\nlines", 1, head, AT)


def test_signed_checkpoint_verifies(signer: CheckpointSigner) -> None:
    checkpoint = signer.sign("o", 3, bytes(32), AT)
    assert checkpoint.key_id == signer.key_id == key_id_of(signer.public_key)
    assert len(checkpoint.key_id) == 16
    assert verify_checkpoint(checkpoint, public_keys(signer.public_key))
    again = public_key_from_pem(signer.public_key_pem())
    assert verify_checkpoint(checkpoint, public_keys(again))


@pytest.mark.parametrize(
    "changes",
    [
        {"origin": "another log"},
        {"size": 4},
        {"head": b"\x01" * 32},
        {"signed_at": datetime(2025, 7, 11, tzinfo=UTC)},
        {"signature": bytes(64)},
    ],
)
def test_altered_checkpoint_is_refused(
    signer: CheckpointSigner, changes: dict[str, object]
) -> None:
    checkpoint = signer.sign("o", 3, bytes(32), AT)
    forged = replace(checkpoint, **changes)  # type: ignore[arg-type]
    assert not verify_checkpoint(forged, public_keys(signer.public_key))


def test_checkpoint_of_an_unknown_key_is_refused(signer: CheckpointSigner) -> None:
    intruder = CheckpointSigner(Ed25519PrivateKey.generate())
    forged = intruder.sign("o", 3, bytes(32), AT)
    assert not verify_checkpoint(forged, public_keys(signer.public_key))
    # Claiming the trusted key's id does not help either.
    assert not verify_checkpoint(
        replace(forged, key_id=signer.key_id), public_keys(signer.public_key)
    )
    # Nor does a mapping that files the intruder's key under the trusted id.
    assert not verify_checkpoint(
        replace(forged, key_id=signer.key_id), {signer.key_id: intruder.public_key}
    )


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.pem"
    first = CheckpointSigner.from_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert CheckpointSigner.from_file(path).key_id == first.key_id
    assert [p.name for p in path.parent.iterdir()] == ["audit.pem"]


def test_key_file_of_another_type_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError):
        CheckpointSigner.from_file(path)
