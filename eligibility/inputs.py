"""Released connector records → the engine's :class:`PersonData`.

Shared by every caller of the rules (the GraphQL eligibility query, prefill, proactive
campaigns) so that they all read the same records the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from connectors import records
from eligibility.model import PersonData
from eligibility.pensions import aspa_age
from eligibility.student_status import AGE_LIMIT_FROM, housing_reads_studies

# What the rules may read, as person-view fields; each benefit's part: ``BENEFIT_FIELDS``.
INPUT_FIELDS = frozenset(
    {
        "identity",
        "household",
        "resources",
        "taxHousehold",
        "housing",
        "pension",
        "benefits.rsa",
        "benefits.primeActivite",
        # Read so that an AAH recipient is never judged on resources without it: the CAF
        # pays it, GIP-MDS does not declare it, and the rules cannot compute it.
        "benefits.aah",
        # The RSA, the PPA and the CSS count the ASF received, not the one a lone parent could
        # ask for (``eligibility.paid``).
        "benefits.asf",
        "benefits.css",
        "benefits.aspa",
        "benefits.housingAid",
        # Students are excluded from the RSA (CASF L262-4 3°), and under 28 their housing aid
        # counts a flat amount of resources (CCH R822-20): without the status these may not
        # be answered (eligibility.student_status).
        "studentStatus",
        # A grant holder's flat amount is lower (the same article): read for housing aid only.
        "studentGrant",
        # France Travail's registration and compensation (needs ref.franceTravailId): OpenFisca
        # abates an indemnified job seeker's past salaries (housing aid, CCH R822-14; CSS, CSS
        # R861-8) and neutralises a non-indemnified one's income (housing aid, CCH R822-15).
        "employment.status",
        "employment.payments",
    }
)
# What the rules read for one benefit, when only that one is evaluated (a campaign): the
# person-view fields its formulas and completeness checks depend on, and nothing more. Two
# fields that share an agency call are named together (``pension`` and ``benefits.aspa``, the
# CNAV's record; ``housing`` and ``benefits.housingAid``, the housing record): one call, and
# the same policy decisions as when both are asked.
_EVERY = frozenset({"identity", "household", "resources", "taxHousehold"})
_HOUSING = frozenset({"housing", "benefits.housingAid"})
# The AAH and the ASF the CAF pays are resources of the RSA, the PPA and the CSS
# (``eligibility.paid``); France Travail's registration and compensation feed the housing aid
# OpenFisca computes when the CAF's is unknown and the CSS's unemployment months.
_CAF_RESOURCES = frozenset(
    {"benefits.aah", "benefits.asf", "employment.status", "employment.payments"}
)
CNAV_FIELDS = frozenset({"pension", "benefits.aspa"})
STUDENT_STATUS_FIELD = "studentStatus"
STUDENT_GRANT_FIELD = "studentGrant"
# The benefits that read the student status under 28 only (housing aid) or not at all: asked
# alone for someone older, the MESRI is not called (``fields_for``).
_STUDIES_UNDER_28_ONLY = frozenset({"aide_logement", "aspa"})
BENEFIT_FIELDS: dict[str, frozenset[str]] = {
    # Students are excluded from the RSA (CASF L262-4 3°) and held to an earnings floor for the
    # PPA (CSS L842-2); the free CSS goes to whom the RSA is due (OpenFisca-France's `cmu_c`
    # reads the RSA it computes), so the CSS reads the student status too.
    "rsa": _EVERY | _HOUSING | _CAF_RESOURCES | {"benefits.rsa", "studentStatus"},
    "ppa": _EVERY | _HOUSING | _CAF_RESOURCES | {"benefits.primeActivite", "studentStatus"},
    "css": _EVERY | _HOUSING | _CAF_RESOURCES | {"benefits.css", "studentStatus"},
    # The ASPA counts pensions (gross, from the CNAV), earnings and the couple's resources,
    # not housing, studies or family benefits (CSS L815-9, R815-22 and following); and
    # OpenFisca-France's ASPA formulas leave out the person's own AAH once the ASPA is due.
    "aspa": _EVERY | CNAV_FIELDS,
    "aide_logement": INPUT_FIELDS,
}


def fields_for(
    benefits: Iterable[str], birth: date | None = None, month: str | None = None
) -> frozenset[str]:
    """The fields to read to evaluate ``benefits`` for ``month`` (YYYY-MM) about a person
    born on ``birth``. The CNAV's record also serves the RSA, the PPA and the CSS, which
    count the ASPA OpenFisca computes, but only for someone of the ASPA's age (``aspa_age``):
    it is left out only when the birth date and the month say the person is younger. The
    MESRI's status serves housing aid only under 28 (``housing_reads_studies``): asked for
    housing aid (or the ASPA) alone, it is left out when the person is older; the CNOUS's
    grant serves housing aid alone, and is left out then whatever else is asked."""
    asked = frozenset(benefits)
    fields: set[str] = set()
    for benefit in asked:
        fields |= BENEFIT_FIELDS.get(benefit, INPUT_FIELDS)
    if asked - {"aspa"} and (month is None or may_be_due("aspa", birth, month)):
        fields |= CNAV_FIELDS
    if month is not None and asked <= BENEFIT_FIELDS.keys():
        if not housing_reads_studies(birth, month):
            fields.discard(STUDENT_GRANT_FIELD)
            if asked <= _STUDIES_UNDER_28_ONLY:
                fields.discard(STUDENT_STATUS_FIELD)
        if month < AGE_LIMIT_FROM:
            # The CNOUS tells the grant of one academic year, the current one: never one
            # before 2021 (``StudentGrant.known_in``).
            fields.discard(STUDENT_GRANT_FIELD)
    return frozenset(fields)


def may_be_due(benefit: str, birth: date | None, month: str) -> bool:
    """Whether someone born on ``birth`` (None: unknown) may be due ``benefit`` in ``month``
    whatever their resources: only the ASPA has an age below which it never is
    (``aspa_age``); nothing else is ruled out from the identity alone."""
    return benefit != "aspa" or aspa_age(birth, month)


# What the rules read of a partner, and nothing more (the rest of the household is in the
# person's own records): their declared resources, and whether the CAF pays them the AAH,
# which GIP-MDS does not declare and which the RSA, the PPA, the CSS and the ASPA count
# (``eligibility.income_bounds``).
PARTNER_FIELDS = frozenset({"resources", "benefits.aah"})
# The partner's CNAV record, for the ASPA only: it counts the couple's gross pensions (CSS
# L815-9), which GIP-MDS's net amounts do not give. Read when the purpose's partner section
# allows it (``retraite``); else the rules take them at their bounds.
PARTNER_PENSION_FIELD = "pension"
# The partner's own tax household, when the couple files apart (partners neither married nor
# PACS): the family benefits' N-2 base is the couple's income (CSS R532-1), which the person's
# household alone does not give. Read for a family with a child when the RSA, the PPA or the
# CSS is asked (they count the means-tested family benefits) and the purpose's partner
# section allows it (``fiscal``); else that base is taken at its bounds.
PARTNER_TAX_FIELD = "taxHousehold"
_FAMILY_BASE_READERS = frozenset({"rsa", "ppa", "css"})


def tax_year(month: str) -> int:
    """The income year of the tax household the rules read for ``month`` (YYYY-MM): year N-2,
    the one the family benefits are means-tested on (CSS D521-4)."""
    return int(month[:4]) - 2


# Months of history read before the month evaluated (resources over 12 months, plus the
# quarters the rules look back on).
HISTORY_MONTHS = 18


def person_data_from_fields(fields: Mapping[str, object]) -> PersonData | None:
    """The eligibility input from the person-view records the exchange released, keyed by
    field name (``identity``, ``benefits.rsa``…); None when the identity was not released."""
    civil = fields.get("identity")
    if not isinstance(civil, records.CivilStatus):
        return None

    def record(name: str, kind: type) -> object | None:
        value = fields.get(name)
        return value if isinstance(value, kind) else None

    retirement = record("pension", records.Retirement) or record(
        "benefits.aspa", records.Retirement
    )
    housing = record("housing", records.Housing) or record("benefits.housingAid", records.Housing)
    receiving: dict[str, bool | None] = {}
    for benefit, field in (
        ("rsa", "benefits.rsa"),
        ("ppa", "benefits.primeActivite"),
        ("aah", "benefits.aah"),
        ("asf", "benefits.asf"),
    ):
        status = record(field, records.BenefitStatus)
        receiving[benefit] = status.receiving if isinstance(status, records.BenefitStatus) else None
    css = record("benefits.css", records.CssStatus)
    receiving["css"] = css.receiving if isinstance(css, records.CssStatus) else None
    receiving["aspa"] = (
        retirement.aspa_receiving if isinstance(retirement, records.Retirement) else None
    )
    receiving["aide_logement"] = (
        housing.aid_receiving if isinstance(housing, records.Housing) else None
    )
    return PersonData(
        civil=civil,
        resources=record("resources", records.Resources),  # type: ignore[arg-type]
        household=record("household", records.FamilyQuotient),  # type: ignore[arg-type]
        tax=record("taxHousehold", records.TaxHousehold),  # type: ignore[arg-type]
        housing=housing,  # type: ignore[arg-type]
        retirement=retirement,  # type: ignore[arg-type]
        receiving=receiving,
        student=record("studentStatus", records.StudentStatus),  # type: ignore[arg-type]
        grant=record("studentGrant", records.StudentGrant),  # type: ignore[arg-type]
        job_seeker=record("employment.status", records.JobSeekerStatus),  # type: ignore[arg-type]
        unemployment_payments=record(
            "employment.payments",
            records.UnemploymentPayments,  # type: ignore[arg-type]
        ),
        asf=record("benefits.asf", records.BenefitStatus),  # type: ignore[arg-type]
        aah=record("benefits.aah", records.BenefitStatus),  # type: ignore[arg-type]
    )


def partner_of(data: PersonData) -> records.HouseholdMember | None:
    """The partner the rules will count: the other adult of the CAF file, else the other
    declarant of the tax household (the same reading as the rules' own)."""
    if data.household is not None:
        members = data.household.claimants
    elif data.tax is not None:
        members = data.tax.declarants
    else:
        return None
    others = [m for m in members if not _same_person(m, data.civil)]
    return others[0] if others else None


def optional_partner_fields(
    benefits: Iterable[str], partner: records.HouseholdMember, month: str, data: PersonData
) -> frozenset[str]:
    """The partner's fields read besides ``PARTNER_FIELDS`` when the purpose allows them, for
    ``data``'s household in ``month`` (``YYYY-MM``): their CNAV record, only when the ASPA is
    asked and the partner is of its age; their tax household of year N-2, only when the
    couple files apart and has a child and the RSA, the PPA or the CSS is asked. Nobody
    else's pensions or taxes are read."""
    asked = frozenset(benefits)
    fields: set[str] = set()
    if "aspa" in asked and aspa_age(partner.birth_date, month):
        fields.add(PARTNER_PENSION_FIELD)
    if asked & _FAMILY_BASE_READERS and files_apart(data, month):
        fields.add(PARTNER_TAX_FIELD)
    return frozenset(fields)


def files_apart(data: PersonData, month: str) -> bool:
    """Whether the person has a child and their tax household of year N-2 (the family
    benefits' base for ``month``) is their own, without their partner: neither married nor
    PACS, so the partner declares their income in a household of their own."""
    tax = data.tax
    has_child = data.household is not None and bool(data.household.children)
    return (
        has_child
        and tax is not None
        and tax.income_year == tax_year(month)
        and tax.marital_status not in JOINT_FILING
    )


# The marital statuses under which a couple is one tax household (CGI art. 6).
JOINT_FILING = frozenset({"marie", "pacse"})


def with_partner(data: PersonData, fields: Mapping[str, object]) -> PersonData | None:
    """``data`` with the partner's records the exchange released about the partner, keyed by
    field name; None when the partner's resources are missing among them. The partner's AAH
    status is None when it was not released: the rules then take the AAH at its bounds; so
    are their gross pensions without their CNAV record, and the family benefits' N-2 base
    without their tax household when the couple files apart."""
    resources = fields.get("resources")
    if not isinstance(resources, records.Resources):
        return None
    aah = fields.get("benefits.aah")
    receiving = aah.receiving if isinstance(aah, records.BenefitStatus) else None
    retirement = fields.get(PARTNER_PENSION_FIELD)
    tax = fields.get(PARTNER_TAX_FIELD)
    return replace(
        data,
        partner_tax=tax if isinstance(tax, records.TaxHousehold) else None,
        partner_resources=resources,
        partner_receiving_aah=receiving,
        partner_retirement=retirement if isinstance(retirement, records.Retirement) else None,
    )


def _same_person(member: records.HouseholdMember, civil: records.CivilStatus) -> bool:
    return member.birth_date == civil.birth_date and (
        member.birth_name.casefold() == civil.birth_name.casefold()
    )
