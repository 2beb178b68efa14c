"""Job-seeker facts (``eligibility.employment``): France Travail's registration and payments,
and GIP-MDS's unemployment benefits, → OpenFisca's ``activite`` and ``date_debut_chomage``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from connectors import records
from eligibility import employment
from eligibility.adapter import adapt
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.inputs import INPUT_FIELDS, person_data_from_fields
from eligibility.model import BENEFITS

MONTHS = ("2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
FT = records.Provenance(
    "France Travail", "api_particulier.france_travail.statut", date(2025, 7, 1), datetime.now(UTC)
)
SALARY = {"nature": "salary", "net_social": 1500, "net_taxable": 1545}
ARE = {"nature": "unemployment_benefit", "net_social": 975, "net_taxable": 1004.25}
HOUSING = {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24}


def status(
    since: date | None, until: date | None = None, category: int | None = 1
) -> records.JobSeekerStatus:
    return records.JobSeekerStatus("FT1", True, since, until, category, None, FT)


def payments(*paid_on: date, kind: str = "allowance") -> records.UnemploymentPayments:
    return records.UnemploymentPayments(
        "FT1", tuple(records.UnemploymentPayment(d, 975.0, kind) for d in paid_on), FT
    )


def test_the_registration_gives_the_months_and_the_date() -> None:
    seeking = employment.job_seeking(status(date(2025, 3, 10)), None, {}, MONTHS)
    assert seeking.months == (False, True, True, True, True)
    assert seeking.since == date(2025, 3, 10) and seeking.known


def test_a_registration_that_began_after_the_month_asked_says_nothing_of_it() -> None:
    # France Travail names only the current registration: a past month stays unknown.
    seeking = employment.job_seeking(status(date(2025, 9, 1)), None, {}, MONTHS)
    assert seeking.months == () and not seeking.known


def test_a_registration_that_ended_leaves_the_month_asked_inactive() -> None:
    seeking = employment.job_seeking(status(date(2025, 2, 1), date(2025, 4, 15)), None, {}, MONTHS)
    assert seeking.months == (True, True, True, False, False)


def test_category_5_is_someone_employed() -> None:
    seeking = employment.job_seeking(status(date(2025, 2, 1), category=5), None, {}, MONTHS)
    assert seeking.months == () and seeking.known


def test_a_payment_covers_the_month_before_and_is_carried_to_the_month_asked() -> None:
    paid = payments(date(2025, 4, 1), date(2025, 5, 2), date(2025, 6, 1))
    assert employment.compensated(paid, MONTHS) == {"2025-03", "2025-04", "2025-05", "2025-06"}
    # Aids (a moving aid…) are not a compensated period.
    assert employment.compensated(payments(date(2025, 4, 1), kind="aid"), MONTHS) == set()


def test_without_the_status_an_unemployment_benefit_is_a_registered_job_seeker() -> None:
    incomes = {"chomage_net": (0.0, 0.0, 975.0, 975.0, 975.0)}
    seeking = employment.job_seeking(None, None, incomes, MONTHS)
    assert seeking.months == (False, False, True, True, True)
    assert seeking.since == date(2025, 4, 1) and not seeking.known


def test_a_payment_contradicting_the_registration_still_counts_for_its_month() -> None:
    # France Travail's status names only the last registration; a month paid before it was
    # a registered job seeker's (an allowance is paid only to one).
    incomes = {"chomage_net": (975.0, 975.0, 0.0, 0.0, 0.0)}
    seeking = employment.job_seeking(status(date(2025, 5, 1)), None, incomes, MONTHS)
    assert seeking.months == (True, True, False, True, True)
    assert seeking.since == date(2025, 5, 1)


def test_the_fields_are_read_by_the_rules() -> None:
    assert {"employment.status", "employment.payments"} <= INPUT_FIELDS
    civil = records.CivilStatus(
        "X", None, ("Y",), "F", date(1990, 1, 15), None, "FRANCE", None, FT
    )  # fmt: skip
    fields = {
        "identity": civil,
        "employment.status": status(date(2025, 3, 1)),
        "employment.payments": payments(date(2025, 4, 1)),
    }
    data = person_data_from_fields(fields)
    assert data is not None
    assert data.job_seeker == fields["employment.status"]
    assert data.unemployment_payments == fields["employment.payments"]


def _person(payments_from: dict[str, list[dict[str, Any]]], **extra: Any) -> Any:
    resources = {"months": 24, "payments": [SALARY], "from": payments_from}
    situation = {"person": {"birth_date": "1990-01-15"}, "resources": resources, "housing": HOUSING}
    return situation_to_person({**situation, **extra}, "2025-06")


def test_the_explanation_names_the_status_and_its_source() -> None:
    known = _person({"2025-03": [ARE]}, job_seeker={"since": "2025-03-01", "category": 1})
    inputs = {i.name: i for i in adapt(known, "2025-06").inputs}
    assert inputs["activite"].value.startswith("chomeur (registered")
    assert inputs["activite"].agency == "France Travail"
    assert inputs["date_debut_chomage"].value == "2025-03-01"
    fact = adapt(_person({"2025-03": [ARE]}), "2025-06").inputs
    [used] = [i for i in fact if i.name == "activite"]
    assert "L5421-3" in used.value and used.agency == "GIP-MDS"


def test_no_bound_where_nothing_can_change() -> None:
    # Known status: nothing to bound.
    known = _person({"2025-02": []}, job_seeker={"since": "2025-02-01", "category": 1})
    assert employment.registered_bound(adapt(known, "2025-06")) is None
    # Unknown status but no income over the rolling year: nothing to neutralise.
    idle = situation_to_person(
        {"person": {"birth_date": "1990-01-15"}, "resources": {"months": 24, "payments": []},
         "housing": HOUSING},
        "2025-06",
    )  # fmt: skip
    assert employment.registered_bound(adapt(idle, "2025-06")) is None
    # Unknown status of someone still paid a salary: not a job seeker without a job.
    assert employment.registered_bound(adapt(_person({}), "2025-06")) is None


def test_the_bound_of_an_unknown_status_where_it_can_matter() -> None:
    # No income since 2025-02 and no France Travail status: maybe registered, not paid.
    household = adapt(_person({"2025-02": []}), "2025-06")
    bound = employment.registered_bound(household)
    assert bound is not None
    registered, names = bound
    assert names == (employment.UNKNOWN,)
    [member] = registered.members
    assert member.job_seeker[-3:] == (True, True, True)
    assert member.unemployed_since == date(2023, 12, 1)  # the window's first day
    # Indemnified since 2025-05 only: the registration may be older than the allowance.
    recent = adapt(_person({"2025-05": [ARE]}), "2025-06")
    assert recent.members[0].unemployed_since == date(2025, 5, 1)
    bound = employment.registered_bound(recent)
    assert bound is not None
    assert bound[0].members[0].unemployed_since == date(2023, 12, 1)


def test_a_partner_who_never_earned_is_no_unknown() -> None:
    # The neutralisation concerns an income that dropped (CCH R822-15): a partner with no
    # income over the whole window is not made an unknown, whoever else earns.
    couple = _person(
        {},
        partner={"birth_date": "1991-02-01"},
        partner_resources={"months": 24, "payments": []},
    )
    assert employment.registered_bound(adapt(couple, "2025-06")) is None
    # The same partner whose salary stopped in 2025-01 is one.
    dropped = _person(
        {},
        partner={"birth_date": "1991-02-01"},
        partner_resources={"months": 24, "payments": [SALARY], "from": {"2025-02": []}},
    )
    bound = employment.registered_bound(adapt(dropped, "2025-06"))
    assert bound is not None and bound[1] == (employment.UNKNOWN_PARTNER,)


def test_the_unknown_status_is_evaluated_both_ways(tbs: Any) -> None:
    dropped = _person({"2025-02": []})
    household = adapt(dropped, "2025-06")
    [unknown] = household.unknowns
    assert unknown.what == employment.UNKNOWN and "rsa" in unknown.benefits
    assert len(household.variants) == 1  # the facts, then the registered bound
    answers = {r.benefit: r for r in evaluate_one(dropped, BENEFITS, "2025-06")}
    # Housing aid either way (301 € registered, 71 € not): certain, its amount is not.
    housing = answers["aide_logement"]
    assert (housing.status, housing.monthly_amount) == ("ELIGIBLE", None)
    assert housing.missing == (employment.UNKNOWN,)
    # The free CSS either way: answered, with a note naming what was tried.
    css = answers["css"]
    assert (css.status, css.monthly_amount) == ("ELIGIBLE", 0.0)
    assert any(employment.UNKNOWN in c.text for c in css.criteria)
    # ASPA does not read it: no note.
    assert all(employment.UNKNOWN not in c.text for c in answers["aspa"].criteria)
    # With France Travail's answer there is nothing to bound.
    known = _person({"2025-02": []}, job_seeker={"since": "2025-02-01", "category": 1})
    assert adapt(known, "2025-06").unknowns == ()
