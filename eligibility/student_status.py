"""The claimant's student status when the MESRI's was not read: evaluated both ways.

Students are excluded from the RSA (CASF L262-4 3°) and from the prime d'activité unless
their earnings exceed, each month, the ceiling of CSS L512-3 2° (CSS L842-2 3°). When the
status is unknown (not released to the purpose, or the MESRI failed), fed as "not a
student" alone a student would look entitled. So the household gets, for each of its rows,
one more: the claimant a student every month of the window (``eligibility.bounds``: the rows
are the cross product). Being a student only ever takes these two benefits away, so a
student some months only lies between the two; they are answered when both ways agree, and
are CANNOT_EVALUATE naming ``student status`` otherwise.

The other benefits do not list it, and do not compare the student rows
(``bounds.relevant``): they read the status as "not a student", as before. Housing aid does
read it (a student's resources are counted at a flat amount under 28), and so may the CSS
through the RSA it follows: a known limitation (docs/eligibility.md). Declared after every
other unknown, so that past ``bounds.MAX_ROWS`` it is this one that is reported lacking, for
the RSA and the PPA only.
"""

from __future__ import annotations

import dataclasses

from eligibility import bounds
from eligibility.household import Household, Unknown

# The benefits a student status changes (eligibility.results names it for these only).
STUDENT_BENEFITS = ("rsa", "ppa")
STUDENT_UNKNOWN = Unknown(
    "student status", STUDENT_BENEFITS, "pas étudiant, puis étudiant chaque mois"
)


def _as_student(row: Household) -> Household:
    count = len(row.months)
    members = tuple(
        dataclasses.replace(m, student=(True,) * count) if m.role == "claimant" else m
        for m in row.members
    )
    return dataclasses.replace(row, members=members)


def with_unknown_student(household: Household) -> Household:
    """``household`` (whose claimant's status is unknown: read as "not a student") with the
    claimant a student every month as the alternative of each of its rows."""
    return bounds.with_alternatives(household, [STUDENT_UNKNOWN], lambda row: [_as_student(row)])
