"""What the engine takes and answers: plain frozen dataclasses, picklable for the pool."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from connectors.records import (
    BenefitStatus,
    CivilStatus,
    FamilyQuotient,
    Housing,
    JobSeekerStatus,
    Resources,
    Retirement,
    StudentGrant,
    StudentStatus,
    TaxHousehold,
    UnemploymentPayments,
)

BENEFITS = ("rsa", "ppa", "css", "aspa", "aide_logement")
# DECEASED: the civil registry records the person's death on or before the month evaluated;
# the rules are not run (no right is opened or paid for a month after a death).
Status = Literal["ELIGIBLE", "NOT_ELIGIBLE", "CANNOT_EVALUATE", "DECEASED"]


@dataclass(frozen=True)
class PersonData:
    """One person's records as the gateway fetched them.

    ``partner_resources`` is the partner's GIP-MDS history when the CAF file names a
    partner; without it a couple's resources are unknown, evaluated at their bounds (none,
    and more than any ceiling): a benefit they could change answers CANNOT_EVALUATE rather
    than counting the partner as earning nothing.
    """

    civil: CivilStatus
    resources: Resources | None
    household: FamilyQuotient | None
    tax: TaxHousehold | None
    housing: Housing | None
    retirement: Retirement | None
    receiving: Mapping[str, bool | None] = field(default_factory=dict)
    partner_resources: Resources | None = None
    # Why the partner's resources are absent, when the reader knows (e.g. "partner
    # identification (several persons match)"): what ``missing`` and the notes name instead
    # of the plain "partner resources".
    partner_unread: str | None = None
    # Whether the CAF pays the partner the AAH (``benefits.aah`` read with their resources);
    # None when not known. True or None: the partner's AAH is an unknown with bounds (no AAH,
    # then the full AAH), as the claimant's.
    partner_receiving_aah: bool | None = None
    # The partner's CNAV record (``pension``), read with their resources when the ASPA is
    # asked and the partner is of its age (``eligibility.inputs.optional_partner_fields``):
    # the ASPA counts the couple's gross pensions (CSS L815-9). None when not read: they are
    # then taken at their bounds (the net pension, the net / 0.88).
    partner_retirement: Retirement | None = None
    # The partner's own tax household of year N-2, read when the couple files apart and a
    # child makes the family benefits' N-2 base count (``optional_partner_fields``): that base
    # is the couple's income (CSS R532-1), the sum of both households' revenus fiscaux de
    # référence (``eligibility.stated``). None when not read.
    partner_tax: TaxHousehold | None = None
    # The MESRI's answer (its admissions): students are excluded from the RSA (CASF L262-4).
    # None when not known: the benefits it changes are evaluated both ways
    # (``eligibility.student_status``); the others read the person as not a student. Read
    # month by month: the record's ``registered`` is the status on the day of the request,
    # not in the months evaluated.
    student: StudentStatus | None = None
    # The CNOUS's answer: a student under 28's housing aid counts a flat amount of resources,
    # lower for a grant holder (CCH R822-20). None when not known: evaluated both ways for a
    # student under 28 (``eligibility.student_status``).
    grant: StudentGrant | None = None
    # France Travail's registration and payments, read when the request names the person's
    # France Travail identifier (``eligibility.employment``). None when not known: the months
    # GIP-MDS shows an unemployment benefit are still a registered job seeker's.
    job_seeker: JobSeekerStatus | None = None
    unemployment_payments: UnemploymentPayments | None = None
    # Whether the CAF pays the ASF (``benefits.asf``): the RSA, the PPA and the CSS count the
    # ASF received (``eligibility.paid``). None when not known: the rules compute it.
    asf: BenefitStatus | None = None
    # The CAF's AAH status (``benefits.aah``): its start date bounds the months the AAH may
    # be paid in (``eligibility.income_bounds``).
    aah: BenefitStatus | None = None


@dataclass(frozen=True)
class InputUsed:
    name: str
    value: str
    agency: str
    source: str
    as_of: date


@dataclass(frozen=True)
class Criterion:
    text: str
    title: str
    href: str


@dataclass(frozen=True)
class BenefitResult:
    benefit: str
    status: Status
    monthly_amount: float | None  # css: the monthly participation, 0.0 for the free CSS
    receiving: bool | None
    non_take_up: bool  # ELIGIBLE and the paying agency says it does not pay it
    missing: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    inputs: tuple[InputUsed, ...]
