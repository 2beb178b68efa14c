"""Progress bars: total, counts and time left on a terminal; nothing when not a terminal."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.campaign import campaign_progress
from cli.progress import Bar, CountedOutbox
from proactive.campaign import Summary
from store import Message, connect, migrate

T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def text(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", self.getvalue())


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a terminal wide enough for every column


def test_not_a_terminal_writes_nothing() -> None:
    stream = io.StringIO()
    with Bar("campaign c", 10, stream) as bar:
        bar.update(5, "2 offers")
        assert not bar.enabled
    assert stream.getvalue() == ""


def test_the_campaign_bar_counts_the_whole_population_not_the_batch() -> None:
    """The old line showed 1000/1000 (the persons batched so far) for a 2,500-person run."""
    stream = Terminal()
    with Bar("campaign rsa-2025-06", 2500, stream) as bar:
        campaign_progress(bar)(
            Summary(examined=1000, fetched=990, errors=10, eligible=40, offers_created=30)
        )
    text = stream.text()
    assert "1000/2500" in text and "1000/1000" not in text
    assert "campaign rsa-2025-06" in text and "30 offers, 10 errors" in text
    assert "restant" in text  # the estimated time left has its column


def test_track_advances_as_each_item_is_taken() -> None:
    stream = Terminal()
    with Bar("renewal r", 3, stream) as bar:
        assert list(bar.track(["a", "b", "c"])) == ["a", "b", "c"]
    assert "3/3" in stream.text()


def test_a_batch_bar_counts_the_batches_done_before_it() -> None:
    stream = Terminal()
    with Bar("campaign c", 10, stream) as bar:
        campaign_progress(bar, 6)(Summary(fetched=3, errors=1))
    assert "10/10" in stream.text()


async def test_the_deliver_bar_advances_once_per_message_settled(tmp_path: Path) -> None:
    database = await connect(f"sqlite+aiosqlite:///{(tmp_path / 'store.db').as_posix()}")
    await migrate(database)
    stream = Terminal()
    try:
        with Bar("deliver", 2, stream) as bar:
            outbox = CountedOutbox(database, bar)
            stored = [
                await outbox.enqueue(
                    Message(f"k{n}", "email", "a", "offer", {}, T0, T0, offer_id=None)
                )
                for n in range(2)
            ]
            await outbox.mark_sent(stored[0].id, T0)
            await outbox.mark_failed(stored[1].id, "timeout", T0, dead=False)
    finally:
        await database.aclose()
    assert "2/2" in stream.text()
