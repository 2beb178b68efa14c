from __future__ import annotations

import pytest

from store.sealing import SealBroken, Sealer

KEY = bytes(range(32))


def test_a_sealed_value_opens_with_its_key_and_binding() -> None:
    sealer = Sealer(KEY)
    token = sealer.seal({"birth_name": "DURAND", "given_names": ["CLAIRE"]}, "dossier:12")
    assert "DURAND" not in token
    assert sealer.open(token, "dossier:12") == {"birth_name": "DURAND", "given_names": ["CLAIRE"]}


def test_two_seals_of_the_same_value_differ() -> None:
    sealer = Sealer(KEY)
    assert sealer.seal({"a": 1}, "x") != sealer.seal({"a": 1}, "x")


@pytest.mark.parametrize(
    "change",
    [
        # altered: a character in the middle (the last ones may carry only padding bits)
        lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:],
        lambda t: "v2." + t[3:],  # unknown version
        lambda t: t + "%%",  # not base64
        lambda t: "v1.",  # empty
    ],
)
def test_an_altered_token_does_not_open(change: object) -> None:
    sealer = Sealer(KEY)
    token = sealer.seal({"a": 1}, "dossier:1")
    with pytest.raises(SealBroken):
        sealer.open(change(token), "dossier:1")  # type: ignore[operator]


def test_a_token_of_another_row_or_key_does_not_open() -> None:
    token = Sealer(KEY).seal({"a": 1}, "dossier:1")
    with pytest.raises(SealBroken):
        Sealer(KEY).open(token, "dossier:2")
    with pytest.raises(SealBroken):
        Sealer(bytes(32)).open(token, "dossier:1")


def test_a_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        Sealer(b"short")
