"""Students and the RSA (CASF L262-4 3°), the prime d'activité (CSS L842-2 3°) and housing
aid under 28 (CCH R822-20): the MESRI's status read, fed, shown and required."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors import records
from eligibility.adapter import adapt
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.inputs import INPUT_FIELDS, fields_for, person_data_from_fields
from eligibility.model import BENEFITS, PersonData
from eligibility.reform import CSS_CEILING_UNKNOWN

ALONE = {
    "person": {"birth_date": "1995-01-15", "sex": "F"},
    "resources": {"months": 24, "payments": []},
    "housing": {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24},
}
PROVENANCE = records.Provenance(
    "MESRI", "api_particulier.mesri.statut_etudiant", date(2025, 6, 30), datetime.now(UTC)
)


def _answers(student: bool | None) -> dict[str, Any]:
    person = situation_to_person({**ALONE, "student": student}, "2025-06")
    return {r.benefit: r for r in evaluate_one(person, BENEFITS, "2025-06")}


def test_a_student_is_not_entitled_to_the_rsa_and_is_told_why(tbs: Any) -> None:
    student, other = _answers(True), _answers(False)
    assert other["rsa"].status == "ELIGIBLE"
    assert student["rsa"].status == "NOT_ELIGIBLE" and student["rsa"].monthly_amount is None
    assert any("étudiant" in c.text and "L262-4" in c.title for c in student["rsa"].criteria)
    [used] = [i for i in student["rsa"].inputs if i.name == "etudiant"]
    assert (used.value, used.agency) == ("oui", "MESRI")
    # The other benefits are the same, and do not name a status they do not read.
    for benefit in ("css", "aspa", "aide_logement"):
        assert student[benefit].status == other[benefit].status, benefit
        assert student[benefit].monthly_amount == other[benefit].monthly_amount, benefit
        assert all(i.name != "etudiant" for i in student[benefit].inputs), benefit


def test_an_unknown_status_leaves_unevaluated_only_what_it_would_change(tbs: Any) -> None:
    """No income: a student would not get the RSA; the prime d'activité is not due either
    way (no earnings), nor are the others changed."""
    unknown, other = _answers(None), _answers(False)
    assert unknown["rsa"].status == "CANNOT_EVALUATE"
    assert unknown["rsa"].missing == ("student status",)
    for benefit in ("ppa", "css", "aspa", "aide_logement"):
        assert unknown[benefit].status == other[benefit].status, benefit
        assert not unknown[benefit].missing, benefit


def _earning(net: int, student: bool | None) -> dict[str, Any]:
    salary = {"nature": "salary", "net_social": net, "net_taxable": round(net * 1.03)}
    situation = {**ALONE, "resources": {"months": 24, "payments": [salary]}, "student": student}
    person = situation_to_person(situation, "2025-06")
    return {r.benefit: r for r in evaluate_one(person, ("rsa", "ppa"), "2025-06")}


@pytest.mark.parametrize(
    ("net", "ppa"),
    [
        # Under the students' earnings ceiling (CSS L842-2 3°): a student gets no prime
        # d'activité, someone else does: the status decides, and is named.
        (800, "CANNOT_EVALUATE"),
        # Above it: the same prime either way; the answer is given.
        (1300, "ELIGIBLE"),
        (2500, "NOT_ELIGIBLE"),
    ],
)
def test_an_unknown_status_and_the_prime_dactivite(tbs: Any, net: int, ppa: str) -> None:
    unknown, known = _earning(net, None), _earning(net, False)
    assert unknown["ppa"].status == ppa
    if ppa == "CANNOT_EVALUATE":
        assert unknown["ppa"].missing == ("student status",)
        assert known["ppa"].status == "ELIGIBLE" and _earning(net, True)["ppa"].status == (
            "NOT_ELIGIBLE"
        )
    else:
        assert unknown["ppa"].monthly_amount == known["ppa"].monthly_amount
        assert not unknown["ppa"].missing
    # Earnings above the RSA's amount: not entitled, student or not; answered.
    assert unknown["rsa"].status == "NOT_ELIGIBLE" and not unknown["rsa"].missing


def _status(regime: str, enrolled: bool = True, year: int = 2024) -> records.StudentStatus:
    admission = records.Admission(
        date(year, 9, 1), date(year + 1, 8, 31), enrolled, regime, None, None, None, None
    )
    # ``registered`` is the status on the day of the request: the rules do not read it.
    return records.StudentStatus(False, False, (admission,), PROVENANCE)


def _person(status: records.StudentStatus | None) -> PersonData:
    """The situation ``ALONE`` with the student status read as the exchange releases it."""
    civil = records.CivilStatus(
        "X", None, ("Y",), "F", date(1995, 1, 15), None, "99100", None, PROVENANCE
    )
    fields: dict[str, object] = {"identity": civil}
    if status is not None:
        fields["studentStatus"] = status
    data = person_data_from_fields(fields)
    assert data is not None and data.student is status
    return replace(situation_to_person(ALONE, "2025-06"), student=data.student)


@pytest.mark.parametrize(
    ("status", "etudiant"),
    [
        (_status("RF1"), "oui"),
        (_status("RF5"), "non"),  # continuing training: not a student in the RSA's sense
        (_status("RF1", enrolled=False), "non"),  # admitted, not enrolled
        (_status("RF1", year=2022), "non"),  # a past academic year
        (records.StudentStatus(False, False, (), PROVENANCE), "non"),  # no student found
        (None, None),  # not released, or the MESRI failed
    ],
)
def test_the_status_of_the_month_evaluated(
    status: records.StudentStatus | None, etudiant: str | None
) -> None:
    assert "studentStatus" in INPUT_FIELDS
    household = adapt(_person(status), "2025-06")
    claimant = household.members[0]
    used = [i.value for i in household.inputs if i.name == "etudiant"]
    if etudiant is None:
        # Not lacking: unknown, with a variant where the claimant is a student every month.
        assert used == [] and not household.missing["rsa"]
        [unknown] = [u for u in household.unknowns if u.what == "student status"]
        assert unknown.benefits == ("rsa", "ppa")
        assert claimant.student == ()
        [variant] = household.variants
        assert variant.members[0].student == (True,) * len(household.months)
    else:
        assert used == [etudiant] and not household.missing["rsa"]
        assert claimant.student[-1] is (etudiant == "oui")
        assert len(claimant.student) == len(household.months)


def test_only_the_months_of_an_enrolment_are_a_students() -> None:
    # Enrolled from September 2024: the months of the window before are not a student's.
    household = adapt(_person(_status("RF1")), "2025-06")
    months = dict(zip(household.months, household.members[0].student, strict=True))
    assert months["2024-08"] is False and months["2024-09"] is True and months["2025-06"] is True


def _young(
    net: int, student: bool | None, missing: tuple[str, ...] = (), grant: bool | None = False
) -> dict[str, Any]:
    """``ALONE`` at 22, with ``net`` of monthly salary; the CNOUS's ``grant``."""
    salary = {"nature": "salary", "net_social": net, "net_taxable": round(net * 1.03)}
    situation = {
        **ALONE,
        "person": {"birth_date": "2003-01-15", "sex": "F"},
        "resources": {"months": 24, "payments": [salary] if net else [], "missing": list(missing)},
        "student": student,
        "grant": grant,
    }
    person = situation_to_person(situation, "2025-06")
    return {r.benefit: r for r in evaluate_one(person, BENEFITS, "2025-06")}


def test_under_28_housing_aid_counts_a_students_resources_at_a_flat_amount(tbs: Any) -> None:
    """CCH R822-20: a student under 28's resources are a flat amount, whatever they earn."""
    for net in (0, 1500):
        student, other = _young(net, True)["aide_logement"], _young(net, False)["aide_logement"]
        assert student.status == "ELIGIBLE" and student.monthly_amount == 196.0, net
        assert other.monthly_amount != student.monthly_amount, net
        [used] = [i for i in student.inputs if i.name == "etudiant"]
        assert (used.value, used.agency) == ("oui", "MESRI")
    assert _young(1500, False)["aide_logement"].status == "NOT_ELIGIBLE"


def test_a_grant_holders_flat_amount_is_lower(tbs: Any) -> None:
    """The CNOUS's grant, fed as OpenFisca's ``boursier``: the flat amount less the grant
    holder's reduction (``dar_5_minoration_boursier``), so more housing aid."""
    holder = _young(1500, True, grant=True)["aide_logement"]
    assert holder.status == "ELIGIBLE" and holder.monthly_amount == 249.0
    [used] = [i for i in holder.inputs if i.name == "boursier"]
    assert (used.value, used.agency) == ("oui", "CNOUS")
    # Not read for someone who is not a student, nor shown by the other benefits.
    assert all(i.name != "boursier" for i in _young(0, False)["aide_logement"].inputs)
    assert all(i.name != "boursier" for i in _young(0, True, grant=True)["css"].inputs)


@pytest.mark.parametrize(
    ("student", "missing"),
    [
        (True, ("student grant",)),
        (None, ("student status", "student grant")),
        (False, ()),  # not a student: the grant cannot change anything, nor is it read
    ],
)
def test_an_unknown_grant_is_named_where_it_changes_housing_aid(
    tbs: Any, student: bool | None, missing: tuple[str, ...]
) -> None:
    housing = _young(0, student, grant=None)["aide_logement"]
    assert housing.missing == missing
    if missing:
        # 196 € without a grant, 249 € with one: entitled, the amount not given.
        assert housing.status == "ELIGIBLE" and housing.monthly_amount is None


@pytest.mark.parametrize(
    ("net", "status"),
    [
        # Entitled either way, for a different amount: entitled, the amount not given.
        (0, "ELIGIBLE"),
        # Not entitled on her own resources, entitled at the students' flat amount.
        (1500, "CANNOT_EVALUATE"),
    ],
)
def test_under_28_an_unknown_status_is_named_where_it_changes_housing_aid(
    tbs: Any, net: int, status: str
) -> None:
    housing = _young(net, None)["aide_logement"]  # the CNOUS says: no grant
    assert housing.status == status
    assert housing.monthly_amount is None and housing.missing == ("student status",)


def test_with_other_unknowns_the_benefits_that_do_not_list_it_read_not_a_student(
    tbs: Any,
) -> None:
    """At 22 with a month of resources missing: the CSS does not list the student status
    (it compares only the rows of the status it reads, and answers as for someone not a
    student); housing aid, the RSA and the PPA compare every row, crossed with the missing
    month's bounds."""
    unknown, other = _young(0, None, ("2025-02",)), _young(0, False, ("2025-02",))
    assert unknown["css"].status == other["css"].status
    assert unknown["css"].missing == other["css"].missing
    assert other["aide_logement"].missing == ("resources 2025-02",)
    assert unknown["aide_logement"].status == "CANNOT_EVALUATE"
    assert set(unknown["aide_logement"].missing) == {"resources 2025-02", "student status"}
    assert "student status" in unknown["ppa"].missing


def test_not_evaluated_both_ways_when_no_benefit_it_changes_is_asked() -> None:
    # ``_person`` is 30: housing aid does not read the status any more.
    for benefits in (("aspa", "css"), ("aide_logement",)):
        household = adapt(_person(None), "2025-06", benefits=benefits)
        assert all(u.what != "student status" for u in household.unknowns), benefits
    unknowns = adapt(_person(None), "2025-06", benefits=("ppa", "aide_logement")).unknowns
    [unknown] = [u for u in unknowns if u.what == "student status"]
    assert unknown.benefits == ("ppa",)


def test_under_28_housing_aid_alone_is_evaluated_both_ways() -> None:
    person = _person(None)
    young = replace(person, civil=replace(person.civil, birth_date=date(1998, 3, 2)))
    unknowns = adapt(young, "2025-06", benefits=("aide_logement",)).unknowns
    [unknown] = [u for u in unknowns if u.what == "student status"]
    assert unknown.benefits == ("aide_logement",)


@pytest.mark.parametrize(
    ("benefits", "birth", "read"),
    [
        (("aide_logement",), date(2000, 5, 1), True),
        (("aide_logement",), date(1997, 6, 15), True),  # 27 on 1 June 2025
        (("aide_logement",), date(1997, 5, 20), True),  # 28: the month's margin
        (("aide_logement",), date(1997, 4, 30), False),
        (("aide_logement",), date(1990, 5, 1), False),
        (("aide_logement", "aspa"), date(1950, 5, 1), False),
        (("aide_logement",), None, True),  # an unknown birth date rules nothing out
        (("rsa",), date(1970, 5, 1), True),  # the RSA excludes students at any age
        (("css",), date(1970, 5, 1), True),  # the free CSS follows the RSA
    ],
)
def test_the_mesri_is_read_for_housing_aid_only_under_28(
    benefits: tuple[str, ...], birth: date | None, read: bool
) -> None:
    assert ("studentStatus" in fields_for(benefits, birth, "2025-06")) is read
    assert "studentStatus" in fields_for(benefits)  # no month: nothing ruled out
    # Before 2021 a student's resources had a floor at any age (CCH R822-21).
    assert "studentStatus" in fields_for(benefits, birth, "2020-12")


@pytest.mark.parametrize(
    ("benefits", "birth", "read"),
    [
        (("aide_logement",), date(2000, 5, 1), True),
        (("aide_logement", "rsa"), date(2000, 5, 1), True),
        (("aide_logement", "rsa"), date(1990, 5, 1), False),  # the RSA does not read it
        (("rsa", "ppa", "css", "aspa"), date(2000, 5, 1), False),
        (("aide_logement",), None, True),
    ],
)
def test_the_cnous_is_read_for_housing_aid_under_28_only(
    benefits: tuple[str, ...], birth: date | None, read: bool
) -> None:
    assert ("studentGrant" in fields_for(benefits, birth, "2025-06")) is read
    # Its answer tells the current academic year's grant, never one before 2021.
    assert "studentGrant" not in fields_for(benefits, birth, "2020-12")


def test_before_2021_housing_aid_reads_the_status_at_any_age() -> None:
    situation = {**ALONE, "person": {"birth_date": "1985-01-15", "sex": "F"}, "student": None}
    for month, declared in (("2020-06", True), ("2025-06", False)):
        older = situation_to_person(situation, month)
        unknowns = adapt(older, month, benefits=("aide_logement",)).unknowns
        concerned = [u.benefits for u in unknowns if u.what == "student status"]
        assert concerned == ([("aide_logement",)] if declared else []), month


def test_the_css_ceiling_is_not_an_unknown_of_a_request_without_the_css() -> None:
    """Past its sourced months the CSS ceiling doubles the rows; another benefit would only
    lose its own unknowns to it under ``bounds.MAX_ROWS``."""
    names = {u.what for u in adapt(_person(None), "2026-06", benefits=("css",)).unknowns}
    assert CSS_CEILING_UNKNOWN.what in names
    names = {u.what for u in adapt(_person(None), "2026-06", benefits=("rsa",)).unknowns}
    assert CSS_CEILING_UNKNOWN.what not in names


def _grant(holder: bool, as_of: date = date(2025, 6, 30)) -> records.StudentGrant:
    provenance = records.Provenance(
        "CNOUS", "api_particulier.cnous.etudiant_boursier", as_of, datetime.now(UTC)
    )
    if not holder:
        return records.StudentGrant(False, None, False, None, None, None, None, provenance)
    return records.StudentGrant(True, "4", False, date(2024, 9, 1), 10, None, None, provenance)


@pytest.mark.parametrize(
    ("month", "holder", "non_holder"),
    [
        ("2024-08", None, None),  # the year before: the answer says nothing of it
        ("2024-09", True, False),
        ("2025-06", True, False),
        ("2025-07", False, False),  # paid over ten months: not in the summer
        ("2025-08", False, False),
        ("2025-09", None, None),  # the next academic year
    ],
)
def test_a_cnous_answer_tells_one_academic_year(
    month: str, holder: bool | None, non_holder: bool | None
) -> None:
    assert _grant(True).known_in(month) is holder
    assert _grant(False).known_in(month) is non_holder


def _young_person(grant: records.StudentGrant | None, student: bool | None) -> PersonData:
    situation = {**ALONE, "person": {"birth_date": "2003-01-15", "sex": "F"}, "student": student}
    return replace(situation_to_person(situation, "2025-06"), grant=grant)


def test_a_grant_paid_makes_a_student_whatever_the_mesri_says(tbs: Any) -> None:
    """An establishment that does not report to the MESRI: its 404 says "not a student", the
    CNOUS pays a grant this month. The grant is a student's: housing aid counts the flat
    amount, and the RSA's student condition holds, said from the CNOUS."""
    household = adapt(_young_person(_grant(True), False), "2025-06")
    assert household.members[0].student[-1] is True
    used = {i.name: (i.value, i.agency) for i in household.inputs}
    assert used["etudiant"] == ("oui", "CNOUS") and used["boursier"] == ("oui", "CNOUS")
    answers = {
        r.benefit: r for r in evaluate_one(_young_person(_grant(True), False), BENEFITS, "2025-06")
    }
    assert answers["aide_logement"].monthly_amount == 249.0


def test_the_month_evaluateds_student_status_is_said_by_who_says_it() -> None:
    """Enrolled (per the MESRI) from January only, a grant paid since September: the grant's
    months are a student's, and the status of the month evaluated, which the MESRI gives, is
    said from the MESRI."""
    admission = records.Admission(
        date(2025, 1, 1), date(2025, 8, 31), True, "RF1", None, None, None, None
    )
    status = records.StudentStatus(False, False, (admission,), PROVENANCE)
    person = replace(_young_person(_grant(True), None), student=status)
    household = adapt(person, "2025-06")
    studies = household.members[0].student
    assert studies[-11:] == (False,) + (True,) * 10  # August 2024, then to June 2025
    used = {i.name: (i.value, i.agency) for i in household.inputs}
    assert used["etudiant"] == ("oui", PROVENANCE.agency)
    assert used["boursier"] == ("oui", "CNOUS")


def test_a_grant_answer_about_another_year_leaves_the_grant_unknown(tbs: Any) -> None:
    # Asked in December 2026 ("no grant now") about June 2025: nothing known of that year.
    later = _grant(False, as_of=date(2026, 12, 6))
    household = adapt(_young_person(later, True), "2025-06")
    assert "student grant" in {u.what for u in household.unknowns}
    assert all(i.name != "boursier" for i in household.inputs)
    known = adapt(_young_person(_grant(False), True), "2025-06")
    assert "student grant" not in {u.what for u in known.unknowns}


def test_the_grant_never_takes_the_student_status_rows_of_the_rsa() -> None:
    """Status and grant unknown, with a month of resources missing: the grant is declared
    last and only where the claimant studies, so past ``bounds.MAX_ROWS`` it is the grant
    that housing aid lacks, never the status the RSA and the PPA need."""
    situation = {
        **ALONE,
        "person": {"birth_date": "2003-01-15", "sex": "F"},
        "resources": {"months": 24, "payments": [], "missing": ["2026-02"]},
        "student": None,
        "grant": None,
    }
    # In 2026-06 the CSS ceiling is unknown too: 2 × 2 rows, then 8 with the status.
    household = adapt(situation_to_person(situation, "2026-06"), "2026-06")
    for benefit in ("rsa", "ppa"):
        assert "student status" not in household.missing[benefit], benefit
    assert "student status" in {u.what for u in household.unknowns}
    assert household.missing["aide_logement"] == ("student grant",)
