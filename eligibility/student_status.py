"""The claimant's student status when the MESRI's was not read: evaluated both ways.

Students are excluded from the RSA (CASF L262-4 3°) and from the prime d'activité unless
their earnings exceed, each month, the ceiling of CSS L512-3 2° (CSS L842-2 3°). Under 28, a
student's housing aid counts their resources at a flat amount instead of their own (CCH
R822-20; OpenFisca-France's ``aides_logement…ressources.etudiants``: 8,600 € a year in
2025, age limit 28). When the status is unknown (not released to the purpose, or the MESRI
failed), fed as "not a student" alone a student would look entitled to the RSA or the
prime, and a young student's housing aid would be computed on resources the law does not
count. So the household gets, for each of its rows, one more: the claimant a student every
month of the window (``eligibility.bounds``: the rows are the cross product). The benefits
it concerns (``student_benefits``) are answered when both ways agree, and are
CANNOT_EVALUATE naming ``student status`` otherwise. A student some months only lies between
the two for the RSA and the PPA (being a student only ever takes them away); housing aid
reads the status of the month evaluated alone.

The other benefits do not list it, and do not compare the student rows
(``bounds.relevant``): they read the status as "not a student", as before. So may the CSS
through the RSA it follows: a known limitation (docs/eligibility.md). Declared after every
other unknown, so that past ``bounds.MAX_ROWS`` it is this one that is reported lacking.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from eligibility import bounds
from eligibility import months as mo
from eligibility.household import Household, Unknown

# The benefits a student status changes at any age (eligibility.results names it for these).
STUDENT_BENEFITS = ("rsa", "ppa")
# Housing aid reads it under this age (CCH R822-20, "conditions d'âge fixées pour
# l'attribution d'une bourse": 28; OpenFisca-France's ``etudiants.age_max``).
HOUSING_STUDENT_AGE = 28
STUDENT_STATUS = "student status"
_BOTH_WAYS = "pas étudiant, puis étudiant chaque mois"


def housing_reads_studies(birth: date | None, month: str) -> bool:
    """Whether the housing aid of someone born on ``birth`` may depend, in ``month``
    (YYYY-MM), on whether they study: under ``HOUSING_STUDENT_AGE``, with a year's margin
    (months are counted, not days). An unknown birth date may: nothing is ruled out on a
    guess."""
    if birth is None:
        return True
    year, mon = mo.parse(month)
    return (year - birth.year) * 12 + (mon - birth.month) < (HOUSING_STUDENT_AGE + 1) * 12


def student_benefits(birth: date | None, month: str) -> tuple[str, ...]:
    """The benefits whose answer the claimant's student status may change in ``month``."""
    if housing_reads_studies(birth, month):
        return (*STUDENT_BENEFITS, "aide_logement")
    return STUDENT_BENEFITS


def _as_student(row: Household) -> Household:
    count = len(row.months)
    members = tuple(
        dataclasses.replace(m, student=(True,) * count) if m.role == "claimant" else m
        for m in row.members
    )
    return dataclasses.replace(row, members=members)


def with_unknown_student(household: Household, benefits: tuple[str, ...]) -> Household:
    """``household`` (whose claimant's status is unknown: read as "not a student") with the
    claimant a student every month as the alternative of each of its rows, compared for
    ``benefits`` (``student_benefits``)."""
    unknown = Unknown(STUDENT_STATUS, benefits, _BOTH_WAYS)
    return bounds.with_alternatives(household, [unknown], lambda row: [_as_student(row)])
