"""The engine's own view of one household: plain numbers per month, ready for OpenFisca.

Built by ``eligibility.adapter`` from the records, consumed by ``eligibility.simulation``;
numpy-free and frozen so it crosses the process-pool boundary cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from eligibility.model import InputUsed

Role = Literal["claimant", "partner", "child"]


@dataclass(frozen=True)
class Member:
    role: Role
    birth_date: date
    # OpenFisca variable → one amount per month of ``Household.months``
    incomes: Mapping[str, tuple[float, ...]]
    # OpenFisca's ``etudiant`` per month of ``Household.months``; empty: never a student
    student: tuple[bool, ...] = ()
    # OpenFisca's ``activite`` is ``chomeur`` in these months of ``Household.months`` (empty:
    # never), and ``date_debut_chomage`` (None: OpenFisca's default, never unemployed)
    job_seeker: tuple[bool, ...] = ()
    unemployed_since: date | None = None
    # False: France Travail's status was not read, so a registration without allowance (or
    # older than the allowance) cannot be seen; see ``eligibility.employment``
    job_seeker_known: bool = True


@dataclass(frozen=True)
class Dwelling:
    status: str  # an OpenFisca ``statut_occupation_logement`` item name
    rents: tuple[float, ...]  # per month of ``Household.months``
    depcom: str | None
    zone: int | None


@dataclass(frozen=True)
class Household:
    month: str  # the month evaluated
    months: tuple[str, ...]  # the history window then ``month`` itself
    members: tuple[Member, ...]
    joint_tax: bool  # the partner shares the claimant's foyer fiscal (married, PACS)
    dwelling: Dwelling | None
    # completeness report: benefit → what is missing to evaluate it (empty: complete)
    missing: Mapping[str, tuple[str, ...]]
    inputs: tuple[InputUsed, ...]

    def complete(self, benefit: str) -> bool:
        return not self.missing.get(benefit)
