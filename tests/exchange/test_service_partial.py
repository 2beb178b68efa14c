"""Provisional views while the agencies answer (exchange.partial): what they settle is what
the final view holds, and nothing else can be read from them."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from exchange import FIELDS as SOURCE_OF
from exchange import NotYet, PersonView
from tests.exchange.test_service import DEPARTEMENT, RSA, FakeConnectors, _exchange, _request


class _Late:
    """An agency whose answers come each in a later turn of the event loop than the one
    before (the sandbox's, over HTTP, would come when they come)."""

    def __init__(self, agency: Any, turns: itertools.count[int]) -> None:
        self._agency = agency
        self._turns = turns

    def __getattr__(self, method: str) -> Any:
        call = getattr(self._agency, method)

        async def late(*args: Any) -> object:
            for _ in range(2 * next(self._turns)):
                await asyncio.sleep(0)
            return await call(*args)

        return late


class Staggered(FakeConnectors):
    def __init__(self, fail: set[str] | None = None) -> None:
        super().__init__(fail)
        turns = itertools.count(1)
        for name, agency in list(vars(self).items()):
            if name not in ("calls", "args"):
                setattr(self, name, _Late(agency, turns))


# The CNAV's record serves two of them.
FIELDS = {
    "benefits.rsa",
    "benefits.primeActivite",
    "pension",
    "benefits.aspa",
    "healthCoverage",
    "identity",
}


async def _partials(
    fake: FakeConnectors, fields: set[str] = FIELDS, **kwargs: object
) -> tuple[PersonView, list[tuple[dict[str, object], frozenset[str], frozenset[str]]]]:
    """The final view, and per provisional view: what could be read, what it settled, and
    what it still awaited."""
    seen: list[tuple[dict[str, object], frozenset[str], frozenset[str]]] = []

    def on_partial(view: PersonView, settled: frozenset[str]) -> None:
        readable: dict[str, object] = {}
        for field in fields:
            try:
                failure = view.failures.get(field)
                readable[field] = failure if failure is not None else view.fields[field]
            except NotYet as wait:
                assert wait.key == field and field in view.awaiting
        with pytest.raises(NotYet):
            len(view.fields)  # depends on every answer
        seen.append((readable, settled, view.awaiting))

    final = await _exchange(fake).person(_request(fields, **kwargs), on_partial)  # type: ignore[arg-type]
    return final, seen


async def test_each_answer_but_the_last_gives_a_provisional_view_that_agrees() -> None:
    final, seen = await _partials(Staggered())
    sources = {SOURCE_OF[f] for f in FIELDS}
    assert len(seen) == len(sources) - 1  # the last answer gives the view itself
    assert not final.awaiting
    for readable, settled, awaiting in seen:
        assert settled and settled <= readable.keys() and not awaiting & readable.keys()
        for field, value in readable.items():
            assert value == (final.failures.get(field) or final.fields[field])
    # Fields settle as their source answers: the CNAV's two together, the last one's after.
    last = frozenset(FIELDS) - frozenset().union(*(s for _, s, _ in seen))
    assert frozenset({"pension", "benefits.aspa"}) in [s for _, s, _ in seen] + [last]


async def test_a_failing_source_settles_its_fields_as_failures() -> None:
    final, seen = await _partials(Staggered(fail={"retirement"}))
    assert final.failures["pension"].code == "UPSTREAM_TIMEOUT"
    for readable, _, _ in seen:
        if "pension" in readable:
            assert readable["pension"] == final.failures["pension"]


async def test_denied_fields_are_settled_before_any_answer() -> None:
    # The RSA instruction does not release the pension: denied before anything is called.
    final, seen = await _partials(Staggered(), context=RSA, caller=DEPARTEMENT)
    denied = {f for f, x in final.failures.items() if x.code == "FORBIDDEN"}
    assert denied and seen
    for readable, _, _ in seen:
        assert denied <= readable.keys()


async def test_one_source_gives_no_provisional_view() -> None:
    final, seen = await _partials(Staggered(), fields={"identity"})
    assert seen == [] and "identity" in final.fields


async def test_answers_that_come_together_give_no_provisional_view() -> None:
    # Every agency answering at once (as from the cache): nothing is left to wait for.
    final, seen = await _partials(FakeConnectors())
    assert seen == [] and final.fields.keys() == FIELDS
