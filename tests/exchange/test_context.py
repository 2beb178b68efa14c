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


@pytest.mark.parametrize(
    "recipient",
    [
        "13002526500004\n",  # the finding's value: a trailing newline, and a wrong Luhn key
        GOOD_SIRET + "\n",  # a trailing newline after a valid SIRET is refused all the same
        "\u0661\u0663" + GOOD_SIRET[2:],  # Arabic-Indic digits are digits to str.isdigit()
    ],
)
def test_recipient_must_be_the_whole_value(recipient: str) -> None:
    assert not siret_valid(recipient)
    with pytest.raises(InvalidRequest):
        AccessContext("rsa_instruction", recipient, "case-1")


def test_purpose_must_be_the_whole_value() -> None:
    with pytest.raises(InvalidRequest):
        AccessContext("rsa_instruction\n", GOOD_SIRET, "case-1")


@pytest.mark.parametrize(
    "obj",
    [
        "case-1\n",  # a trailing line break would split an export's line
        "case-1\r",
        "case\u20281",  # LINE SEPARATOR
        "case\u20291",  # PARAGRAPH SEPARATOR
        "case\x7f1",  # DEL
        "case\x851",  # NEL, a C1 control
        *(f"case{chr(c)}1" for c in range(0x202A, 0x202F)),  # bidi embeddings and overrides
        *(f"case{chr(c)}1" for c in range(0x2066, 0x206A)),  # bidi isolates
        "case\u200e1",  # LEFT-TO-RIGHT MARK, a format character
        " " * 45 + "x" * 10,  # too long as given, even if it would fit once trimmed
        "   ",
    ],
)
def test_object_is_refused_not_trimmed(obj: str) -> None:
    with pytest.raises(InvalidRequest):
        AccessContext("rsa_instruction", GOOD_SIRET, obj)


def test_object_keeps_accents_and_inner_spaces() -> None:
    ctx = AccessContext("rsa_instruction", GOOD_SIRET, "Dossier n° 2025-élève 12")
    assert ctx.object == "Dossier n° 2025-élève 12"
