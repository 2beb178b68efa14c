"""Job-seeker facts → OpenFisca's ``activite`` and ``date_debut_chomage``, per member and month.

What OpenFisca-France 176.1.8 reads of them, for the month M evaluated (its formulas):

- housing aid, ``aide_logement_abattement_revenus_activite_professionnelle`` (M):
  ``activite`` (M) is ``chomeur`` and ``date_debut_chomage`` is before the first day of M-2
  → the member's salaries of the rolling year (M-13…M-2) are abated by 30 % (CCH R822-14);
- housing aid, ``aide_logement_condition_neutralisation`` (M): a parent whose ``activite``
  (M) is ``chomeur`` with no ``chomage_imposable`` (M), registered before the first day of
  M-2 (the same ``date_debut_chomage``) → every parent's salaries and unemployment benefits
  are left out of the resources (CCH R822-15); the ``ass`` it also reads is fed as zero;
- CSS, ``abattement_chomage`` in ``css_cmu_base_ressources_individu`` (M): ``activite`` (M)
  is ``chomeur`` and ``chomage_net`` (M) is positive → 30 % of the salaries of the twelve
  months before M are deducted (CSS R861-8);
- the RSA, the prime d'activité and the CSS's housing flat rate read it only through the
  housing aid (their ``forfait logement``); the RSA's own neutralisation of interrupted
  income does not read it.

The adapter carries M-1's income to M, so ``chomage_*`` (M) is M-1's.

Where the facts come from:

- France Travail's registration (``employment.status``, read with the France Travail
  identifier): ``chomeur`` in the months it covers, in the categories of people without a
  job (1 to 4; category 5 is "pourvue d'un emploi", someone employed looking for another
  job), and ``date_debut_chomage`` is its start;
- an unemployment benefit, declared to GIP-MDS or paid by France Travail (a payment covers
  the month before it): the months it is paid are a registered job seeker's as a fact, since
  the allowances are paid only to registered job seekers (Code du travail, art. L5421-3);
  without the registration, ``date_debut_chomage`` is the first day of the paid run, a
  registration date never earlier than the true one.

Without France Travail's status (no identifier given, not released, or failed) a
non-indemnified job seeker cannot be seen, nor a registration that began before the
allowance. ``declare`` adds the other value as an alternative (``eligibility.bounds``): the
members whose status is unknown registered since the start of the window, only where
OpenFisca's conditions above can change something (a member indemnified from M-2 on, with
salaries in the rolling year; a member with no salary, pension nor allowance at M, not a
student, whose salary or allowance stopped within the rolling year); elsewhere there is no
unknown at all. Both values are evaluated, and the answer is given when they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from connectors.records import JobSeekerStatus, Provenance, Resources, UnemploymentPayments
from eligibility import bounds
from eligibility import months as mo
from eligibility.household import Household, Member, Unknown
from eligibility.model import InputUsed

# France Travail's categories of people without a job (1-3 available, 4 not immediately);
# category 5 is "personne pourvue d'un emploi à la recherche d'un autre": not unemployed.
WITHOUT_JOB = frozenset({1, 2, 3, 4})
# France Travail's compensation: allowances (ARE, ASS, ASP…); aids and other sums (a moving
# aid, a Christmas bonus) are not a compensated period.
_COMPENSATION = frozenset({"allowance", "unspecified"})
# Benefits whose answer can depend on the job-seeker status (directly, or through the housing
# aid's flat rate).
AFFECTED = ("rsa", "ppa", "css", "aide_logement")
UNKNOWN = "job-seeker status (France Travail)"
UNKNOWN_PARTNER = "partner job-seeker status (France Travail)"
LAW = "Code du travail art. L5421-3"
# The two values an unknown status is evaluated at (said in the note of an answer it does
# not change).
_UNPAID = "non inscrit, puis inscrit à France Travail sans indemnisation depuis plus de deux mois"
_OLDER = "inscrit au premier mois indemnisé, puis plus de deux mois avant"


@dataclass(frozen=True)
class JobSeeking:
    """One member's ``activite`` (``chomeur`` or not) per month, and ``date_debut_chomage``."""

    months: tuple[bool, ...]
    since: date | None
    known: bool  # France Travail's status was read: nothing is left to bound


def paid_months(incomes: dict[str, tuple[float, ...]], count: int) -> tuple[bool, ...]:
    """The months a member is paid an unemployment benefit (GIP-MDS, M carried from M-1)."""
    net = incomes.get("chomage_net", (0.0,) * count)
    taxable = incomes.get("chomage_imposable", (0.0,) * count)
    return tuple(a > 0 or b > 0 for a, b in zip(net, taxable, strict=True))


def compensated(payments: UnemploymentPayments | None, months: tuple[str, ...]) -> set[str]:
    """The months France Travail's allowances covered: each payment covers the month before
    the one it is paid in; the last month (M, not paid yet) is carried from M-1."""
    if payments is None:
        return set()
    covered = {
        mo.shift(f"{p.date.year:04d}-{p.date.month:02d}", -1)
        for p in payments.payments
        if p.kind in _COMPENSATION and p.gross > 0
    }
    if months[-2] in covered:
        covered.add(months[-1])
    return covered & set(months)


def _run_start(paid: tuple[bool, ...], months: tuple[str, ...]) -> date | None:
    """The first day of the last run of paid months (the one reaching M, if any)."""
    last = max((i for i, p in enumerate(paid) if p), default=None)
    if last is None:
        return None
    first = last
    while first > 0 and paid[first - 1]:
        first -= 1
    return mo.first_day(months[first])


def _registered(status: JobSeekerStatus, month: str) -> bool:
    since, until = status.registered_since, status.registered_until
    if since is None or since > mo.last_day(month):
        return False
    if until is not None and until < mo.first_day(month):
        return False
    return status.category_code is None or status.category_code in WITHOUT_JOB


def job_seeking(
    status: JobSeekerStatus | None,
    payments: UnemploymentPayments | None,
    incomes: dict[str, tuple[float, ...]],
    months: tuple[str, ...],
) -> JobSeeking:
    """A member's facts: France Travail's registration when read, and paid months."""
    covered = compensated(payments, months)
    paid = tuple(
        p or m in covered for p, m in zip(paid_months(incomes, len(months)), months, strict=True)
    )
    later = status is not None and (
        status.registered_since is not None and status.registered_since > mo.last_day(months[-1])
    )
    if status is None or later:
        # France Travail names only the current (or last) registration: one that began after
        # the month asked (a campaign judging a past month) says nothing of that month.
        return JobSeeking(paid if any(paid) else (), _run_start(paid, months), known=False)
    # The registration says what M is; a carried payment at M would only repeat M-1.
    series = tuple(
        _registered(status, m) or (paid[i] and i < len(months) - 1) for i, m in enumerate(months)
    )
    since = status.registered_since if _registered(status, months[-1]) else None
    return JobSeeking(series if any(series) else (), since or _run_start(paid, months), known=True)


def report(seeking: JobSeeking, who: str, provenance: Provenance | None) -> list[InputUsed]:
    """The explanation's inputs: ``activite`` and ``date_debut_chomage`` for M."""
    if provenance is None:
        return []
    where = (provenance.agency, provenance.source, provenance.as_of)
    if not seeking.months or not seeking.months[-1]:
        if not seeking.known:
            return []  # nothing seen; whether it matters is for ``registered_bound``
        return [InputUsed(f"{who}activite", "not a job seeker without a job", *where)]
    how = (
        "registered with France Travail"
        if seeking.known
        else f"unemployment benefit paid, only to a registered job seeker ({LAW})"
    )
    since = "unknown" if seeking.since is None else seeking.since.isoformat()
    return [
        InputUsed(f"{who}activite", f"chomeur ({how})", *where),
        InputUsed(f"{who}date_debut_chomage", since, *where),
    ]


def provenance_of(
    status: JobSeekerStatus | None,
    payments: UnemploymentPayments | None,
    resources: Resources | None,
) -> Provenance | None:
    """Where the facts come from: France Travail's status, else its payments, else GIP-MDS."""
    if status is not None:
        return status.provenance
    if payments is not None and payments.payments:
        return payments.provenance
    return None if resources is None else resources.provenance


def _salaries(member: Member, window: slice) -> float:
    return sum(member.incomes.get("salaire_imposable", ())[window])


def _earned(member: Member, window: slice) -> bool:
    """Paid a salary or an unemployment benefit in ``window``: income that can drop."""
    return _salaries(member, window) + sum(member.incomes.get("chomage_imposable", ())[window]) > 0


def _bounded(household: Household) -> dict[int, Unknown]:
    """The members (by index) whose unknown status can change something, per OpenFisca's
    conditions (module docstring), with the unknown each is named by; empty: no unknown."""
    months = household.months
    last = len(months) - 1
    two_months_ago = mo.first_day(months[-3])
    rolling = slice(-14, -2)  # OpenFisca's rolling year for housing aid: M-13 … M-2
    found: dict[int, Unknown] = {}
    for index, member in enumerate(household.members):
        if member.role == "child" or member.job_seeker_known:
            continue
        what = UNKNOWN if member.role == "claimant" else UNKNOWN_PARTNER
        paid_now = paid_months(dict(member.incomes), len(months))[last]
        # Someone paid a salary or a pension at M, or a student, is not taken for a job
        # seeker without allowance.
        occupied = any(
            member.incomes.get(v, (0.0,))[-1] > 0 for v in ("salaire_net", "retraite_nette")
        ) or (bool(member.student) and member.student[-1])
        registered_late = member.unemployed_since is None or (
            member.unemployed_since >= two_months_ago
        )
        if paid_now and registered_late and _salaries(member, rolling) > 0:
            # Indemnified: the registration may be older than the first allowance, and
            # then the past salaries are abated (CCH R822-14).
            found[index] = Unknown(what, AFFECTED, _OLDER)
        elif not paid_now and not occupied and _earned(member, rolling):
            # Income dropped to nothing: maybe a job seeker without allowance, whose income
            # the housing aid neutralises (CCH R822-15: the person's own).
            found[index] = Unknown(what, AFFECTED, _UNPAID)
    return found


def _as_registered(member: Member, early: date, count: int) -> Member:
    """``member`` registered with France Travail since ``early`` (at the latest M-2)."""
    series = member.job_seeker or (False,) * count
    return replace(
        member,
        job_seeker=(*series[:-3], True, True, True),
        unemployed_since=min(early, member.unemployed_since or early),
    )


def registered_bound(household: Household) -> tuple[Household, tuple[str, ...]] | None:
    """The household with every parent whose unknown status can change something taken as
    registered since the start of the window, and the names of the unknowns; None when
    nothing can change (module docstring): then there is no unknown at all."""
    found = _bounded(household)
    if not found:
        return None
    return _at_registered(household, found), tuple(u.what for u in found.values())


def _at_registered(row: Household, found: dict[int, Unknown]) -> Household:
    early = mo.first_day(row.months[0])
    members = tuple(
        _as_registered(m, early, len(row.months)) if i in found else m
        for i, m in enumerate(row.members)
    )
    return replace(row, members=members)


def declare(household: Household) -> Household:
    """``household`` (the facts: an unknown status read as not registered) with the
    registered bound as an alternative of each of its rows (``eligibility.bounds``), where
    the unknown status can change something. Both values of a two-valued unknown are
    evaluated: nothing is assumed of how the answers vary between them."""
    found = _bounded(household)
    if not found:
        return household
    unknowns = list(dict.fromkeys(found.values()))
    return bounds.with_alternatives(household, unknowns, lambda row: [_at_registered(row, found)])
