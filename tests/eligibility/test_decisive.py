"""Missing data answers CANNOT_EVALUATE only when it could change the answer.

Each case of docs/eligibility.md ("Missing data that does not change the answer") both ways:
not decisive (the answer, with a note naming the missing data) and decisive
(CANNOT_EVALUATE naming it).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest

from connectors.records import BenefitStatus, Provenance
from eligibility import BENEFITS, bounds
from eligibility.adapter import adapt
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.household import Household, Unknown
from eligibility.model import BenefitResult, PersonData
from eligibility.reform import CSS_CEILING_UNKNOWN
from eligibility.simulation import simulate

LYON = {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24}
AAH = "AAH amount (paid by the CAF, not in the resource history)"
PROVENANCE = Provenance("CNAF", "api_particulier.aah", date(2025, 6, 1), datetime(2025, 6, 1))
NOTE = "Données manquantes sans effet sur ce résultat"
RANGE = "Droit établi quelles que soient les données manquantes"


def _person(
    birth: str = "1990-01-15",
    month: str = "2025-06",
    payments: tuple[dict[str, Any], ...] = (),
    missing: tuple[str, ...] = (),
    **more: Any,
) -> PersonData:
    situation = {
        "person": {"birth_date": birth},
        "resources": {"months": 24, "missing": list(missing), "payments": list(payments)},
        "housing": LYON,
        **more,
    }
    return situation_to_person(situation, month)


def _answers(person: PersonData, month: str = "2025-06") -> dict[str, BenefitResult]:
    return {r.benefit: r for r in evaluate_one(person, BENEFITS, month)}


def _note(result: BenefitResult) -> str:
    notes = [c.text for c in result.criteria if c.text.startswith(NOTE)]
    assert len(notes) == 1, result.criteria
    assert result.criteria[-1].href.startswith("https://www.legifrance.gouv.fr/")
    return notes[0]


def _amount_unknown(result: BenefitResult, *what: str) -> str:
    """ELIGIBLE at every bound, the amount depending on ``what``: returns the range's text."""
    assert (result.status, result.monthly_amount, result.missing) == ("ELIGIBLE", None, what)
    ranges = [c.text for c in result.criteria if c.text.startswith(RANGE)]
    assert len(ranges) == 1 and not any(c.text.startswith(NOTE) for c in result.criteria)
    return ranges[0]


def _decisive(result: BenefitResult, *what: str) -> None:
    assert result.status == "CANNOT_EVALUATE", result
    assert result.missing == what and result.monthly_amount is None
    assert not any(c.text.startswith(NOTE) for c in result.criteria)


# a. The ASPA of households whose members are all under its age.


def test_the_aspa_under_its_age_is_not_changed_by_missing_months(tbs: Any) -> None:
    answers = _answers(_person(missing=("2025-03",)))
    aspa = answers["aspa"]
    assert aspa.status == "NOT_ELIGIBLE" and aspa.missing == () and aspa.monthly_amount is None
    assert "resources 2025-03" in _note(aspa)
    _decisive(answers["rsa"], "resources 2025-03")  # aged 35 and no income: RSA depends on it


def test_the_aspa_under_its_age_is_not_changed_by_a_partner_s_resources(tbs: Any) -> None:
    # Both 62 and 61: under the ASPA age (64, or 65); the partner's resources were not read,
    # nor their gross pensions; OpenFisca's own age condition answers 0 at both bounds.
    person = _person(
        "1963-03-10",
        payments=({"nature": "pension", "net_social": 300, "net_taxable": 310},),
        partner={"birth_date": "1963-11-20"},
        retirement={"pensions": [{"gross": 330, "net": 300, "since": "2023-01-01"}]},
    )
    household = adapt(person, "2025-06")
    assert household.missing["aspa"] == () and household.variants
    assert [raw["aspa"] for raw in simulate(bounds.rows(household), ["aspa"])] == [0.0, 0.0]
    [aspa] = evaluate_one(person, ["aspa"], "2025-06")
    assert aspa.status == "NOT_ELIGIBLE" and "partner resources" in _note(aspa)


def test_at_the_aspa_age_missing_resources_are_decisive(tbs: Any) -> None:
    [aspa] = evaluate_one(_person("1958-01-15", missing=("2025-03",)), ["aspa"], "2025-06")
    _decisive(aspa, "resources 2025-03")


# b. The AAH of a recipient, between none and the full AAH.


def test_the_aah_does_not_change_housing_aid_and_changes_the_rsa(tbs: Any) -> None:
    answers = _answers(_person(receiving={"aah": True}))
    housing = answers["aide_logement"]
    assert (housing.status, housing.monthly_amount, housing.missing) == ("ELIGIBLE", 301.0, ())
    assert AAH in _note(housing)
    for benefit in ("rsa", "ppa"):
        _decisive(answers[benefit], AAH)
    # Free without the AAH, with a participation with the full AAH (12,399.84 € a year,
    # under the 13,957 € ceiling): the CSS is certain, its participation is not.
    text = _amount_unknown(answers["css"], AAH)
    assert AAH in text and "entre 0.00 € et " in text


def test_the_full_aah_is_fed_in_the_variant(tbs: Any) -> None:
    household = adapt(_person(receiving={"aah": True}), "2025-06")
    low, high = bounds.rows(household)
    assert not low.members[0].aah_full and high.members[0].aah_full
    raws = simulate([low, high], ["rsa"])
    assert raws[0]["rsa"] == pytest.approx(568.94, abs=0.01)
    assert raws[1]["rsa"] == 0.0  # the full AAH (1,033.32 € from 2025-04) exceeds the RSA


def test_the_full_aah_starts_with_the_right(tbs: Any) -> None:
    # The CAF pays the AAH since May 2025: at the upper bound it is paid in May only, so the
    # RSA of June, on the quarter's average, is still due at both bounds.
    status = BenefitStatus("aah", True, date(2025, 5, 1), None, PROVENANCE)
    person = dataclasses.replace(_person(receiving={"aah": True}), aah=status)
    low, high = bounds.rows(adapt(person, "2025-06"))
    assert high.members[0].aah_full and high.members[0].aah_since == "2025-05"
    raws = simulate([low, high], ["rsa"])
    assert raws[0]["rsa"] > raws[1]["rsa"] > 0.0
    rsa = _answers(person)["rsa"]
    assert (rsa.status, rsa.monthly_amount) == ("ELIGIBLE", None)


# c. The CSS ceiling after 2026-03: unchanged, or raised by 5 %.


def test_the_unsourced_ceiling_does_not_change_a_clear_css_answer(tbs: Any) -> None:
    [css] = evaluate_one(_person(month="2026-06"), ["css"], "2026-06")
    assert (css.status, css.monthly_amount, css.missing) == ("ELIGIBLE", 0.0, ())
    assert CSS_CEILING_UNKNOWN.what in _note(css)


def test_the_unsourced_ceiling_leaves_the_participation_unknown_near_it(tbs: Any) -> None:
    # 800 € of pension a month: above the 2025 ceiling (10,339 € a year), under it raised
    # by 5 %; in 2026-03 (sourced) the answer is the CSS with participation. Free or with
    # participation, the CSS is certain; the participation is not.
    pension = ({"nature": "pension", "net_social": 800, "net_taxable": 800},)
    [css] = evaluate_one(_person(month="2026-06", payments=pension), ["css"], "2026-06")
    assert "entre 0.00 € et 14.00 €" in _amount_unknown(css, CSS_CEILING_UNKNOWN.what)
    [before] = evaluate_one(_person(month="2026-03", payments=pension), ["css"], "2026-03")
    assert (before.status, before.monthly_amount) == ("ELIGIBLE", 14.0)
    assert not any(c.text.startswith(NOTE) for c in before.criteria)


def test_the_unsourced_ceiling_is_decisive_at_the_participation_ceiling(tbs: Any) -> None:
    # 1,120 € of pension a month: with the resources the CSS adds (the housing flat rate),
    # above the 2025 participation ceiling (13,957 € a year), under it raised by 5 %: eligible
    # or not, it depends on it (1,080 € is eligible either way, 1,160 € at neither).
    pension = ({"nature": "pension", "net_social": 1120, "net_taxable": 1120},)
    [css] = evaluate_one(_person(month="2026-06", payments=pension), ["css"], "2026-06")
    _decisive(css, CSS_CEILING_UNKNOWN.what)


# d. Missing months the benefits do not read, or cannot change the answer.


def test_a_month_no_benefit_reads_changes_nothing(tbs: Any) -> None:
    salary = ({"nature": "salary", "net_social": 800, "net_taxable": 824},)
    complete = _answers(_person(payments=salary))
    gap = _answers(_person(payments=salary, missing=("2023-12",)))  # M-18
    for benefit in BENEFITS:
        got, want = gap[benefit], complete[benefit]
        assert (got.status, got.monthly_amount, got.missing) == (
            want.status,
            want.monthly_amount,
            (),
        )
        assert "resources 2023-12" in _note(got)


def test_the_prime_d_activite_is_not_monotone_its_bases_decide(tbs: Any) -> None:
    # No income at all: the PPA is 0 with the missing month at 0 and at 100,000 €, yet a
    # salary that month would open it. Its resource bases differ between the two bounds,
    # so the month is decisive for it; the RSA, which only falls as resources rise, too
    # (568.94 € at 0); the CSS is free at 0 and lost at the high bound.
    answers = _answers(_person(missing=("2025-04",)))
    assert answers["aspa"].status == "NOT_ELIGIBLE"
    for benefit in ("rsa", "ppa", "css", "aide_logement"):
        _decisive(answers[benefit], "resources 2025-04")


# The mechanism.


def _household(month: str = "2025-06") -> Household:
    return adapt(_person(month=month), month)


def test_alternatives_are_crossed_and_capped() -> None:
    plain = _household()
    assert not plain.unknowns and bounds.rows(plain) == (plain,)
    one = Unknown("first", ("rsa",), "a, b")
    two = Unknown("second", ("css",), "c, d")
    first = bounds.with_alternatives(plain, [one], lambda r: [dataclasses.replace(r, month="x")])
    both = bounds.with_alternatives(
        first, [two], lambda r: [dataclasses.replace(r, css_ceiling_raise=0.5)]
    )
    assert both.unknowns == (one, two) and len(bounds.rows(both)) == 4
    assert [(r.month, r.css_ceiling_raise) for r in bounds.rows(both)] == [
        ("2025-06", 0.0),
        ("2025-06", 0.5),
        ("x", 0.0),
        ("x", 0.5),
    ]
    assert all(not r.variants and not r.unknowns for r in both.variants)
    many = bounds.with_alternatives(
        both, [Unknown("third", ("ppa",), "…")], lambda r: [r, r]
    )  # 12 rows: reported missing instead
    assert len(bounds.rows(many)) == 4 and many.missing["ppa"] == ("third",)


def test_the_ceiling_is_an_unknown_only_past_its_sourced_months() -> None:
    assert CSS_CEILING_UNKNOWN not in _household("2026-03").unknowns
    after = _household("2026-04")
    assert after.unknowns == (CSS_CEILING_UNKNOWN,)
    assert [r.css_ceiling_raise for r in bounds.rows(after)] == [0.05, 0.0]


def test_agreement_is_one_euro() -> None:
    household = bounds.with_alternatives(_household(), [Unknown("x", ("rsa",), "…")], lambda r: [r])
    raws: list[dict[str, float]] = [{}, {}]
    same = [("ELIGIBLE", 10.0), ("ELIGIBLE", 11.0)]
    apart = [("ELIGIBLE", 10.0), ("ELIGIBLE", 11.5)]
    flipped = [("ELIGIBLE", 0.0), ("NOT_ELIGIBLE", None)]
    assert bounds.decide(household, "rsa", same, raws) is None
    assert bounds.decide(household, "rsa", apart, raws) == ("x",)
    assert bounds.decide(household, "rsa", flipped, raws) == ("x",)
    assert bounds.decide(household, "css", flipped, raws) is None  # not one of its unknowns


# e. A partner's AAH: paid by the CAF, declared nowhere the gateway reads, read as a status.

PARTNER_AAH = "partner AAH amount (paid by the CAF, not in the resource history)"
SALARY = {"nature": "salary", "net_social": 2500, "net_taxable": 2600}


def _couple(aah: bool | None, payments: tuple[dict[str, Any], ...] = ()) -> PersonData:
    return _person(
        payments=payments,
        partner={"birth_date": "1988-05-02", "sex": "M"},
        partner_resources={"months": 24, "payments": []},
        partner_receiving={"aah": aah},
    )


def test_a_partner_s_aah_is_decisive_for_a_couple_without_income(tbs: Any) -> None:
    answers = _answers(_couple(True))
    for benefit in ("rsa", "ppa"):
        _decisive(answers[benefit], PARTNER_AAH)
    # The couple's free CSS and housing aid are the same at no AAH and at the full AAH.
    assert (answers["css"].status, answers["css"].monthly_amount) == ("ELIGIBLE", 0.0)
    assert PARTNER_AAH in _note(answers["css"])
    housing = answers["aide_logement"]
    assert (housing.status, housing.monthly_amount) == ("ELIGIBLE", 365.0)
    # Without the AAH the same couple is entitled to the RSA: it was never a missing item.
    alone = _answers(_couple(False))
    assert (alone["rsa"].status, alone["rsa"].missing) == ("ELIGIBLE", ())
    assert alone["rsa"].monthly_amount == pytest.approx(814.62, abs=0.01)


def test_a_partner_s_aah_that_cannot_change_the_answer_is_noted(tbs: Any) -> None:
    answers = _answers(_couple(True, (SALARY,)))
    for benefit in ("rsa", "css", "aide_logement"):
        assert (answers[benefit].status, answers[benefit].missing) == ("NOT_ELIGIBLE", ())
        assert PARTNER_AAH in _note(answers[benefit])


def test_a_partner_s_aah_status_not_released_is_taken_at_its_bounds(tbs: Any) -> None:
    answers = _answers(_couple(None))
    _decisive(answers["rsa"], "partner AAH status")
    assert answers["aide_logement"].status == "ELIGIBLE"
    assert "partner AAH status" in _note(answers["aide_logement"])


def test_the_partner_s_full_aah_is_fed_to_the_partner_only(tbs: Any) -> None:
    household = adapt(_couple(True), "2025-06")
    low, high = bounds.rows(household)
    assert [m.aah_full for m in low.members] == [False, False]
    assert [m.aah_full for m in high.members] == [False, True]
    raws = simulate([low, high], ["rsa"])
    assert raws[0]["rsa"] == pytest.approx(814.62, abs=0.01)
    assert raws[1]["rsa"] == 0.0


def test_a_partner_without_the_aah_adds_no_unknown() -> None:
    household = adapt(_couple(False), "2025-06")
    assert household.unknowns == () and household.variants == ()
