"""Mutable drafts used while the population is generated, frozen into ``person`` records.

Generation runs in passes (people and incomes, then housing, then rights, then edge cases)
and later passes read what earlier ones decided; drafts make that cheap before freezing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sandbox.person import (
    Activity,
    Address,
    Housing,
    Identity,
    JobSeeker,
    Occupancy,
    Pension,
    Right,
    Situation,
    Stream,
)


@dataclass(slots=True)
class PersonDraft:
    index: int
    identity: Identity
    household: int
    activity: Activity
    streams: list[Stream] = field(default_factory=list)
    missing_months: set[int] = field(default_factory=set)
    pensions: list[Pension] = field(default_factory=list)
    rights: dict[str, Right] = field(default_factory=dict)
    truth: dict[str, bool] = field(default_factory=dict)
    job_seeker: JobSeeker | None = None
    date_deces: date | None = None
    unknown_to_caf: bool = False
    homonym_of: int | None = None

    def net_social(self, month: int) -> float:
        return sum(s.net_social for s in self.streams if s.pays_in(month))

    def earned(self, month: int) -> float:
        return sum(
            s.net_social
            for s in self.streams
            if s.pays_in(month) and s.nature in ("salaire", "revenu_independant")
        )

    def pension_net(self) -> float:
        return sum(p.monthly_net for p in self.pensions)


@dataclass(slots=True)
class HouseholdDraft:
    id: int
    kind: str
    adults: list[int]
    children: list[int]
    situation: Situation
    address: Address
    regime: str = "CNAF"
    occupancy: Occupancy = "locataire"
    housing: Housing | None = None
    previous_address: Address | None = None
    moved_in: int | None = None
    members_born_on: list[date] = field(default_factory=list)
