"""Person records → ``Household``: members, 18 months of resources, housing, and what is missing.

Mapping decisions (each is a pitfall measured with this OpenFisca release):

- A month absent from GIP-MDS reads as *zero income* in OpenFisca, which makes people look
  poorer than they are; such a month is reported missing and the resource-tested benefits
  (all five) answer CANNOT_EVALUATE instead of a wrong ELIGIBLE.
- Net social amounts feed the ``*_net`` variables (RSA, PPA, CSS, ASPA bases) and net taxable
  amounts the ``*_imposable`` ones (tax and housing-aid bases), per payment nature: salary,
  unemployment benefit, pension.
- A micro-entrepreneur's turnover (GIP-MDS, declared monthly to the Urssaf with its activity
  category) is fed by category to ``rpns_auto_entrepreneur_CA_*``, from which OpenFisca
  deducts the category's flat allowance (CGI art. 50-0, 102 ter) for the RSA, the PPA, the
  CSS and the ASPA. The housing aid reads instead the taxable profit of year N-2 from the
  tax return, which no record gives: it cannot be evaluated for that household, nor can any
  benefit when a turnover comes without its category (a guess would make a wrong answer
  look precise).
- OpenFisca evaluates month M with M's own income, and a drop to zero at M triggers the
  neutralisation rules for lost income; M is not declared yet, so M-1 is carried to M.
- Housing is fed for every month of the window (rent, occupancy, commune, zone), not only
  for M: the PPA and RSA housing flat rate of past months depend on it.
- ASPA alone counts *gross* pensions and salaries (``retraite_brute``, ``salaire_de_base``):
  fed net amounts only, it would see no pension at all and pay the full ASPA. Gross
  pensions come from the CNAV record (``Retirement``), the claimant's and, when it was read,
  the partner's (the ASPA counts the couple's resources, CSS L815-9); without a record they
  are taken at their bounds (``eligibility.income_bounds``). Gross salaries are known
  nowhere, so ASPA cannot be evaluated when either member's last quarter has salaries.
- The claimant's student status (``etudiant``) is fed month by month from the MESRI's
  admissions: a month is a student's when an enrolment in initial training (RF1-RF3; not
  apprenticeship, not continuing training, the sense of "étudiant" in social law) overlaps
  it. Students are excluded from the RSA (CASF L262-4) and, below an earnings threshold,
  from the PPA; under 28 their housing aid counts a flat amount of resources (CCH R822-20).
  Unknown (not released, or the MESRI failed), these are evaluated both ways
  (``eligibility.student_status``) and answer CANNOT_EVALUATE only when the status would
  change them: fed as "not a student" alone, a student would look entitled. The record's own
  ``registered`` is the status on the day of the request, not in the months evaluated. The
  partner's status is not fetched and reads as not a student.
- The claimant's grant (``boursier``) is fed from the CNOUS's answer for a claimant under 28
  who is, or may be, a student in the month evaluated, in the months it is paid; a grant paid
  is a student's, whatever the MESRI says. Not read, or about another academic year than the
  month's, housing aid is evaluated without and with a grant (``eligibility.student_status``).
- The job-seeker status (OpenFisca's ``activite``, ``date_debut_chomage``) is fed per member
  and month from France Travail's registration when read, and from the months an
  unemployment benefit is paid (only a registered job seeker is paid one): see
  ``eligibility.employment``. Fed "inactive" by default, an indemnified job seeker's past
  salaries would not be abated, nor a non-indemnified one's income neutralised.
- No benefit amount the person is paid (RSA, housing aid, ASPA…) is ever an input: they are
  what is computed, and feeding them would answer with the agency's own figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date

from connectors.records import (
    INITIAL_TRAINING,
    HouseholdMember,
    MonthlyResources,
    Payment,
    Resources,
    Retirement,
)
from eligibility import employment, stated
from eligibility import months as mo
from eligibility.errors import NoHistory
from eligibility.household import Dwelling, Household, Member
from eligibility.income_bounds import IncomeBounds
from eligibility.income_bounds import declare as declare_bounds
from eligibility.inputs import JOINT_FILING
from eligibility.model import BENEFITS, InputUsed, PersonData
from eligibility.pensions import aspa_age, gross_by_month
from eligibility.reform import with_unsourced_ceiling
from eligibility.stated import input_used as _input
from eligibility.student_status import (
    housing_reads_studies,
    student_benefits,
    with_unknown_grant,
    with_unknown_student,
)

# payment nature (or payer kind) → (variable fed the net social amount, the net taxable one)
INCOME_VARIABLES = {
    "salary": ("salaire_net", "salaire_imposable"),
    "employer": ("salaire_net", "salaire_imposable"),
    "unemployment_benefit": ("chomage_net", "chomage_imposable"),
    "unemployment": ("chomage_net", "chomage_imposable"),
    "pension": ("retraite_nette", "retraite_imposable"),
}
_SELF_EMPLOYED = {"self_employed_income", "self_employed"}
# a micro-entrepreneur's activity category → the variable fed its monthly turnover
TURNOVER_VARIABLES = {
    "sales": "rpns_auto_entrepreneur_CA_achat_revente",
    "services": "rpns_auto_entrepreneur_CA_bic",
    "non_commercial": "rpns_auto_entrepreneur_CA_bnc",
}
OCCUPANCY = {
    "tenant": "locataire_vide",
    "tenant_furnished": "locataire_meuble",
    "owner": "proprietaire",
    "free_lodging": "loge_gratuitement",
    "homeless": "sans_domicile",
}
# Benefits whose amount depends on the dwelling (directly, or via the housing flat rate).
HOUSING_BENEFITS = ("rsa", "ppa", "css", "aide_logement")


def _same_person(member: HouseholdMember, data: PersonData) -> bool:
    civil = data.civil
    return member.birth_date == civil.birth_date and (
        member.birth_name.casefold() == civil.birth_name.casefold()
    )


class _Report:
    """Collects the completeness report as it goes."""

    def __init__(self) -> None:
        self.missing: dict[str, list[str]] = defaultdict(list)
        self.inputs: list[InputUsed] = []
        self.bounds = IncomeBounds()  # unknown, but bounded: see eligibility.income_bounds
        self.student_unknown = False  # the claimant's student status was not read
        self.grant_unknown = False  # nor the CNOUS's grant of a claimant who may need it

    def lack(self, what: str, benefits: Iterable[str] = BENEFITS) -> None:
        for benefit in benefits:
            if what not in self.missing[benefit]:
                self.missing[benefit].append(what)


def _incomes(
    resources: Resources | None,
    window: tuple[str, ...],
    who: str,
    report: _Report,
    unread: str | None = None,
) -> dict[str, tuple[float, ...]]:
    """Per-variable amounts for ``window`` + the evaluated month (M-1 carried to M)."""
    if resources is None:
        partner = unread or f"{who}resources"
        for i in range(len(window) + 1):  # the month asked too (carried from M-1)
            # A partner's resources are one item; the claimant's are named month by month.
            named = f"resources {window[min(i, len(window) - 1)]}"
            report.bounds.month(who, i, partner if who else named)
        return {}
    by_month: dict[str, MonthlyResources] = {m.month: m for m in resources.months}
    declared_missing = set(resources.missing_months)
    amounts: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(window))
    for i, month in enumerate(window):
        record = by_month.get(month)
        if record is None or month in declared_missing:
            report.bounds.month(who, i, f"{who}resources {month}")
            if i == len(window) - 1:  # carried to the month asked
                report.bounds.month(who, i + 1, f"{who}resources {month}")
            continue
        for payment in record.payments:
            if payment.nature in _SELF_EMPLOYED or payment.payer_kind in _SELF_EMPLOYED:
                _turnover(payment, amounts, i, who, month, report)
                continue
            names = INCOME_VARIABLES.get(payment.nature) or INCOME_VARIABLES.get(payment.payer_kind)
            if names is None:
                report.lack(f"{who}payment of unknown nature {payment.nature!r} {month}")
                continue
            amounts[names[0]][i] += payment.net_social
            amounts[names[1]][i] += payment.net_taxable
    series = {name: (*values, values[-1]) for name, values in amounts.items()}
    for name, values in sorted(series.items()):
        report.inputs.append(
            _input(
                f"{who}{name}",
                f"{window[0]}..{window[-1]}: last {values[-2]:.2f} €/month, "
                f"12-month total {sum(values[-13:-1]):.2f} € "
                "(the last month is carried to the month asked)",
                resources.provenance,
            )
        )
    return series


def _turnover(
    payment: Payment,
    amounts: dict[str, list[float]],
    i: int,
    who: str,
    month: str,
    report: _Report,
) -> None:
    """A micro-entrepreneur's turnover of ``month`` (see the module docstring)."""
    variable = TURNOVER_VARIABLES.get(payment.activity_category or "")
    if variable is None:
        report.lack(f"{who}self-employed income {month} (activity category not given)")
        return
    amounts[variable][i] += payment.net_social
    report.lack(
        f"{who}self-employed taxable profit of year N-2 (housing aid base, not in the "
        "resource history)",
        ["aide_logement"],
    )


def _pension_gross(
    retirement: Retirement | None,
    birth: date | None,
    incomes: dict[str, tuple[float, ...]],
    months: tuple[str, ...],
    who: str,
    unread: str,
    report: _Report,
) -> None:
    """ASPA's gross inputs for the claimant (``who`` empty) or the partner (``"partner "``),
    from their CNAV record; ``unread`` names the gross pensions, taken at their bounds,
    when there is no record (see the module docstring)."""
    if not aspa_age(birth, months[-1]):
        return  # too young for ASPA whatever the resources: nothing gross is needed
    recent = slice(-4, None)  # the quarter before M, and M itself (carried from M-1)
    if any(incomes.get("salaire_net", ())[recent]):
        report.lack(f"{who}gross salary of the last quarter (ASPA counts gross earnings)", ["aspa"])
    if not any(incomes.get("retraite_nette", ())):
        return
    if retirement is None:
        report.bounds.gross_pensions(who, unread)
        return
    gross = gross_by_month(retirement, months)
    incomes["retraite_brute"] = gross
    report.inputs.append(
        _input(
            f"{who}retraite_brute",
            f"{gross[-1]:.2f} €/month (gross pensions)",
            retirement.provenance,
        )
    )


def _studies(
    data: PersonData, months: tuple[str, ...], report: _Report
) -> tuple[tuple[bool, ...], tuple[bool, ...]]:
    """The claimant's ``etudiant`` and ``boursier`` per month, each ``()`` when unknown or not
    read (see the module docstring).

    The grant is read only where housing aid may count a student's flat amount (under 28, a
    student or maybe one in the month evaluated). A month the CNOUS's answer does not
    describe (``known_in``) is not a grant holder's; the month evaluated undescribed, the
    grant is unknown. A grant paid is a student's: a month the MESRI says otherwise (an
    establishment that does not report to it) is a student's, said from the CNOUS."""
    month = months[-1]
    grant = data.grant if housing_reads_studies(data.civil.birth_date, month) else None
    paid = tuple(grant.known_in(m) is True for m in months) if grant is not None else ()
    status = data.student
    studies: tuple[bool, ...] = ()
    if status is None:
        report.student_unknown = True  # evaluated both ways: eligibility.student_status
    else:
        enrolled = [
            a for a in status.admissions if a.enrolled and a.regime_code in INITIAL_TRAINING
        ]
        said = tuple(
            any(a.start <= mo.last_day(m) and mo.first_day(m) <= a.end for a in enrolled)
            for m in months
        )
        studies = tuple(p or s for p, s in zip(paid, said, strict=True)) if paid else said
        source = status.provenance
        if grant is not None and studies[-1] and not said[-1]:
            source = grant.provenance
        report.inputs.append(_input("etudiant", "oui" if studies[-1] else "non", source))
    if not housing_reads_studies(data.civil.birth_date, month):
        return studies, ()
    if not (report.student_unknown or (studies and studies[-1])):
        return studies, ()
    if grant is None or grant.known_in(month) is None:
        report.grant_unknown = True  # evaluated both ways: eligibility.student_status
        return studies, ()
    report.inputs.append(_input("boursier", "oui" if paid[-1] else "non", grant.provenance))
    return studies, paid


def _dwelling(data: PersonData, window: tuple[str, ...], report: _Report) -> Dwelling | None:
    housing = data.housing
    if housing is None:
        report.lack("housing", HOUSING_BENEFITS)
        return None
    status = OCCUPANCY.get(housing.occupancy)
    if status is None:
        report.lack(f"housing occupancy {housing.occupancy!r}", HOUSING_BENEFITS)
        return None
    rents = {r.month: r.rent for r in housing.rent_history}
    tenant = status in ("locataire_vide", "locataire_meuble")
    carried = [m for m in window if m not in rents]
    if tenant and carried and housing.monthly_rent is None:
        report.lack("housing rent", HOUSING_BENEFITS)
        return None
    if housing.cog_commune is None and housing.zone is None:
        report.lack("housing commune", HOUSING_BENEFITS)
        return None
    current = housing.monthly_rent or 0.0
    series = tuple(rents.get(m, current) if tenant else 0.0 for m in window)
    series = (*series, current if tenant else 0.0)
    prov = housing.provenance
    report.inputs.append(_input("statut_occupation_logement", status, prov))
    if tenant:
        note = f"; {len(carried)} months carried back from the current rent" if carried else ""
        report.inputs.append(_input("loyer", f"{current:.2f} €/month{note}", prov))
    if housing.cog_commune is not None:
        report.inputs.append(_input("depcom", housing.cog_commune, prov))
    if housing.zone is not None:
        report.inputs.append(_input("zone_apl", f"zone {housing.zone}", prov))
    return Dwelling(status, series, housing.cog_commune, housing.zone)


def _composition(
    data: PersonData, report: _Report
) -> tuple[HouseholdMember | None, tuple[HouseholdMember, ...]] | None:
    """(partner, children) from the CAF file, else from the tax household, else unknown."""
    if data.household is not None:
        caf = data.household
        others = [c for c in caf.claimants if not _same_person(c, data)]
        partner = others[0] if others else None
        report.inputs.append(
            _input(
                "composition",
                f"{'couple' if partner else 'single'}, {len(caf.children)} children",
                caf.provenance,
            )
        )
        return partner, caf.children
    if data.tax is not None:
        tax = data.tax
        others = [d for d in tax.declarants if not _same_person(d, data)]
        if tax.dependants:
            report.lack("children's birth dates (tax household lists dependants)")
            return None
        partner = others[0] if others else None
        report.inputs.append(
            _input("composition", "couple" if partner else "single", tax.provenance)
        )
        return partner, ()
    report.lack("household composition")
    return None


def _partner_aah(data: PersonData, report: _Report) -> None:
    """The partner's AAH, paid by the CAF and declared nowhere the gateway reads: counted by
    the RSA, the PPA, the CSS and the ASPA, and read by housing aid (an AAH recipient without
    earnings has their resources abated). Taken at its bounds when the partner receives it
    or when their AAH status is unknown; nothing when their resources are not read at all
    (that unknown already spans every resource)."""
    if data.partner_resources is None:
        return
    receiving = data.partner_receiving_aah
    if receiving is None:
        report.bounds.aah_amount("partner ", "partner AAH status")
    elif receiving:
        report.bounds.aah_amount(
            "partner ", "partner AAH amount (paid by the CAF, not in the resource history)"
        )


def adapt(
    data: PersonData,
    month: str,
    *,
    without_history: bool = False,
    benefits: Collection[str] = BENEFITS,
) -> Household:
    """The household of ``data`` for ``month``, with its completeness report, for the
    ``benefits`` asked (an unknown student status is evaluated both ways only for those it
    changes). Raises ``NoHistory`` when no month of resources is known, unless
    ``without_history``: then every month is an unknown (``eligibility.income_bounds``)."""
    window = mo.history(month)
    resources = data.resources
    if resources is None or not {m.month for m in resources.months} & set(window):
        if not without_history:
            raise NoHistory(window[0], window[-1])
        resources = None
    report = _Report()
    civil = data.civil
    report.inputs.append(_input("date_naissance", civil.birth_date.isoformat(), civil.provenance))
    own = _incomes(resources, window, "", report)
    _pension_gross(
        data.retirement,
        civil.birth_date,
        own,
        (*window, month),
        "",
        "retirement record (gross pensions, counted by ASPA)",
        report,
    )
    studies, grants = _studies(data, (*window, month), report)
    seeking = employment.job_seeking(
        data.job_seeker, data.unemployment_payments, own, (*window, month)
    )
    where = employment.provenance_of(data.job_seeker, data.unemployment_payments, resources)
    report.inputs.extend(employment.report(seeking, "", where))
    members = [
        Member(
            "claimant",
            civil.birth_date,
            own,
            student=studies,
            grant=grants,
            job_seeker=seeking.months,
            unemployed_since=seeking.since,
            job_seeker_known=seeking.known,
        )
    ]
    if data.receiving.get("aah"):
        # AAH is paid by the CAF, not declared to GIP-MDS, and OpenFisca cannot simulate it
        # without a disability rate: its amount would be missing from every resource base.
        since = data.aah.since if data.aah is not None else None
        report.bounds.aah_amount(
            "",
            "AAH amount (paid by the CAF, not in the resource history)",
            None if since is None else f"{since.year:04d}-{since.month:02d}",
        )
    composition = _composition(data, report)
    partner, children = composition if composition else (None, ())
    if partner is not None:
        if partner.birth_date is None:
            report.lack("partner birth date")
        else:
            incomes = _incomes(
                data.partner_resources, window, "partner ", report, data.partner_unread
            )
            # The ASPA counts the couple's resources (CSS L815-9): the partner's gross
            # pensions from their CNAV record when it was read, else at their bounds.
            _pension_gross(
                data.partner_retirement,
                partner.birth_date,
                incomes,
                (*window, month),
                "partner ",
                "partner gross pensions (counted by ASPA)",
                report,
            )
            # The partner's France Travail identifier is not known: their unemployment
            # benefits only (see eligibility.employment).
            partnering = employment.job_seeking(None, None, incomes, (*window, month))
            partner_where = (
                None if data.partner_resources is None else data.partner_resources.provenance
            )
            report.inputs.extend(employment.report(partnering, "partner ", partner_where))
            _partner_aah(data, report)
            members.append(
                Member(
                    "partner",
                    partner.birth_date,
                    incomes,
                    job_seeker=partnering.months,
                    unemployed_since=partnering.since,
                    job_seeker_known=False,
                )
            )
    for child in children:
        if child.birth_date is None:
            report.lack("child birth date")
            continue
        # Children's own resources are not fetched; in these benefits they rarely count.
        members.append(Member("child", child.birth_date, {}))
    joint = bool(
        partner is not None and data.tax is not None and data.tax.marital_status in JOINT_FILING
    )
    said = stated.read(data, month, partner is None or joint, report.inputs)
    household = Household(
        month=month,
        months=(*window, month),
        members=tuple(members),
        joint_tax=joint,
        dwelling=_dwelling(data, window, report),
        missing={b: tuple(report.missing.get(b, ())) for b in BENEFITS},
        inputs=tuple(report.inputs),
        housing_aid_paid=said.housing_aid,
        asf_paid=said.asf,
        family_base_n2=said.family_base,
    )
    # Unknowns with bounds: missing resources, then an unknown job-seeker status.
    declared = employment.declare(declare_bounds(household, report.bounds))
    declared = with_unsourced_ceiling(stated.with_unknown_family_base(declared), benefits)
    concerned = tuple(b for b in student_benefits(civil.birth_date, month) if b in benefits)
    if report.student_unknown and concerned:
        declared = with_unknown_student(declared, concerned)  # see eligibility.student_status
    if report.grant_unknown and "aide_logement" in benefits:
        declared = with_unknown_grant(declared)  # last: see eligibility.student_status
    return declared
