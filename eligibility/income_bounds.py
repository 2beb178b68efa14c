"""Resources no record gives, as unknowns with bounds (``eligibility.bounds``) instead of lacks.

The adapter records them here while it reads the records; ``declare`` then gives the
household (every unknown at its favourable bound) one variant (every unknown at its
unfavourable bound): two rows however many unknowns, sound because RSA, CSS, ASPA and
housing aid only fall as resources rise (the prime d'activité is checked on its resource
bases, see ``eligibility.bounds``). The bounds (docs/eligibility.md, "Missing data that does
not change the answer"):

- a month of resources missing from GIP-MDS (or every month of a partner whose resources
  were not released): no income at all, then ``bounds.HIGH_INCOME`` a month as a pension
  (counted by each of the five benefits);
- the gross pensions ASPA counts when the pension record was not read (the claimant's
  missing CNAV record, the partner's never fetched): the net pension (gross is never less),
  then the net divided by ``NET_OF_GROSS_MIN`` (social contributions on pensions are at most
  CSG 8.3 %, CRDS 0.5 %, CASA 0.3 %, sickness insurance 1 % on supplementary pensions and
  the Alsace-Moselle scheme's 1.5 %: 11.6 % together);
- the AAH of a recipient, the claimant or the partner (paid by the CAF, declared nowhere the
  gateway reads), and of a partner whose AAH status is unknown: no AAH, then the full AAH
  every month (the AAH is differential, never above its full rate), read from OpenFisca's
  parameters where the rules run.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from eligibility import bounds
from eligibility.household import Household, Member, Unknown
from eligibility.model import BENEFITS

NET_OF_GROSS_MIN = 0.88
_PENSIONS = ("retraite_nette", "retraite_imposable", "retraite_brute")
_WHO = {"claimant": "", "partner": "partner "}
_NO_INCOME = "aucun revenu, puis 100 000 € de pension ce mois"
_GROSS = "la pension nette, puis la nette divisée par 0,88"
_AAH = "aucune AAH, puis l'AAH à taux plein chaque mois"


class IncomeBounds:
    """What the adapter could not read, per member (``""``: the claimant, ``"partner "``)."""

    def __init__(self) -> None:
        self.unknowns: list[Unknown] = []
        self.months: dict[str, set[int]] = defaultdict(set)  # who → indexes in the months
        self.gross: set[str] = set()
        self.aah: set[str] = set()  # who
        self.aah_since: dict[str, str] = {}  # who → the first month the AAH is paid

    def _add(self, unknown: Unknown) -> None:
        if unknown not in self.unknowns:
            self.unknowns.append(unknown)

    def month(self, who: str, index: int, what: str) -> None:
        """A month of ``who``'s resources is unknown (index in ``Household.months``)."""
        self.months[who].add(index)
        self._add(Unknown(what, BENEFITS, _NO_INCOME))

    def gross_pensions(self, who: str, what: str) -> None:
        self.gross.add(who)
        self._add(Unknown(what, ("aspa",), _GROSS))

    def aah_amount(self, who: str, what: str, since: str | None = None) -> None:
        """``since``: the first month (YYYY-MM) the CAF pays it, when it says; before it the
        AAH is none at either bound."""
        self.aah.add(who)
        if since is not None:
            self.aah_since[who] = since
        self._add(Unknown(what, BENEFITS, _AAH))


def _at_gross(member: Member, count: int, ratio: float) -> Member:
    net = member.incomes.get("retraite_nette", (0.0,) * count)
    gross = tuple(round(v / ratio, 2) for v in net)
    return dataclasses.replace(member, incomes={**member.incomes, "retraite_brute": gross})


def _at_high(member: Member, indexes: set[int], count: int) -> Member:
    incomes = dict(member.incomes)
    for name in _PENSIONS:
        values = list(incomes.get(name, (0.0,) * count))
        for i in indexes:
            values[i] = bounds.HIGH_INCOME
        incomes[name] = tuple(values)
    return dataclasses.replace(member, incomes=incomes)


def _members(household: Household, found: IncomeBounds, favourable: bool) -> tuple[Member, ...]:
    count = len(household.months)
    members: list[Member] = []
    for member in household.members:
        who = _WHO.get(member.role)
        if who is not None and who in found.gross:
            member = _at_gross(member, count, 1.0 if favourable else NET_OF_GROSS_MIN)
        if not favourable:
            if who is not None and found.months.get(who):
                member = _at_high(member, found.months[who], count)
            if who is not None and who in found.aah:
                member = dataclasses.replace(
                    member, aah_full=True, aah_since=found.aah_since.get(who)
                )
        members.append(member)
    return tuple(members)


def declare(household: Household, found: IncomeBounds) -> Household:
    """``household`` at the favourable bounds, with the unfavourable ones as its variant."""
    if not found.unknowns:
        return household

    def at(row: Household, favourable: bool) -> Household:
        return dataclasses.replace(row, members=_members(row, found, favourable))

    low = at(household, True)
    low = dataclasses.replace(low, variants=tuple(at(v, True) for v in low.variants))
    return bounds.with_alternatives(low, found.unknowns, lambda row: [at(row, False)])
