from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import PivotIdentity
from exchange import InvalidRequest
from exchange.pseudonyms import Pseudonyms, normalised

SECRET = b"k" * 32
ALICE = PivotIdentity(
    "Durand-Lefèvre", ("Élodie", "Marie"), date(1990, 5, 4), "F", "99100", "69123"
)
BOB = PivotIdentity("MARTIN", ("PAUL",), date(1970, 1, 1), "M", "99134")


def test_handles_round_trip_within_a_sector() -> None:
    p = Pseudonyms(SECRET)
    handle = p.handle(ALICE, "social")
    assert p.open(handle, "social") == normalised(ALICE)
    assert p.open(p.handle(BOB, "tax"), "tax") == BOB


def test_one_handle_per_person_and_sector() -> None:
    p = Pseudonyms(SECRET)
    assert p.handle(ALICE, "social") == p.handle(normalised(ALICE), "social")
    assert p.handle(ALICE, "social") != p.handle(ALICE, "tax")
    assert p.handle(ALICE, "social") != p.handle(BOB, "social")


def test_a_handle_does_not_open_in_another_sector() -> None:
    p = Pseudonyms(SECRET)
    with pytest.raises(InvalidRequest):
        p.open(p.handle(ALICE, "social"), "tax")


def test_a_handle_does_not_open_under_another_secret() -> None:
    handle = Pseudonyms(SECRET).handle(ALICE, "social")
    with pytest.raises(InvalidRequest):
        Pseudonyms(b"x" * 32).open(handle, "social")


@pytest.mark.parametrize("bad", ["", "h1.", "h1.!!!", "h2.abcd", "h1." + "A" * 2000, "DURAND"])
def test_malformed_handles_are_refused(bad: str) -> None:
    with pytest.raises(InvalidRequest):
        Pseudonyms(SECRET).open(bad, "social")


@given(st.binary(min_size=1, max_size=200))
def test_tampered_handles_never_open(noise: bytes) -> None:
    p = Pseudonyms(SECRET)
    handle = p.handle(ALICE, "social")
    body = bytearray(handle.encode())
    for i, b in enumerate(noise):
        pos = 3 + (i * 7 + b) % (len(body) - 3)
        body[pos] = ord("A") if body[pos] != ord("A") else ord("B")
    tampered = body.decode()
    if tampered != handle:
        with pytest.raises(InvalidRequest):
            p.open(tampered, "social")


def test_pseudonyms_are_stable_per_sector_and_unlinkable() -> None:
    p = Pseudonyms(SECRET)
    assert p.pseudonym(ALICE, "audit") == p.pseudonym(normalised(ALICE), "audit")
    assert p.pseudonym(ALICE, "audit") != p.pseudonym(ALICE, "consent")
    assert p.pseudonym(ALICE, "audit") != Pseudonyms(b"y" * 32).pseudonym(ALICE, "audit")
    assert "DURAND" not in p.pseudonym(ALICE, "audit")


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError):
        Pseudonyms(b"short")
