"""The console's search form: the period as typed or as a date field sends it."""

from __future__ import annotations

from datetime import date

from gateway.console.filters import Search, read_period, start_of


def test_a_period_reads_as_a_date_field_sends_it_or_as_typed() -> None:
    for first, last in (("2026-03-01", "2026-03-31"), ("01/03/2026", "31/03/2026")):
        search = Search(values={"du": first, "au": last})
        read_period(search)
        assert search.problems == []
        assert search.start == start_of(date(2026, 3, 1))
        assert search.end == start_of(date(2026, 4, 1))  # the last day included


def test_what_is_not_a_date_is_said_so() -> None:
    search = Search(values={"du": "31/02/2026", "au": "demain"})
    read_period(search)
    assert [p.field for p in search.problems] == ["du", "au"]
