from __future__ import annotations

from proactive.campaign import Summary
from proactive.engine.waiting import left_pending, settled, summed
from store.batches import Progress


def progress(done: int, failing: list[tuple[int, int, str]]) -> Progress:
    return Progress("c", "detection", {}, 3, done, 30, done * 10, {"examined": 20, "x": 1}, failing)


def test_settled_when_every_batch_is_done_or_given_up() -> None:
    assert not settled(progress(2, []))
    assert not settled(progress(2, [(2, 1, "KindError")]))
    given_up = progress(2, [(2, 4, "KindError")])
    assert settled(given_up) and left_pending(given_up) == [2]
    assert settled(progress(3, []))


def test_summed_keeps_the_summary_fields() -> None:
    assert summed(progress(2, []), Summary) == Summary(examined=20)
