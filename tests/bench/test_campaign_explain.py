"""The false negatives' explanation: the campaign's decision in words, and the household fact
the gateway cannot read (no server: the re-examination itself needs a sandbox)."""

from __future__ import annotations

import pytest

from bench._explain_misses import household_fact, reason_of
from eligibility import BenefitResult
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.generator import Generator
from sandbox.months import parse_month


def _result(status: str, receiving: bool | None, missing: tuple[str, ...] = ()) -> BenefitResult:
    return BenefitResult(
        benefit="ppa",
        status=status,  # type: ignore[arg-type]
        monthly_amount=100.0 if status == "ELIGIBLE" else None,
        receiving=receiving,
        non_take_up=status == "ELIGIBLE" and receiving is False,
        missing=missing,
        criteria=(),
        inputs=(),
    )


@pytest.mark.parametrize(
    ("result", "unread", "reason"),
    [
        (_result("ELIGIBLE", True), False, "receiving: the paying agency says it pays it"),
        (_result("NOT_ELIGIBLE", True), False, "receiving: the paying agency says it pays it"),
        (
            _result("CANNOT_EVALUATE", False, ("resources 2025-01", "AAH amount")),
            False,
            "cannot evaluate: AAH amount; resources 2025-01",
        ),
        (
            _result("CANNOT_EVALUATE", False, ("partner resources",)),
            True,
            "cannot evaluate (partner not read): partner resources",
        ),
        (_result("NOT_ELIGIBLE", False), False, "not eligible"),
        (_result("DECEASED", None), False, "deceased"),
        (
            _result("ELIGIBLE", None),
            False,
            "eligible, but the paying agency does not say whether it pays it",
        ),
        (_result("ELIGIBLE", False), False, "eligible and not receiving: offered now"),
    ],
)
def test_reason_follows_the_campaign_decision(
    result: BenefitResult, unread: bool, reason: str
) -> None:
    assert reason_of(result, unread) == reason


@pytest.fixture(scope="module")
def drafts() -> tuple[list[PersonDraft], list[HouseholdDraft]]:
    generator = Generator(20250601, parse_month("2025-06"))
    generator.run(400)
    return generator.persons, generator.households


def test_household_fact_names_what_the_gateway_cannot_read(
    drafts: tuple[list[PersonDraft], list[HouseholdDraft]],
) -> None:
    persons, households = drafts
    facts = {household_fact(persons[i], h, persons) for h in households for i in h.adults}
    assert "other" in facts
    assert "self-employed income" in facts
    for household in households:
        adults = [persons[i] for i in household.adults]
        if any(s.nature == "revenu_independant" for a in adults for s in a.streams):
            for index in household.adults:
                fact = household_fact(persons[index], household, persons)
                assert fact == "self-employed income"
