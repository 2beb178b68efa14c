"""What a scenario file says, once read and checked: households described fact by fact.

Months and dates are those written in the file, relative to its ``mois_reference``; the
builder (``scenario_build``) moves them to the population's reference month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sandbox.person import (
    Activity,
    AidKind,
    Identity,
    Nature,
    Occupancy,
    PayerType,
    Right,
    Situation,
    TurnoverCategory,
)

PensionKind = Literal["droit_propre", "reversion"]


@dataclass(frozen=True)
class Segment:
    """Months ``start``..``end`` (inclusive; ``None``: open) paid at one amount."""

    start: int | None
    end: int | None
    net_social: float
    net_fiscal: float


@dataclass(frozen=True)
class ResourceSpec:
    nature: Nature
    payer_type: PayerType
    payer_siret: str
    segments: tuple[Segment, ...]
    # Pensions only: what CNAV reports about the pension behind the monthly payments.
    regime: str = ""
    pension_kind: PensionKind = "droit_propre"
    gross: float | None = None
    effective: date | None = None
    # Self-employed turnover only: the activity category (``Stream.category``).
    category: TurnoverCategory | None = None


@dataclass(frozen=True)
class SeekerSpec:
    since: date
    until: date | None
    category: int


@dataclass(frozen=True)
class MemberSpec:
    identity: Identity
    child: bool
    activity: Activity
    resources: tuple[ResourceSpec, ...]
    missing: frozenset[int]
    history: bool  # False: no payer ever declared anything for this person
    rights: tuple[tuple[str, Right], ...]
    seeker: SeekerSpec | None
    known_to_caf: bool
    truth: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class HousingSpec:
    occupancy: Occupancy
    rent: float | None
    charges: float | None
    revised: int  # month of the last rent revision: earlier months were paid less
    aid_kind: AidKind | None
    aid_amount: float | None
    commune: str
    numero: int
    voie: str


@dataclass(frozen=True)
class TaxSpec:
    """What the author expects the DGFiP to answer for the first adult's foyer fiscal."""

    rfr: tuple[tuple[int, int], ...]  # (income year, revenu fiscal de référence)
    parts: float | None


@dataclass(frozen=True)
class Scenario:
    id: str
    description: str
    kind: str
    situation: Situation
    regime: Literal["CNAF", "MSA"]
    housing: HousingSpec
    members: tuple[MemberSpec, ...]
    tax: TaxSpec

    @property
    def adults(self) -> tuple[MemberSpec, ...]:
        return tuple(m for m in self.members if not m.child)

    @property
    def children(self) -> tuple[MemberSpec, ...]:
        return tuple(m for m in self.members if m.child)


@dataclass(frozen=True)
class ScenarioSet:
    source: str  # the file's name, for messages
    reference: int  # the month the file is written for
    scenarios: tuple[Scenario, ...]

    @property
    def person_count(self) -> int:
        return sum(len(s.members) for s in self.scenarios)
