"""The revenu fiscal de référence the sandbox DGFiP serves, from a year's declared incomes.

Wages, unemployment benefits and pensions lose the 10 % flat deduction (CGI art. 83 3° and
158 5° a; its floor and ceiling are left out). A micro-entrepreneur's turnover loses the flat
allowance of its activity category, at least 305 € a year (CGI art. 50-0: 71 % for sales,
50 % for other commercial services; art. 102 ter: 34 % for non-commercial activities): their
profit, not their turnover, is taxed. Both the DGFiP agency and the scenario checks use it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.person import TurnoverCategory

FLAT_DEDUCTION = 0.10
MICRO_ALLOWANCE: dict[TurnoverCategory, float] = {
    "bic_vente": 0.71,
    "bic_services": 0.50,
    "bnc": 0.34,
}
MICRO_MINIMUM = 305.0


def micro_profit(turnover: float, category: TurnoverCategory) -> float:
    """A year's taxable profit of a micro-entrepreneur's ``turnover`` in ``category``."""
    allowance = min(turnover, max(turnover * MICRO_ALLOWANCE[category], MICRO_MINIMUM))
    return turnover - allowance


def reference_income(taxable: float, turnovers: Iterable[tuple[TurnoverCategory, float]]) -> int:
    """The RFR of a tax household: its year's ``taxable`` wages, benefits and pensions, and
    each declarant's year of turnover by category (one pair per declarant and category)."""
    profits = sum(micro_profit(amount, category) for category, amount in turnovers)
    return round(taxable * (1 - FLAT_DEDUCTION) + profits)
