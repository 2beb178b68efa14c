"""The tax-benefit system, built once per process (~2.5–7 s, ~130 MB) and then reused."""

from __future__ import annotations

from typing import Any

_SYSTEM: Any = None


def tax_benefit_system() -> Any:
    """OpenFisca-France with ``SourcedParameters`` and ``PaidBenefits`` applied; built on first
    use in a process."""
    global _SYSTEM
    if _SYSTEM is None:
        # Imported here so that importing ``eligibility`` (the gateway does) stays cheap.
        from openfisca_france import FranceTaxBenefitSystem

        from eligibility.paid import PaidBenefits
        from eligibility.reform import SourcedParameters

        _SYSTEM = PaidBenefits(SourcedParameters(FranceTaxBenefitSystem()))
    return _SYSTEM
