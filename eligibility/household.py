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
    # OpenFisca's ``boursier`` (a higher-education grant paid, from the CNOUS) per month of
    # ``Household.months``; empty: none
    grant: tuple[bool, ...] = ()
    # OpenFisca's ``activite`` is ``chomeur`` in these months of ``Household.months`` (empty:
    # never), and ``date_debut_chomage`` (None: OpenFisca's default, never unemployed)
    job_seeker: tuple[bool, ...] = ()
    unemployed_since: date | None = None
    # False: France Travail's status was not read, so a registration without allowance (or
    # older than the allowance) cannot be seen; see ``eligibility.employment``
    job_seeker_known: bool = True
    # Fed the full AAH every month of the window (an AAH recipient at the AAH's upper bound,
    # see ``eligibility.bounds``); False: fed no AAH.
    aah_full: bool = False
    # The first month (YYYY-MM) of that full AAH, from the CAF's start date; None: every month.
    aah_since: str | None = None


@dataclass(frozen=True)
class Dwelling:
    status: str  # an OpenFisca ``statut_occupation_logement`` item name
    rents: tuple[float, ...]  # per month of ``Household.months``
    depcom: str | None
    zone: int | None


@dataclass(frozen=True)
class Unknown:
    """An input no record gives, taken at its bounds (or alternatives) by the household's
    variants rather than reported missing; see ``eligibility.bounds``."""

    what: str  # how ``missing`` names it when it changes the answer
    benefits: tuple[str, ...]  # the benefits it may change
    bound: str  # the values it is taken at, said in the note of an answer it does not change


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
    # Inputs taken at their bounds: this household is one complete alternative (the most
    # favourable one, by convention), ``variants`` are the others (see ``eligibility.bounds``).
    unknowns: tuple[Unknown, ...] = ()
    variants: tuple[Household, ...] = ()
    # The CSS resource ceiling raised by this fraction where no sourced value exists
    # (``eligibility.reform``); 0: the last sourced ceiling.
    css_ceiling_raise: float = 0.0
    # What the CAF pays (``eligibility.paid``): the housing aid a month (None: not known, the
    # rules compute it), and whether it pays the ASF (False: none is counted; True or None:
    # the rules compute it).
    housing_aid_paid: float | None = None
    asf_paid: bool | None = None
    # The family benefits' resources of year N-2 (the tax household's revenu fiscal de
    # référence, ``eligibility.paid``); None: not known, the rules compute them.
    family_base_n2: float | None = None
    # Both parents earned at least 12 BMAF in year N-2 (``eligibility.paid``); None: computed
    # (from the history, which does not reach year N-2: not).
    biactivity: bool | None = None
    # For a variant: the unknowns it takes at another value than the household, one tuple
    # of names per declaration (``bounds.with_alternatives``); a benefit that none of a
    # declaration's unknowns concerns does not compare the rows that vary it.
    varied: tuple[tuple[str, ...], ...] = ()

    def complete(self, benefit: str) -> bool:
        return not self.missing.get(benefit)
