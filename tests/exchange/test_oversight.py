"""The auditors' Python API: every filter, clear refusals, names in words, recorded queries."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AuditEntry, AuditLog, AuditReader, CheckpointSigner, migrate, open_database
from connectors import PivotIdentity
from exchange import FIELDS, InvalidRequest, Pseudonyms
from exchange.caller import Client
from exchange.errors import AccessRefused
from exchange.oversight import AuditQuery, Oversight
from exchange.pseudonyms import AUDIT_SECTOR
from policies import load_catalogue
from tests.exchange.fakes import NOW, MemorySink, auditor

ON = date(2025, 7, 10)
AUDITOR = Client("demo-auditor", frozenset({"audit:read"}), "audit")
PSEUDONYMS = Pseudonyms(b"s" * 32)
ALICE = PivotIdentity(
    birth_name="Martin",
    given_names=("Alice",),
    birth_date=date(1980, 5, 17),
    sex="F",
    birth_country="99100",
    birth_place="75056",
)
ALICE_PSEUDONYM = PSEUDONYMS.pseudonym(ALICE, AUDIT_SECTOR)


def entry(n: int, **changes: object) -> AuditEntry:
    base = AuditEntry(
        id=uuid.uuid4().hex,
        time=NOW - timedelta(hours=n),
        kind="person_access",
        client=("demo-caf", "demo-agency-app")[n % 2],
        caller="client",
        purpose="rsa_instruction",
        recipient="13002526500013",
        object=f"CASE-{n % 3}",
        legal_basis=("CASF L262-40", "https://x.test/l"),
        person=ALICE_PSEUDONYM if n % 4 == 0 else f"other-{n}",
        released=("identity",),
        denied=(("tax_income", "not_needed"),),
        agencies=("cnaf",),
        outcome="partial",
        policy_revision="rev",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@asynccontextmanager
async def over(
    tmp_path: Path, entries: list[AuditEntry]
) -> AsyncIterator[tuple[Oversight, MemorySink]]:
    """The oversight service over a log holding ``entries``, its own queries in the sink."""
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    await migrate(db)
    log = AuditLog(db, CheckpointSigner(Ed25519PrivateKey.generate()), "test", clock=lambda: NOW)
    await log.start()
    for one in entries:
        await log.append(one)
    sink = MemorySink()
    catalogue = load_catalogue(known_fields=frozenset(FIELDS))
    oversight = Oversight(
        AuditReader(db), auditor(PSEUDONYMS, sink), catalogue, PSEUDONYMS, lambda: NOW
    )
    try:
        yield oversight, sink
    finally:
        await log.aclose()
        await db.aclose()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Oversight, MemorySink]]:
    entries = [entry(n) for n in range(12)]
    async with over(
        tmp_path, [*entries, entry(20, client="gone-app", purpose="gone_purpose")]
    ) as got:
        yield got


async def _log(oversight: Oversight, query: AuditQuery) -> list[int]:
    page = await oversight.log(AUDITOR, query, first=50, after=None, on=ON)
    return [r.seq for r in page.items]


async def test_every_filter(setup: tuple[Oversight, MemorySink]) -> None:
    oversight, sink = setup
    assert await _log(oversight, AuditQuery(object="CASE-1")) == [11, 8, 5, 2]
    assert await _log(oversight, AuditQuery(person_identity=ALICE)) == [13, 9, 5, 1]
    # The pseudonym a page kept from an earlier search finds the same entries.
    pseudonym = oversight.audit_pseudonym(ALICE)
    assert await _log(oversight, AuditQuery(person_pseudonym=pseudonym)) == [13, 9, 5, 1]
    handle = PSEUDONYMS.handle(ALICE, AUDITOR.sector)
    assert await _log(oversight, AuditQuery(person_handle=handle)) == [13, 9, 5, 1]
    caf = "Caisse d'allocations familiales (démonstration)"
    assert await _log(oversight, AuditQuery(organisation=caf, object="CASE-0")) == [7, 1]
    assert await _log(oversight, AuditQuery(kind="audit_query")) == []
    assert await _log(oversight, AuditQuery(recipient="11000201100044")) == []
    window = AuditQuery(start=NOW - timedelta(hours=3), end=NOW - timedelta(hours=1))
    assert await _log(oversight, window) == [4, 3]
    # A client and a purpose gone from the catalogue but known to the log are accepted.
    assert await _log(oversight, AuditQuery(client="gone-app", purpose="gone_purpose")) == [13]
    # Each query was recorded with its filter, and the person by pseudonym only.
    recorded = [dict(e.details) for e in sink.entries]
    assert recorded[0] == {"object": "CASE-1"}
    assert sink.entries[1].person == ALICE_PSEUDONYM and "Martin" not in repr(sink.entries[1])
    assert sink.entries[2].person == ALICE_PSEUDONYM  # searched by pseudonym, recorded alike
    assert recorded[4] == {"organisation": caf, "object": "CASE-0"}
    assert {e.kind for e in sink.entries} == {"audit_query"}


async def test_names_in_words(setup: tuple[Oversight, MemorySink]) -> None:
    oversight, _ = setup
    page = await oversight.log(AUDITOR, AuditQuery(), first=2, after=None, on=ON)
    gone, agency = page.items
    assert (gone.organisation.name, gone.organisation.listed, gone.purpose_label) == (
        "Organisme non référencé",
        False,
        None,
    )
    assert agency.entry.client == "demo-agency-app"
    assert agency.organisation.name == "Conseil départemental (démonstration)"
    assert agency.purpose_label is not None and agency.purpose_label.startswith("Instruction")
    assert agency.entry.denied == (("tax_income", "not_needed"),)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        (AuditQuery(outcome="ok"), "released"),
        (AuditQuery(kind="access"), "person_access"),
        (AuditQuery(purpose="nothing"), "rsa_instruction"),
        (AuditQuery(client="nobody"), "demo-caf"),
        (AuditQuery(organisation="Nobody"), "Caisse d'allocations familiales"),
        (AuditQuery(recipient="123"), "SIRET"),
        (AuditQuery(start=NOW, end=NOW - timedelta(days=1)), "'to' must be after 'from'"),
        (AuditQuery(start=datetime(2025, 6, 1)), "'from' must be a date-time with its offset"),
        (AuditQuery(person_identity=ALICE, person_handle="h1.x"), "not several"),
        (AuditQuery(person_identity=ALICE, person_pseudonym="p"), "not several"),
    ],
)
async def test_what_cannot_be_answered_is_refused_clearly(
    setup: tuple[Oversight, MemorySink], query: AuditQuery, says: str
) -> None:
    oversight, sink = setup
    with pytest.raises(InvalidRequest) as refused:
        await _log(oversight, query)
    assert says in refused.value.message
    assert sink.entries == []  # nothing answered, nothing recorded


async def test_only_auditors(setup: tuple[Oversight, MemorySink]) -> None:
    oversight, _ = setup
    other = Client("demo-caf", frozenset(), "caf")
    with pytest.raises(AccessRefused):
        await oversight.log(other, AuditQuery(), first=5, after=None, on=ON)
    with pytest.raises(AccessRefused):
        await oversight.chain_status(other, on=ON)
    with pytest.raises(AccessRefused):
        await oversight.export(other, AuditQuery(), "csv", on=ON)


async def test_exports_and_chain_status_are_recorded(setup: tuple[Oversight, MemorySink]) -> None:
    oversight, sink = setup
    pieces = await oversight.export(AUDITOR, AuditQuery(person_identity=ALICE), "jsonl", on=ON)
    assert len(sink.entries) == 1  # recorded before the first piece is read
    lines = "".join([p async for p in pieces]).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 5, 9, 13]
    assert sink.entries[0].object == "auditExport"
    assert dict(sink.entries[0].details) == {"format": "jsonl"}
    assert sink.entries[0].person == ALICE_PSEUDONYM
    status = await oversight.chain_status(AUDITOR, on=ON)
    assert status.size == 13 and status.tail.ok
    assert sink.entries[1].object == "auditChainStatus"
    with pytest.raises(InvalidRequest):
        await oversight.export(AUDITOR, AuditQuery(), "xml", on=ON)  # type: ignore[arg-type]
    end = NOW + timedelta(hours=1)
    await oversight.anomalies(AUDITOR, NOW - timedelta(days=1), end, ON)
    assert sink.entries[2].object == "auditAnomalies"
    with pytest.raises(InvalidRequest):
        await oversight.stats(AUDITOR, end, NOW, ON)


async def test_the_person_identity_is_never_kept(setup: tuple[Oversight, MemorySink]) -> None:
    oversight, sink = setup
    await _log(oversight, AuditQuery(person_identity=ALICE))
    recorded = sink.entries[0]
    text = recorded.canonical().decode()
    assert "MARTIN" not in text.upper() and "1980-05-17" not in text
    assert recorded.person == ALICE_PSEUDONYM


def test_times_are_utc() -> None:
    assert NOW.tzinfo is UTC


async def test_opening_one_entry_is_recorded_with_which_and_whose(
    setup: tuple[Oversight, MemorySink],
) -> None:
    oversight, sink = setup
    record = await oversight.entry(AUDITOR, 1, on=ON)
    assert record is not None and record.seq == 1
    [read] = sink.entries
    assert read.kind == "audit_query" and read.object == "auditEntry"
    assert dict(read.details) == {"seq": "1", "entry": record.entry.id}
    assert read.person == record.entry.person == ALICE_PSEUDONYM
    # A number the log does not have: recorded too, about nobody.
    assert await oversight.entry(AUDITOR, 999, on=ON) is None
    assert dict(sink.entries[1].details) == {"seq": "999"} and sink.entries[1].person is None
    with pytest.raises(AccessRefused):
        await oversight.entry(Client("demo-caf", frozenset(), "social"), 1, on=ON)


async def test_a_persons_own_acts_read_as_theirs(tmp_path: Path) -> None:
    revoked = entry(
        0,
        kind="consent_change",
        client="citizen",
        caller="citizen",
        purpose="consent",
        recipient=None,
        legal_basis=None,
    )
    async with over(tmp_path, [revoked]) as (oversight, _):
        record = await oversight.entry(AUDITOR, 1, on=ON)
    assert record is not None
    assert (record.organisation.name, record.organisation.listed) == (
        "La personne elle-même",
        True,
    )
    assert record.purpose_label == "Gestion de ses consentements par la personne"


async def test_an_entry_a_later_one_corrects_is_opened_with_its_correction(
    tmp_path: Path,
) -> None:
    from audit import CORRECTS

    expected = entry(0, released=("identity", "rsa_status"), outcome="released", denied=())
    correction = replace(
        expected,
        id=uuid.uuid4().hex,
        released=("identity",),
        denied=(("rsa_status", "UPSTREAM_TIMEOUT"),),
        outcome="partial",
        details=((CORRECTS, expected.id),),
    )
    async with over(tmp_path, [expected, correction, entry(1)]) as (oversight, _):
        page = await oversight.log(AUDITOR, AuditQuery(), first=10, after=None, on=ON)
        first = await oversight.entry(AUDITOR, 1, on=ON)
        second = await oversight.entry(AUDITOR, 2, on=ON)
    # The journal shows the correction in its place; the entry itself still opens, and says
    # which entry corrects it.
    assert [r.seq for r in page.items] == [3, 2]
    assert first is not None and first.entry.id == expected.id and first.corrected_by == 2
    assert second is not None and second.corrected_by is None
    assert second.entry.corrects == expected.id
