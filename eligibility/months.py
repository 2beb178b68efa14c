"""Month arithmetic and the range of months the pinned model can answer for.

Months are ``YYYY-MM`` strings throughout, as in ``connectors.records``; no clock is read
here: every function takes the month it works on.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from eligibility.errors import BadMonth, MonthOutOfRange

# The resource history OpenFisca needs: RSA and PPA read the last quarter, the CSS the last
# twelve months, housing aid the twelve months before M-1; 18 months cover all of them.
HISTORY_MONTHS = 18
FIRST_MONTH = "2019-01"
# OpenFisca-France 176.1.8 carries the 1 April 2026 revaluations (RSA, ASPA) and the
# October 2026 housing-aid scales; past 2026-12 answers would rest on parameters the release
# cannot know. The CSS ceiling stops earlier (see ``eligibility.reform``).
LAST_MONTH = "2026-12"

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(month: str) -> tuple[int, int]:
    match = _MONTH.match(month)
    if match is None:
        raise BadMonth(month)
    return int(match.group(1)), int(match.group(2))


def shift(month: str, delta: int) -> str:
    year, mon = parse(month)
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def span(first: str, last: str) -> tuple[str, ...]:
    """Every month from ``first`` to ``last`` inclusive, oldest first."""
    fy, fm = parse(first)
    ly, lm = parse(last)
    count = (ly * 12 + lm) - (fy * 12 + fm) + 1
    return tuple(shift(first, i) for i in range(max(count, 0)))


def months_since(day: date, month: str) -> int:
    """Whole months from ``day``'s month to ``month`` (YYYY-MM), days not counted: an age in
    months, to within one."""
    year, mon = parse(month)
    return (year - day.year) * 12 + (mon - day.month)


def first_day(month: str) -> date:
    year, mon = parse(month)
    return date(year, mon, 1)


def last_day(month: str) -> date:
    return first_day(shift(month, 1)) - timedelta(days=1)


def required_history(month: str) -> tuple[str, str]:
    """(first, last): the 18 months before ``month`` whose resources must be known."""
    check_range(month)
    return shift(month, -HISTORY_MONTHS), shift(month, -1)


def history(month: str) -> tuple[str, ...]:
    first, last = required_history(month)
    return span(first, last)


def check_range(month: str) -> None:
    parse(month)
    if not FIRST_MONTH <= month <= LAST_MONTH:
        raise MonthOutOfRange(month, FIRST_MONTH, LAST_MONTH)
