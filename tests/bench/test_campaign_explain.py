"""The false negatives' explanation: the campaign's decision in words, and the household fact
the gateway cannot read (no server: the re-examination itself needs a sandbox)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bench._explain_fixes import _paid_aid
from bench._explain_misses import _examine, household_fact, reason_of
from connectors import records
from eligibility import BenefitResult, PersonData
from proactive.population import Subject
from sandbox import SandboxConfig, start_in_thread
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.generator import Generator
from sandbox.months import parse_month
from tests.proactive.test_campaign import adult


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


def _housing(receiving: bool, monthly: float | None) -> records.Housing:
    when = date(2025, 6, 30)
    return records.Housing(
        occupancy="tenant",
        monthly_rent=500.0,
        monthly_charges=50.0,
        cog_commune="69123",
        zone=2,
        rent_history=(),
        aid_receiving=receiving,
        aid_kind="APL" if receiving else None,
        aid_monthly=monthly,
        provenance=records.Provenance("CNAF", "housing", when, datetime(2025, 7, 1, tzinfo=UTC)),
    )


def test_the_housing_aid_read_is_the_one_the_caf_pays() -> None:
    civil = records.CivilStatus(
        "TEST", None, ("Julien",), "M", date(1990, 1, 15), "69123", "99100", None,
        records.Provenance("INSEE", "rnipp", date(2025, 6, 30), datetime(2025, 7, 1, tzinfo=UTC)),
    )  # fmt: skip
    data = PersonData(civil, None, None, None, None, None, receiving={})
    assert _paid_aid(data) == 0.0
    assert _paid_aid(replace(data, housing=_housing(False, None))) == 0.0
    assert _paid_aid(replace(data, housing=_housing(True, 187.0))) == 187.0
    assert _paid_aid(replace(data, housing=_housing(True, None))) is None


async def test_the_misses_are_examined_again_through_the_campaigns_own_code(
    tmp_path: Path,
) -> None:
    """``_examine`` runs the campaign's runner with its recorder over a sandbox: each person
    gets the runner's decision in words (a recorder that no longer fits the runner's steps
    would leave them "not examined", or fail)."""
    with start_in_thread(SandboxConfig(size=40, reference_month="2025-06")) as sandbox:
        kinds = ("scenario:seul-35-sans-revenu", "scenario:seul-35-mois-manquants", "rsa")
        subjects = [Subject(adult(sandbox, kind)) for kind in kinds]
        got = await _examine(sandbox.urls, tmp_path, subjects, "rsa", "2025-06")
    reasons = [got[s.identity.key()].reason for s in subjects]
    assert reasons[0] == "eligible and not receiving: offered now"
    assert reasons[1].startswith("cannot evaluate: ")
    assert reasons[2] == "receiving: the paying agency says it pays it"
