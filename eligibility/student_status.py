"""The claimant's student status when the MESRI's was not read: evaluated both ways.

Students are excluded from the RSA (CASF L262-4 3°) and from the prime d'activité unless
their earnings exceed, each month, the ceiling of CSS L512-3 2° (CSS L842-2 3°). Under 28, a
student's housing aid counts their resources at a flat amount instead of their own (CCH
R822-20; OpenFisca-France's ``aides_logement…ressources.etudiants``: 8,600 € a year in 2025,
age limit 28; before 2021, at any age, a floor under their resources). When the status is
unknown (not released to the purpose, or the MESRI failed), fed as "not a student" alone a
student would look entitled to the RSA or the prime, and a young student's housing aid would
be computed on resources the law does not count. So the household gets, for each of its
rows, one more: the claimant a student every month of the window (``eligibility.bounds``:
the rows are the cross product). The benefits it concerns (``student_benefits``) are
answered when both ways agree, and are CANNOT_EVALUATE naming ``student status`` otherwise.
A student some months only lies between the two for the RSA and the PPA (being a student
only ever takes them away); housing aid reads the status of the month evaluated alone.

A student under 28 holding a higher-education grant on social criteria has a lower flat
amount (``dar_5_minoration_boursier``). The CNOUS says who does (``PersonData.grant``, fed
as OpenFisca's ``boursier``); when it was not read, a claimant under 28 who is, or may be, a
student in the month evaluated is evaluated without and with a grant (``student grant``,
housing aid only) in the rows where they study, declared last: past ``bounds.MAX_ROWS`` it
is this one that is reported lacking, for housing aid alone. A grant paid in a month is a
student's, whatever the MESRI says (``eligibility.adapter``).

The other benefits (the CSS) do not list the student status and do not compare its rows
(``bounds.relevant``): they read it as "not a student", as before, although the free CSS
follows the RSA: a known limitation (docs/eligibility.md). The status is declared after
every other unknown but the grant, so that past ``bounds.MAX_ROWS`` it is the one reported
lacking rather than another.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Literal

from eligibility import bounds
from eligibility import months as mo
from eligibility.household import Household, Member, Unknown

# The benefits a student status changes at any age (eligibility.results names it for these).
STUDENT_BENEFITS = ("rsa", "ppa")
# Housing aid reads it under this age (CCH R822-20, "conditions d'âge fixées pour
# l'attribution d'une bourse": 28; OpenFisca-France's ``etudiants.age_max``).
HOUSING_STUDENT_AGE = 28
# The month the age limit applies from (OpenFisca-France's ``formula_2021_01_01`` of
# ``aide_logement_base_ressources``; before, a student's resources had a floor at any age).
AGE_LIMIT_FROM = "2021-01"
STUDENT_STATUS = "student status"
STUDENT_GRANT = "student grant"
_BOTH_WAYS = "pas étudiant, puis étudiant chaque mois"
_GRANT_BOTH_WAYS = "pas boursier, puis boursier chaque mois"


def housing_reads_studies(birth: date | None, month: str) -> bool:
    """Whether the housing aid of someone born on ``birth`` may depend, in ``month``
    (YYYY-MM), on whether they study: under ``HOUSING_STUDENT_AGE`` on the month's first
    day (OpenFisca-France's ``age``), counted in months with a month's margin for its
    rounding of days into years; before 2021 at any age (the floor of CCH R822-21 had no age
    condition). An unknown birth date may: nothing is ruled out on a guess."""
    if birth is None or month < AGE_LIMIT_FROM:
        return True
    return mo.months_since(birth, month) <= HOUSING_STUDENT_AGE * 12 + 1


def student_benefits(birth: date | None, month: str) -> tuple[str, ...]:
    """The benefits whose answer the claimant's student status may change in ``month``."""
    if housing_reads_studies(birth, month):
        return (*STUDENT_BENEFITS, "aide_logement")
    return STUDENT_BENEFITS


def _claimant_every_month(row: Household, flag: Literal["student", "grant"]) -> Household:
    """``row`` with the claimant's ``flag`` true every month."""
    every = (True,) * len(row.months)

    def marked(m: Member) -> Member:
        if flag == "student":
            return dataclasses.replace(m, student=every)
        return dataclasses.replace(m, grant=every)

    members = tuple(marked(m) if m.role == "claimant" else m for m in row.members)
    return dataclasses.replace(row, members=members)


def _as_student(row: Household) -> Household:
    return _claimant_every_month(row, "student")


def _as_grant_holder(row: Household) -> Household:
    return _claimant_every_month(row, "grant")


def _studies_in_month(row: Household) -> bool:
    claimant = next(m for m in row.members if m.role == "claimant")
    return bool(claimant.student) and claimant.student[-1]


def with_unknown_grant(household: Household) -> Household:
    """``household`` (whose claimant may be a student under 28, with no grant known) with the
    claimant holding a grant every month as the alternative of each row where they study in
    the month evaluated: a grant holder's flat amount of resources is lower (CCH R822-20),
    which only housing aid reads, and only of a student (OpenFisca multiplies ``boursier`` by
    ``etudiant``). No such row (the status itself lacking): nothing to vary."""
    if not any(_studies_in_month(row) for row in bounds.rows(household)):
        return household
    unknown = Unknown(STUDENT_GRANT, ("aide_logement",), _GRANT_BOTH_WAYS)
    return bounds.with_alternatives(
        household,
        [unknown],
        lambda row: [_as_grant_holder(row)] if _studies_in_month(row) else [],
    )


def with_unknown_student(household: Household, benefits: tuple[str, ...]) -> Household:
    """``household`` (whose claimant's status is unknown: read as "not a student") with the
    claimant a student every month as the alternative of each of its rows, compared for
    ``benefits`` (``student_benefits``)."""
    unknown = Unknown(STUDENT_STATUS, benefits, _BOTH_WAYS)
    return bounds.with_alternatives(household, [unknown], lambda row: [_as_student(row)])
