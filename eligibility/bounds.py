"""Missing data that cannot change the answer: evaluate at its bounds, answer when they agree.

A missing input is either *lacking* (``Household.missing``: the benefits it may change answer
CANNOT_EVALUATE) or *unknown with alternatives* (``Household.unknowns``): the household is
then one complete alternative and ``Household.variants`` the others, each a complete
``Household`` of its own. Every alternative is simulated as its own household in the same
vectorised simulation as everything else (``rows``), so a household's answer still depends on
its own inputs only. For each benefit an unknown may change, the answer is given when every
alternative answers the same status with amounts within ``TOLERANCE`` (with a note naming
the unknowns that do not change it), and is CANNOT_EVALUATE naming them otherwise
(``decide``).

API
- ``Unknown(what, benefits, bound)`` (``eligibility.household``): ``what`` is the name
  ``missing`` gives it, ``benefits`` those it may change, ``bound`` the values it is taken at
  (said in the note).
- ``with_alternatives(household, unknowns, alternatives)``: ``household`` with the
  ``unknowns`` declared; ``alternatives(row)`` gives, for each row already there (the
  household itself, then each variant), the other values of the new unknowns for that row:
  the rows are the cross product. Monotone unknowns are best declared together with ONE
  alternative, every unknown at its unfavourable extreme, the household itself holding the
  favourable one (two rows, whatever their number). Beyond ``MAX_ROWS`` rows the unknowns
  are reported lacking instead.
- ``rows(household)``: the households to simulate for it, itself first.
- ``relevant(household, benefit)``: the rows whose answers are compared for ``benefit`` (a
  variant of a declaration none of whose unknowns concerns the benefit is not).
- ``decide(household, benefit, answers, witnesses)``: None when the unknowns of ``benefit``
  do not change the answer (or there are none), else the names of the decisive ones.
- ``certain_eligibility(benefit, answers)``: the amounts disagree but every alternative is
  ELIGIBLE, for a benefit monotone in resources: the person is entitled whatever the
  unknowns' values, only the amount depends on them (it lies between the extremes'). The
  answer is then ELIGIBLE without an amount, ``missing`` naming the decisive unknowns.

Soundness. Two extremes prove nothing about the values between them unless the answer is
monotone in the unknown. RSA, CSS (free, with participation, not eligible), ASPA and housing
aid only fall as resources rise; the prime d'activité does not (it grows with earnings, then
falls), so for it the extremes must also leave its resource bases unchanged (``WITNESSES``):
then the unknown is not read at all. Categorical unknowns must list every alternative.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from eligibility.household import Household, Unknown

# Amounts closer than this are the same answer (euros a month).
TOLERANCE = 1.0
# Rows per household at most (itself and its variants): each is a household simulated.
MAX_ROWS = 8
# A monthly income above every resource ceiling of the five benefits, for any household:
# the unfavourable extreme of an unknown month of resources (see docs/eligibility.md).
HIGH_INCOME = 100_000.0
# benefit → (a resource base it reads, the months before the month evaluated it is read at):
# for a benefit that is not monotone in resources, the extremes must leave these unchanged.
# The prime d'activité reads the three months before M (M-4..M-2 in the départements of the
# RSA experiment).
WITNESSES: dict[str, tuple[str, tuple[int, ...]]] = {
    "ppa": ("ppa_base_ressources", (-4, -3, -2, -1)),
}


# Benefits whose status and amount only fall as resources rise (see Soundness above): two
# ELIGIBLE extremes prove every value between them ELIGIBLE.
MONOTONE = ("rsa", "css", "aspa", "aide_logement")


def witness_key(variable: str, offset: int) -> str:
    """The key of a witness in a simulation's raw answer."""
    return f"{variable}@{offset}"


def rows(household: Household) -> tuple[Household, ...]:
    return (household, *household.variants)


def _lack(household: Household, unknowns: Sequence[Unknown]) -> Household:
    missing = dict(household.missing)
    for unknown in unknowns:
        for benefit in unknown.benefits:
            if unknown.what not in missing.get(benefit, ()):
                missing[benefit] = (*missing.get(benefit, ()), unknown.what)
    return dataclasses.replace(household, missing=missing)


def with_alternatives(
    household: Household,
    unknowns: Sequence[Unknown],
    alternatives: Callable[[Household], Sequence[Household]],
) -> Household:
    """``household`` with ``unknowns`` declared and its rows crossed with ``alternatives``."""
    if not unknowns:
        return household
    names = tuple(u.what for u in unknowns)
    crossed: list[Household] = []
    for row in rows(household):
        plain = dataclasses.replace(row, unknowns=(), variants=())
        others = [
            dataclasses.replace(a, varied=(*plain.varied, names)) for a in alternatives(plain)
        ]
        crossed.extend((plain, *others))
    if len(crossed) > MAX_ROWS:
        return _lack(household, unknowns)
    variants = tuple(dataclasses.replace(r, unknowns=(), variants=()) for r in crossed[1:])
    return dataclasses.replace(
        household, unknowns=(*household.unknowns, *unknowns), variants=variants
    )


def concerned(household: Household, benefit: str) -> tuple[Unknown, ...]:
    return tuple(u for u in household.unknowns if benefit in u.benefits)


def relevant(household: Household, benefit: str) -> tuple[int, ...]:
    """The rows (indexes in ``rows`` order) to compare for ``benefit``: the household, and
    each variant all of whose varied declarations concern it (an unknown of each lists the
    benefit). The others vary only what the benefit's answer does not depend on, or what it
    reads at the household's value (a student status, for the CSS: see
    ``eligibility.student_status``)."""
    names = {u.what for u in concerned(household, benefit)}
    return tuple(
        i
        for i, row in enumerate(rows(household))
        if all(any(n in names for n in declared) for declared in row.varied)
    )


def _agree(answers: Sequence[tuple[str, float | None]]) -> bool:
    status, amount = answers[0]
    for other_status, other_amount in answers[1:]:
        if other_status != status:
            return False
        if (amount is None) != (other_amount is None):
            return False
        if amount is not None and other_amount is not None:
            if abs(amount - other_amount) > TOLERANCE:
                return False
    return True


def _witnesses_agree(benefit: str, raws: Sequence[Mapping[str, float]]) -> bool:
    if benefit not in WITNESSES:
        return True
    variable, offsets = WITNESSES[benefit]
    keys = [witness_key(variable, o) for o in offsets]
    first = raws[0]
    return all(abs(raw[k] - first[k]) < 0.005 for raw in raws[1:] for k in keys)


def certain_eligibility(benefit: str, answers: Sequence[tuple[str, float | None]]) -> bool:
    """Every alternative ELIGIBLE for a benefit monotone in the unknowns (amounts aside)."""
    return benefit in MONOTONE and all(status == "ELIGIBLE" for status, _ in answers)


def decide(
    household: Household,
    benefit: str,
    answers: Sequence[tuple[str, float | None]],
    raws: Sequence[Mapping[str, float]],
) -> tuple[str, ...] | None:
    """``answers``: (status, amount) of every row, in ``rows`` order; ``raws`` their raw
    simulation outputs. None: answer with the first row's (the unknowns, if any, do not
    change it); else the unknowns that may change it, by name."""
    unknowns = concerned(household, benefit)
    if not unknowns:
        return None
    if _agree(answers) and _witnesses_agree(benefit, raws):
        return None
    return tuple(u.what for u in unknowns)
