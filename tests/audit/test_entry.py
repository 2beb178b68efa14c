"""Canonical JSON: pinned bytes and leaf (the format is frozen forever), round trips, and the
documented equivalence with Python's json module."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit import AuditEntry, InvalidEntry, leaf_hash

GOLDEN_ENTRY = AuditEntry(
    id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    time=datetime(2025, 7, 10, 10, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2))),
    kind="person_access",
    client="caf-instruction",
    caller="client",
    purpose="rsa_instruction",
    recipient="13002526500013",
    object="Dossier n°42\tété",
    legal_basis=("Code de l'action sociale et des familles, art. L262-40", "https://x.test/a"),
    person="9b1c0f",
    released=("rsa_status", "identity"),
    denied=(("tax_income", "not_needed_for_purpose"), ("address", "consent_required")),
    agencies=("insee", "cnaf"),
    outcome="partial",
    policy_revision="r1",
    details=(("z", "last"), ("a", 'quote " and \\')),
)
GOLDEN_BYTES = (
    '{"agencies":["cnaf","insee"],"caller":"client","client":"caf-instruction",'
    '"denied":[["address","consent_required"],["tax_income","not_needed_for_purpose"]],'
    '"details":[["a","quote \\" and \\\\"],["z","last"]],"id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0",'
    '"kind":"person_access","legal_basis":{"href":"https://x.test/a",'
    '"title":"Code de l\'action sociale et des familles, art. L262-40"},'
    '"object":"Dossier n°42\\tété","outcome":"partial","person":"9b1c0f",'
    '"policy_revision":"r1","purpose":"rsa_instruction","recipient":"13002526500013",'
    '"released":["identity","rsa_status"],"time":"2025-07-10T08:30:00.250000Z","v":1}'
).encode()
GOLDEN_LEAF = "6a3349bc2e453777a241445f018626b1c9c33e9aa97dc7d618e89efb50a25fc9"


def test_canonical_bytes_are_pinned() -> None:
    assert GOLDEN_ENTRY.canonical() == GOLDEN_BYTES


def test_leaf_hash_is_pinned() -> None:
    assert leaf_hash(GOLDEN_BYTES).hex() == GOLDEN_LEAF


def test_construction_sorts_and_converts_to_utc() -> None:
    assert GOLDEN_ENTRY.time == datetime(2025, 7, 10, 8, 30, 0, 250000, tzinfo=UTC)
    assert GOLDEN_ENTRY.time.tzinfo is UTC
    assert GOLDEN_ENTRY.released == ("identity", "rsa_status")
    assert GOLDEN_ENTRY.agencies == ("cnaf", "insee")
    assert [field for field, _ in GOLDEN_ENTRY.denied] == ["address", "tax_income"]


def test_round_trip() -> None:
    again = AuditEntry.from_canonical(GOLDEN_BYTES)
    assert again == GOLDEN_ENTRY
    assert again.canonical() == GOLDEN_BYTES


def test_nulls_round_trip() -> None:
    entry = replace(GOLDEN_ENTRY, recipient=None, object=None, legal_basis=None, person=None)
    text = entry.canonical()
    assert b'"legal_basis":null' in text and b'"person":null' in text
    assert AuditEntry.from_canonical(text) == entry


def test_denials() -> None:
    assert GOLDEN_ENTRY.denials == 2
    refused = replace(GOLDEN_ENTRY, denied=(), outcome="refused")
    assert refused.denials == 1
    assert replace(refused, outcome="released").denials == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"time": datetime(2025, 7, 10, 8, 0)},
        {"kind": "person_read"},
        {"outcome": "ok"},
        {"caller": "robot"},
        {"legal_basis": ("only a title",)},
    ],
)
def test_bad_entries_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidEntry):
        replace(GOLDEN_ENTRY, **changes)  # type: ignore[arg-type]


def test_text_that_is_not_unicode_is_refused() -> None:
    with pytest.raises(InvalidEntry):
        replace(GOLDEN_ENTRY, purpose="\ud800").canonical()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"v":1}',
        GOLDEN_BYTES.replace(b'"v":1', b'"v":2'),
        GOLDEN_BYTES.replace(b"2025-07-10T08:30:00.250000Z", b"2025-07-10T08:30:00Z"),
        GOLDEN_BYTES.replace(b'"person":"9b1c0f"', b'"person":7'),
        GOLDEN_BYTES.replace(b'["cnaf","insee"]', b'"cnaf"'),
    ],
)
def test_from_canonical_refuses_what_is_not_an_entry(data: bytes) -> None:
    with pytest.raises(InvalidEntry):
        AuditEntry.from_canonical(data)


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@given(
    client=_TEXT,
    purpose=_TEXT,
    person=st.none() | _TEXT,
    released=st.lists(_TEXT, max_size=4),
    details=st.lists(st.tuples(_TEXT, _TEXT), max_size=3),
    micros=st.integers(0, 10**15),
)
def test_canonical_is_what_the_json_module_writes(
    client: str,
    purpose: str,
    person: str | None,
    released: list[str],
    details: list[tuple[str, str]],
    micros: int,
) -> None:
    entry = replace(
        GOLDEN_ENTRY,
        client=client,
        purpose=purpose,
        person=person,
        released=tuple(released),
        details=tuple(details),
        time=datetime(1990, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros),
    )
    document = json.loads(entry.canonical())
    expected = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert entry.canonical() == expected.encode()
    assert AuditEntry.from_canonical(entry.canonical()) == entry
