"""The ``moisDebut``/``moisFin`` window of GIP-MDS and housing calls."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from sandbox.months import month_text, parse_month
from sandbox.protocol import parse_month_param, unprocessable

MAX_MONTHS = 24


def month_window(params: QueryParams, reference: int) -> range:
    """Months asked, oldest first; the default is the 12 months ending at the reference."""
    end = parse_month(parse_month_param(params, "moisFin", month_text(reference)))
    start = parse_month(parse_month_param(params, "moisDebut", month_text(end - 11)))
    if start > end:
        raise unprocessable("moisDebut doit précéder moisFin", "moisDebut")
    if end - start + 1 > MAX_MONTHS:
        raise unprocessable(f"La période demandée dépasse {MAX_MONTHS} mois", "moisDebut")
    return range(start, end + 1)
