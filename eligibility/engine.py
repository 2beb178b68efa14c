"""In-process evaluation: validate, adapt, simulate once, answer per benefit.

``evaluate_population`` is what the worker processes run for a micro-batch, and what
campaigns call directly (in a worker of their own: it is CPU-bound for seconds).
"""

from __future__ import annotations

from collections.abc import Sequence

from eligibility import bounds, months
from eligibility.adapter import adapt
from eligibility.errors import NoHistory, UnknownBenefit
from eligibility.household import Household
from eligibility.model import BENEFITS, BenefitResult, PersonData
from eligibility.results import death_by, deceased, result
from eligibility.simulation import simulate


def check_request(benefits: Sequence[str], month: str) -> tuple[str, ...]:
    """The benefits asked, deduplicated in order; raises on an unknown one or a bad month."""
    months.check_range(month)
    for benefit in benefits:
        if benefit not in BENEFITS:
            raise UnknownBenefit(benefit, BENEFITS)
    return tuple(dict.fromkeys(benefits))


def _evaluable(household: Household, benefits: Sequence[str]) -> bool:
    return any(household.complete(b) for b in benefits)


# Households per simulation in a campaign. A simulation keeps every intermediate array
# (~25 KB per household): 10,000 households stay around 300–500 MB, and the fixed cost of a
# simulation (~0.3 s) is then a few percent of its total.
CAMPAIGN_CHUNK = 10_000


def plan(
    data: PersonData, benefits: tuple[str, ...], month: str
) -> Household | tuple[BenefitResult, ...]:
    """The household to simulate, or the answers known without running the rules: a person
    the civil registry records as deceased on or before ``month`` (DECEASED). A person
    without any resource history in the window is simulated with every month unknown, at
    its bounds: what no resource can change is answered (the ASPA under its age), the rest
    is CANNOT_EVALUATE naming every month."""
    died = death_by(data, month)
    if died is not None:
        return tuple(deceased(data, b, died) for b in benefits)
    try:
        return adapt(data, month, benefits=benefits)
    except NoHistory:
        return adapt(data, month, without_history=True, benefits=benefits)


def evaluate_households(
    pairs: Sequence[tuple[PersonData, Household]], benefits: tuple[str, ...]
) -> list[tuple[BenefitResult, ...]]:
    """One simulation for every household with something to evaluate."""
    to_run = [h for _, h in pairs if _evaluable(h, benefits)]
    # Each household's alternatives (bounds of its unknown inputs) are rows of their own.
    run_rows = [row for h in to_run for row in bounds.rows(h)]
    raw_list: list[dict[str, float]] = []
    for start in range(0, len(run_rows), CAMPAIGN_CHUNK):
        raw_list.extend(simulate(run_rows[start : start + CAMPAIGN_CHUNK], benefits))
    raws = iter(raw_list)
    answers: list[tuple[BenefitResult, ...]] = []
    for data, household in pairs:
        mine: list[dict[str, float]] | None = None
        if _evaluable(household, benefits):
            mine = [next(raws) for _ in bounds.rows(household)]
        answers.append(tuple(result(data, household, b, mine) for b in benefits))
    return answers


def evaluate_one(
    data: PersonData, benefits: Sequence[str], month: str
) -> tuple[BenefitResult, ...]:
    """One person, in this process."""
    asked = check_request(benefits, month)
    planned = plan(data, asked, month)
    if not isinstance(planned, Household):
        return planned
    return evaluate_households([(data, planned)], asked)[0]


def evaluate_population(
    households: Sequence[PersonData], benefits: Sequence[str], month: str
) -> list[tuple[BenefitResult, ...]]:
    """Every person of a campaign in one vectorised simulation (per ``CAMPAIGN_CHUNK``);
    the persons answered without the rules (see ``plan``) are left out of it."""
    asked = check_request(benefits, month)
    planned = [plan(data, asked, month) for data in households]
    pairs = [(d, p) for d, p in zip(households, planned, strict=True) if isinstance(p, Household)]
    simulated = iter(evaluate_households(pairs, asked))
    return [p if not isinstance(p, Household) else next(simulated) for p in planned]
