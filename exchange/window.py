"""The period a request looks at, derived from its reference date: explicit, never `today()`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from exchange.errors import InvalidRequest

MAX_MONTHS = 24


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def shift_month(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Window:
    """Months ``first``..``last`` (``YYYY-MM``, inclusive) and the tax-income year to read."""

    first: str
    last: str
    income_year: int

    @classmethod
    def ending_before(cls, on: date, months: int, income_year: int | None = None) -> Window:
        """The ``months`` full months before the month of ``on``.

        Monthly resources are declared after the month ends, so the current month is never
        complete. Income of year N is assessed by DGFiP during N+1; before September the
        latest notice is for N-2. ``income_year`` asks for another year explicitly.
        """
        if not 1 <= months <= MAX_MONTHS:
            raise InvalidRequest(f"months must be between 1 and {MAX_MONTHS}")
        last = shift_month(month_of(on), -1)
        first = shift_month(last, -(months - 1))
        if income_year is None:
            income_year = on.year - 1 if on.month >= 9 else on.year - 2
        return cls(first=first, last=last, income_year=income_year)
