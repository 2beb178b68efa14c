"""The sandbox DGFiP's revenu fiscal de référence: the 10 % deduction on wages, benefits and
pensions; a micro-entrepreneur's profit, their turnover less their category's allowance."""

from __future__ import annotations

import pytest

from sandbox.taxable import micro_profit, reference_income


def test_each_category_keeps_its_share_of_the_turnover() -> None:
    assert micro_profit(38_950.80, "bic_vente") == pytest.approx(38_950.80 * 0.29)
    assert micro_profit(20_000, "bic_services") == pytest.approx(10_000)
    assert micro_profit(20_000, "bnc") == pytest.approx(13_200)


def test_the_allowance_is_at_least_305_euros_and_never_more_than_the_turnover() -> None:
    assert micro_profit(400, "bic_vente") == pytest.approx(95)
    assert micro_profit(200, "bnc") == 0


def test_a_household_of_a_wage_earner_and_a_micro_entrepreneur() -> None:
    # 23,246.04 € of taxable salary and 38,950.80 € of sales: 20,921 + 11,296 (not 55,977 as
    # if the turnover were a wage).
    assert reference_income(23_246.04, [("bic_vente", 38_950.80)]) == 32_217
    assert reference_income(10_000, []) == 9_000
