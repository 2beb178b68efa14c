"""The tax-benefit system is built once per test session (a few seconds, ~130 MB)."""

from __future__ import annotations

from typing import Any

import pytest

from eligibility.system import tax_benefit_system


@pytest.fixture(scope="session")
def tbs() -> Any:
    return tax_benefit_system()
