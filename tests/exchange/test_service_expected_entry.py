"""An access's entry is committed while the agencies are called, and corrected when they do
not all answer (a unit test of the exchange with a fake connector bundle)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from audit import CORRECTS, AuditEntry, Receipt
from exchange.errors import NotRecorded
from exchange.service import PersonView
from tests.exchange.fakes import MemorySink
from tests.exchange.test_service import (
    DEPARTEMENT,
    RSA,
    FakeConnectors,
    _exchange,
    _request,
)

FIELDS = {"identity", "benefits.rsa"}


class _Held:
    """A CNAF whose answer waits for the test to let it go."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.answer = asyncio.Event()

    async def benefit(self, *args: Any) -> object:
        self.called.set()
        await self.answer.wait()
        return {"method": "benefit"}


async def _held_access(sink: MemorySink) -> tuple[asyncio.Future[PersonView], _Held]:
    """An access under way, the CNAF called and holding its answer."""
    fake = FakeConnectors()
    held = _Held()
    fake.cnaf = held  # type: ignore[attr-defined]
    access = asyncio.ensure_future(
        _exchange(fake, sink=sink).person(_request(FIELDS, caller=DEPARTEMENT, context=RSA))
    )
    await held.called.wait()
    return access, held


async def test_the_entry_is_durable_before_the_agencies_answer() -> None:
    sink = MemorySink()
    access, held = await _held_access(sink)
    await asyncio.sleep(0)  # the append's turn, had it not run yet
    (entry,) = sink.entries  # written while the CNAF has not answered
    assert entry.released == ("benefits.rsa", "identity") and entry.outcome == "released"
    held.answer.set()
    view = await access
    assert sink.entries == [entry]  # every agency answered: nothing to correct
    assert entry.id == view.access_id and entry.corrects is None
    assert entry.agencies == ("civil_registry", "cnaf")


async def test_an_agency_that_fails_is_corrected_in_a_second_entry() -> None:
    sink = MemorySink()
    fake = FakeConnectors(fail={"benefit"})
    view = await _exchange(fake, sink=sink).person(
        _request(FIELDS, caller=DEPARTEMENT, context=RSA)
    )
    expected, correction = sink.entries
    assert view.access_id == expected.id
    assert expected.released == ("benefits.rsa", "identity") and expected.outcome == "released"
    assert correction.corrects == expected.id and correction.id != expected.id
    assert (CORRECTS, expected.id) in correction.details
    assert correction.released == ("identity",) and correction.outcome == "partial"
    assert dict(correction.denied) == {"benefits.rsa": "UPSTREAM_TIMEOUT"}
    # Everything else is the access's, unchanged.
    for name in ("kind", "client", "purpose", "person", "agencies", "legal_basis", "object"):
        assert getattr(correction, name) == getattr(expected, name)


async def test_a_read_that_raises_is_corrected_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = MemorySink()

    async def broken(*args: Any) -> object:
        raise RuntimeError("a defect past the connectors' own containment")

    monkeypatch.setattr("exchange.service.fetch_all", broken)
    with pytest.raises(RuntimeError):
        await _exchange(FakeConnectors(), sink=sink).person(
            _request(FIELDS, caller=DEPARTEMENT, context=RSA)
        )
    expected, correction = sink.entries
    assert correction.corrects == expected.id
    assert correction.released == () and correction.outcome == "failed"
    assert {f: why for f, why in correction.denied if why == "INTERNAL"} == {
        "identity": "INTERNAL",
        "benefits.rsa": "INTERNAL",
    }


async def test_a_cancelled_access_is_corrected_once_its_entry_is_written() -> None:
    sink = MemorySink()
    access, _ = await _held_access(sink)
    access.cancel()  # the client went away while the CNAF was being called
    with pytest.raises(asyncio.CancelledError):
        await access
    for _ in range(5):
        await asyncio.sleep(0)
    expected, correction = sink.entries
    assert correction.corrects == expected.id and correction.outcome == "failed"
    assert ("benefits.rsa", "CANCELLED") in correction.denied


class _FailsSecond(MemorySink):
    """Takes the expected entry, then fails: the correction is not written."""

    async def append(self, entry: AuditEntry) -> Receipt:
        if self.entries:
            self.broken = True
        return await super().append(entry)


async def test_nothing_leaves_when_the_correction_is_not_written() -> None:
    sink = _FailsSecond()
    fake = FakeConnectors(fail={"benefit"})
    with pytest.raises(NotRecorded):
        await _exchange(fake, sink=sink).person(_request(FIELDS, caller=DEPARTEMENT, context=RSA))
    (expected,) = sink.entries  # says more than was released: the safe side
    assert expected.released == ("benefits.rsa", "identity") and expected.outcome == "released"


async def test_nothing_leaves_when_the_expected_entry_is_not_written() -> None:
    fake = FakeConnectors()
    with pytest.raises(NotRecorded):
        await _exchange(fake, sink=MemorySink(broken=True)).person(
            _request(FIELDS, caller=DEPARTEMENT, context=RSA)
        )
    assert sorted(fake.calls) == ["benefit", "civil_status"]  # called meanwhile, not released
