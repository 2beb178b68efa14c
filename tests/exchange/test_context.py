from __future__ import annotations

import pytest

from exchange import AccessContext, InvalidRequest, siret_valid

GOOD_SIRET = "13002526500013"  # DINUM, API Particulier's example recipient


def test_known_sirets() -> None:
    assert siret_valid(GOOD_SIRET)
    assert siret_valid("35600000000048")  # La Poste's head office, Luhn-valid
    assert siret_valid("35600000012346")  # a La Poste establishment: digit sum divisible by 5
    assert not siret_valid("35600000012347")
    assert not siret_valid("13002526500014")
    assert not siret_valid("1300252650001")
    assert not siret_valid("1300252650001a")
    assert not siret_valid("")


@pytest.mark.parametrize(
    ("purpose", "recipient", "obj"),
    [
        ("rsa_instruction", "13002526500014", "case-1"),  # bad Luhn key
        ("rsa_instruction", "ABCDEFGHIJKLMN", "case-1"),
        ("RSA Instruction!", GOOD_SIRET, "case-1"),
        ("rsa_instruction", GOOD_SIRET, ""),
        ("rsa_instruction", GOOD_SIRET, "x" * 51),
        ("rsa_instruction", GOOD_SIRET, "line\nbreak"),
    ],
)
def test_invalid_contexts_are_refused(purpose: str, recipient: str, obj: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        AccessContext(purpose, recipient, obj)
    assert exc.value.code == "BAD_USER_INPUT"


def test_valid_context() -> None:
    ctx = AccessContext("rsa_instruction", GOOD_SIRET, "x" * 50)
    assert ctx.recipient == GOOD_SIRET
