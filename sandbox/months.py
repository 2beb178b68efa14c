"""Months as plain integers (``year * 12 + month - 1``): cheap to compare, add and hash."""

from __future__ import annotations

import calendar
import re
from datetime import date

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> int:
    """``"2025-06"`` → month number; ``ValueError`` on anything else."""
    match = _MONTH.match(text)
    if match is None:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def month_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def first_day(month: int) -> date:
    return date(month // 12, month % 12 + 1, 1)


def last_day(month: int) -> date:
    year, number = month // 12, month % 12 + 1
    return date(year, number, calendar.monthrange(year, number)[1])


def add_years(day: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February when needed."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
