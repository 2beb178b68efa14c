"""Eligibility to five benefits with OpenFisca-France, and non-take-up (DESIGN §8).

Imports only ``connectors`` (the records) of ours. OpenFisca is imported lazily: the
tax-benefit system is built in the worker processes of ``EligibilityService`` (or on the
first in-process call), never when the gateway imports this package.
"""

from eligibility.engine import evaluate_population
from eligibility.errors import (
    BadMonth,
    EligibilityError,
    EngineUnavailable,
    MonthOutOfRange,
    NoHistory,
    UnknownBenefit,
)
from eligibility.model import (
    BENEFITS,
    BenefitResult,
    Criterion,
    InputUsed,
    PersonData,
    Status,
)
from eligibility.months import required_history
from eligibility.service import EligibilityService

__all__ = [
    "BENEFITS",
    "BadMonth",
    "BenefitResult",
    "Criterion",
    "EligibilityError",
    "EligibilityService",
    "EngineUnavailable",
    "InputUsed",
    "MonthOutOfRange",
    "NoHistory",
    "PersonData",
    "Status",
    "UnknownBenefit",
    "evaluate_population",
    "required_history",
]
