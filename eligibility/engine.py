"""In-process evaluation: validate, adapt, simulate once, answer per benefit.

``evaluate_population`` is what the worker processes run for a micro-batch, and what
campaigns call directly (in a worker of their own: it is CPU-bound for seconds).
"""

from __future__ import annotations

from collections.abc import Sequence

from eligibility import months
from eligibility.adapter import adapt
from eligibility.errors import NoHistory, UnknownBenefit
from eligibility.household import Household
from eligibility.model import BENEFITS, BenefitResult, PersonData
from eligibility.results import no_history, result, unavailable
from eligibility.simulation import simulate


def check_request(benefits: Sequence[str], month: str) -> tuple[str, ...]:
    """The benefits asked, deduplicated in order; raises on an unknown one or a bad month."""
    months.check_range(month)
    for benefit in benefits:
        if benefit not in BENEFITS:
            raise UnknownBenefit(benefit, BENEFITS)
    return tuple(dict.fromkeys(benefits))


def _evaluable(household: Household, benefits: Sequence[str]) -> bool:
    return any(household.complete(b) and not unavailable(b, household.month) for b in benefits)


# Households per simulation in a campaign. A simulation keeps every intermediate array
# (~25 KB per household): 10,000 households stay around 300–500 MB, and the fixed cost of a
# simulation (~0.3 s) is then a few percent of its total.
CAMPAIGN_CHUNK = 10_000


def evaluate_households(
    pairs: Sequence[tuple[PersonData, Household | None]], benefits: tuple[str, ...]
) -> list[tuple[BenefitResult, ...]]:
    """One simulation for every household with something to evaluate; ``None``: no history."""
    to_run = [h for _, h in pairs if h is not None and _evaluable(h, benefits)]
    raw_list: list[dict[str, float]] = []
    for start in range(0, len(to_run), CAMPAIGN_CHUNK):
        raw_list.extend(simulate(to_run[start : start + CAMPAIGN_CHUNK], benefits))
    raws = iter(raw_list)
    answers: list[tuple[BenefitResult, ...]] = []
    for data, household in pairs:
        if household is None:
            answers.append(tuple(no_history(data, b) for b in benefits))
            continue
        raw = next(raws) if _evaluable(household, benefits) else None
        answers.append(tuple(result(data, household, b, raw) for b in benefits))
    return answers


def evaluate_one(
    data: PersonData, benefits: Sequence[str], month: str
) -> tuple[BenefitResult, ...]:
    """One person, in this process; raises ``NoHistory`` when there is no history at all."""
    asked = check_request(benefits, month)
    return evaluate_households([(data, adapt(data, month))], asked)[0]


def evaluate_population(
    households: Sequence[PersonData], benefits: Sequence[str], month: str
) -> list[tuple[BenefitResult, ...]]:
    """Every person of a campaign in one vectorised simulation (per ``CAMPAIGN_CHUNK``).

    A person without any resource history answers CANNOT_EVALUATE ("resources") here
    instead of failing the whole campaign.
    """
    asked = check_request(benefits, month)
    pairs: list[tuple[PersonData, Household | None]] = []
    for data in households:
        try:
            pairs.append((data, adapt(data, month)))
        except NoHistory:
            pairs.append((data, None))
    return evaluate_households(pairs, asked)
