"""The gross pensions the ASPA counts, from a CNAV record, for the claimant or their partner.

The ASPA counts the resources of the claimant and of their spouse, cohabitant or PACS partner
(Code de la sécurité sociale, article L815-9:
https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031688513), gross: OpenFisca-France
reads ``retraite_brute``, which GIP-MDS's net amounts do not give.
"""

from __future__ import annotations

from datetime import date

from connectors.records import Retirement
from eligibility import months as mo


def aspa_age(birth: date | None, month: str) -> bool:
    """Old enough for ASPA to depend on resources (the earliest legal age is 62; margin kept).
    An unknown birth date is old enough: nothing is ruled out on a guess."""
    if birth is None:
        return True
    return mo.months_since(birth, month) >= 60 * 12


def gross_by_month(retirement: Retirement, months: tuple[str, ...]) -> tuple[float, ...]:
    """The gross monthly pensions paid in each of ``months`` (``YYYY-MM``): every pension
    the record shows, from the month it started."""
    return tuple(
        round(sum(p.monthly_gross for p in retirement.pensions if p.since.isoformat()[:7] <= m), 2)
        for m in months
    )
