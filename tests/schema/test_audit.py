"""GraphQL's from/to: a date-time with offset as given, a plain date in Paris, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from graphql import GraphQLError

from schema.audit import PARIS, instant


def test_an_aware_time_is_kept() -> None:
    given = datetime(2025, 7, 10, 8, tzinfo=timezone(timedelta(hours=2)))
    assert instant("from", given, end=False) is given


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        # Summer (UTC+2), and the autumn change: that day has 25 hours.
        (
            datetime(2025, 7, 10),
            datetime(2025, 7, 9, 22, tzinfo=UTC),
            datetime(2025, 7, 10, 22, tzinfo=UTC),
        ),
        (
            datetime(2025, 10, 26),
            datetime(2025, 10, 25, 22, tzinfo=UTC),
            datetime(2025, 10, 26, 23, tzinfo=UTC),
        ),
    ],
)
def test_a_date_is_that_whole_day_in_paris(day: datetime, start: datetime, end: datetime) -> None:
    assert instant("from", day, end=False) == start
    assert instant("to", day, end=True) == end
    assert instant("to", day, end=True).tzinfo == PARIS


def test_a_time_without_offset_is_refused_naming_the_field() -> None:
    with pytest.raises(GraphQLError) as refused:
        instant("to", datetime(2025, 7, 10, 8, 30), end=True)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT"}
    assert "'to'" in refused.value.message and "2025-06-01" in refused.value.message
