"""``Exchange.persons``, the bulk path: one decision per batch, one audit entry per person,
appended together, nothing released unless every entry is durable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import cast

from audit import AuditEntry, Receipt
from connectors import Connectors, PivotIdentity
from exchange import AccessContext, AccessRefused, Client, Exchange, PersonView, PolicyDecider
from exchange.caller import Caller
from exchange.errors import NotRecorded
from exchange.reference import PersonReference
from exchange.service import PersonRequest
from policies import Verdict
from tests.exchange.fakes import MemorySink, auditor
from tests.exchange.test_service import (
    CATALOGUE,
    DEPARTEMENT,
    PSEUDONYMS,
    RSA,
    Consents,
    FakeConnectors,
    _request,
)

FIELDS = {"identity", "pension", "healthCoverage", "benefits.rsa"}


class CountingDecider(PolicyDecider):
    def __init__(self, consents: Consents | None = None) -> None:
        super().__init__(CATALOGUE, consents or Consents(), PSEUDONYMS)
        self.prechecks = 0

    def precheck(
        self, caller: Caller, context: AccessContext, fields: frozenset[str], on: date
    ) -> Verdict:
        self.prechecks += 1
        return super().precheck(caller, context, fields, on)


class BulkSink(MemorySink):
    def __init__(self, broken: bool = False) -> None:
        super().__init__(broken)
        self.transactions: list[int] = []

    async def append_many(self, entries: Sequence[AuditEntry]) -> list[Receipt]:
        self.transactions.append(len(entries))
        return [await self.append(e) for e in entries]


def _persons(n: int) -> list[PivotIdentity]:
    return [
        PivotIdentity(
            f"DUPONT{chr(65 + i)}", ("JEAN",), date(1980, 1, 1 + i), "M", "99100", "69123"
        )
        for i in range(n)
    ]


def _exchange(fake: FakeConnectors, decider: PolicyDecider, sink: MemorySink) -> Exchange:
    return Exchange(cast(Connectors, fake), decider, PSEUDONYMS, auditor(PSEUDONYMS, sink))


def _batch(people: list[PivotIdentity], fields: set[str] = FIELDS) -> list[PersonRequest]:
    return [
        _request(fields, PersonReference(identity=p), caller=DEPARTEMENT, context=RSA)
        for p in people
    ]


def _same_entry(a: AuditEntry, b: AuditEntry) -> bool:
    # Everything but the access id (random) and the time.
    return replace(a, id="", time=b.time) == replace(b, id="")


async def test_a_batch_is_decided_once_and_answered_as_one_by_one() -> None:
    people = _persons(5)
    bulk_sink, one_sink = BulkSink(), MemorySink()
    decider = CountingDecider()
    views = await _exchange(FakeConnectors(), decider, bulk_sink).persons(_batch(people))
    assert decider.prechecks == 1
    assert bulk_sink.transactions == [5]  # every entry in one append
    single = _exchange(FakeConnectors(), CountingDecider(), one_sink)
    for person, view, entry in zip(people, views, bulk_sink.entries, strict=True):
        assert isinstance(view, PersonView)
        alone = await single.person(_batch([person])[0])
        assert view.fields.keys() == alone.fields.keys()
        assert view.failures == alone.failures
        assert view.handle == alone.handle
        # Each person's own entry: their pseudonym, their access id.
        assert entry.id == view.access_id
        assert _same_entry(entry, one_sink.entries[-1])
    assert len({e.person for e in bulk_sink.entries}) == 5
    assert len({e.id for e in bulk_sink.entries}) == 5


async def test_a_refused_batch_fetches_nothing_and_records_each_person() -> None:
    fake, sink = FakeConnectors(), BulkSink()
    stranger = Client("stranger", frozenset({"person:read"}))
    requests = [replace(r, caller=stranger) for r in _batch(_persons(3))]
    answers = await _exchange(fake, CountingDecider(), sink).persons(requests)
    assert all(isinstance(a, AccessRefused) for a in answers)
    assert fake.calls == []
    assert [e.outcome for e in sink.entries] == ["refused"] * 3


async def test_nothing_is_released_when_the_batch_cannot_be_recorded() -> None:
    answers = await _exchange(FakeConnectors(), CountingDecider(), BulkSink(broken=True)).persons(
        _batch(_persons(4))
    )
    assert all(isinstance(a, NotRecorded) for a in answers)


async def test_a_sink_without_bulk_append_gets_one_append_per_entry() -> None:
    sink = MemorySink()
    answers = await _exchange(FakeConnectors(), CountingDecider(), sink).persons(
        _batch(_persons(3))
    )
    assert all(isinstance(a, PersonView) for a in answers)
    assert len(sink.entries) == 3


async def test_requests_that_differ_are_decided_per_kind_and_keep_their_order() -> None:
    people = _persons(4)
    requests = _batch(people[:2]) + _batch(people[2:], {"identity"})
    requests = [requests[0], requests[2], requests[1], requests[3]]
    decider, sink = CountingDecider(), BulkSink()
    answers = await _exchange(FakeConnectors(), decider, sink).persons(requests)
    assert decider.prechecks == 2
    assert sorted(sink.transactions) == [2, 2]
    kinds = [set(a.fields) | set(a.failures) for a in answers if isinstance(a, PersonView)]
    assert kinds == [FIELDS, {"identity"}, FIELDS, {"identity"}]


async def test_an_empty_batch_does_nothing() -> None:
    sink = BulkSink()
    assert await _exchange(FakeConnectors(), CountingDecider(), sink).persons([]) == []
    assert sink.transactions == []
