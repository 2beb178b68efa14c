"""Golden cases: YAML situations stated as record-level facts, with their expected answers.

A file in ``eligibility/golden/`` holds ``cases:``, each with ``name``, ``month``,
``situation`` (what the agencies would say: birth dates, monthly payments by nature, the CAF
file's partner and children, the dwelling) and ``expected`` (per benefit: ``status``, and
``amount`` or ``missing``). In a situation, ``student`` (default false, ``null`` for
unknown) is the MESRI's answer: true is an enrolment in initial training for the academic
years around the month; ``grant`` (default false, ``null`` for unknown) the CNOUS's: true is
a grant paid over the ten months of the academic year holding the month. ``job_seeker`` is
France Travail's answer (absent: the identifier was not given): the registration (``since``,
``until``, ``category``) and the months its allowance (``allowance`` €) was paid for
(``paid``, each paid on the 1st of the next month). ``situation_to_person`` turns a
situation into ``PersonData`` exactly as the connectors would have shaped it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib import resources as files
from typing import Any

import yaml

from connectors.records import (
    Admission,
    BenefitStatus,
    CivilStatus,
    FamilyQuotient,
    HouseholdMember,
    Housing,
    JobSeekerStatus,
    MonthlyRent,
    MonthlyResources,
    Payment,
    Pension,
    PostalAddress,
    Provenance,
    Resources,
    Retirement,
    StudentGrant,
    StudentStatus,
    TaxHousehold,
    UnemploymentPayment,
    UnemploymentPayments,
)
from eligibility import months as mo
from eligibility.model import PersonData

_KINDS = {
    "salary": "employer",
    "unemployment_benefit": "unemployment",
    "pension": "pension",
    "self_employed_income": "self_employed",
}


@dataclass(frozen=True)
class GoldenCase:
    name: str
    month: str
    situation: dict[str, Any]
    expected: dict[str, dict[str, Any]]
    source: str  # the YAML file


def _prov(agency: str, source: str, month: str) -> Provenance:
    year, mon = mo.parse(month)
    as_of = date(year, mon, 1)
    retrieved = datetime(year, mon, 1, 12, tzinfo=timezone.utc)  # noqa: UP017 (readability)
    return Provenance(agency, source, as_of, retrieved)


def _date(value: Any) -> date | None:
    """YAML gives ``date`` for bare dates and ``str`` for quoted ones: accept both."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _member(facts: dict[str, Any], name: str) -> HouseholdMember:
    return HouseholdMember(name, None, name, _date(facts.get("birth_date")), facts.get("sex"))


def _resources(facts: dict[str, Any] | None, month: str) -> Resources | None:
    if facts is None:
        return None
    window = mo.span(mo.shift(month, -int(facts.get("months", 24))), mo.shift(month, -1))
    missing = set(facts.get("missing", ()))
    changes = {str(k): v for k, v in (facts.get("from") or {}).items()}
    payments = facts.get("payments", [])
    months = []
    for m in window:
        if m in missing:
            continue
        for start, later in sorted(changes.items()):
            if m >= start:
                payments = later
        months.append(
            MonthlyResources(
                m,
                tuple(
                    Payment(
                        "00000000000000",
                        _KINDS[p["nature"]],
                        p["nature"],
                        float(p["net_social"]),
                        float(p["net_taxable"]),
                        p.get("category"),
                    )
                    for p in payments
                ),
            )
        )
    return Resources(tuple(months), tuple(sorted(missing)), _prov("GIP-MDS", "gip_mds", month))


def _housing(facts: dict[str, Any] | None, month: str) -> Housing | None:
    if facts is None:
        return None
    rent = facts.get("rent")
    history = int(facts.get("history_months", 0))
    rents = tuple(
        MonthlyRent(m, float(rent), 0.0)
        for m in mo.span(mo.shift(month, -history), mo.shift(month, -1))
        if rent is not None and history
    )
    return Housing(
        occupancy=facts["occupancy"],
        monthly_rent=None if rent is None else float(rent),
        monthly_charges=None,
        cog_commune=facts.get("commune"),
        zone=facts.get("zone"),
        rent_history=rents,
        # The CAF pays a housing aid of an amount the case does not state (the flat rates
        # then read the aid the rules compute) unless it says ``aid_receiving: false`` or
        # gives ``aid_monthly``.
        aid_receiving=bool(facts.get("aid_receiving", True)),
        aid_kind=facts.get("aid_kind"),
        aid_monthly=facts.get("aid_monthly"),
        provenance=_prov("CNAF", "cnaf.logement", month),
    )


def _student(enrolled: bool | None, month: str) -> StudentStatus | None:
    if enrolled is None:
        return None
    year = mo.parse(month)[0]
    admissions = tuple(
        Admission(date(y, 9, 1), date(y + 1, 8, 31), True, "RF1", None, None, None, None)
        for y in range(year - 3, year + 1)
        if enrolled
    )
    provenance = _prov("MESRI", "api_particulier.mesri.statut_etudiant", month)
    return StudentStatus(bool(admissions), bool(admissions), admissions, provenance)


def _grant(paid: bool | None, month: str) -> StudentGrant | None:
    if paid is None:
        return None
    provenance = _prov("CNOUS", "api_particulier.cnous.etudiant_boursier", month)
    if not paid:
        return StudentGrant(False, None, False, None, None, None, None, provenance)
    year, mon = mo.parse(month)
    start = date(year if mon >= 9 else year - 1, 9, 1)
    return StudentGrant(True, "4", False, start, 10, None, None, provenance)


def _job_seeker(
    facts: dict[str, Any] | None, month: str
) -> tuple[JobSeekerStatus | None, UnemploymentPayments | None]:
    if facts is None:
        return None, None
    provenance = _prov("France Travail", "api_particulier.france_travail.statut", month)
    since, until = _date(facts.get("since")), _date(facts.get("until"))
    on = mo.first_day(month)
    registered = since is not None and since <= on and (until is None or on <= until)
    status = JobSeekerStatus(
        "FT", registered, since, until, facts.get("category"), None, provenance
    )
    paid = tuple(
        UnemploymentPayment(
            mo.first_day(mo.shift(str(m), 1)), float(facts["allowance"]), "allowance"
        )
        for m in facts.get("paid", ())
    )
    payments_from = _prov("France Travail", "api_particulier.france_travail.indemnites", month)
    return status, UnemploymentPayments("FT", paid, payments_from)


def _retirement(r: dict[str, Any] | None, month: str) -> Retirement | None:
    if r is None:
        return None
    pensions = tuple(
        Pension(
            "CNAV", "own_right", float(p["gross"]), float(p["net"]), _date(p["since"]) or date.min
        )
        for p in r.get("pensions", ())
    )
    return Retirement(
        pensions, bool(r.get("aspa_receiving", False)), r.get("aspa_monthly"), None,
        _prov("CNAV", "cnav.retraite", month),
    )  # fmt: skip


def situation_to_person(situation: dict[str, Any], month: str) -> PersonData:
    person = situation["person"]
    birth = _date(person["birth_date"]) or date.min
    civil = CivilStatus(
        "CLAIMANT", None, ("Claimant",), person.get("sex", "F"), birth,
        None, "FRANCE", None, _prov("INSEE", "civil", month),
    )  # fmt: skip
    claimants = [_member(person, "CLAIMANT")]
    if "partner" in situation:
        claimants.append(_member(situation["partner"], "PARTNER"))
    children = tuple(_member(c, f"CHILD{i}") for i, c in enumerate(situation.get("children", [])))
    caf = FamilyQuotient(
        "CNAF", 0, *mo.parse(month), tuple(claimants), children, None,
        _prov("CNAF", "api_particulier.quotient_familial", month),
    )  # fmt: skip
    tax = None
    if "marital_status" in situation or "tax" in situation:
        # ``tax: {year, rfr}``: the DGFiP's answer for that income year (default: year N-2,
        # the one the rules read, with no income)
        stated = situation.get("tax", {})
        tax = TaxHousehold(
            int(stated.get("year", mo.parse(month)[0] - 2)), int(stated.get("rfr", 0)), 1.0,
            situation.get("marital_status", "celibataire"), len(children),
            tuple(claimants), PostalAddress((), None, None, None, None),
            _prov("DGFIP", "impots.particulier", month),
        )  # fmt: skip
    partner_tax = None
    if "partner_tax" in situation:
        # ``partner_tax: {year, rfr}``: the partner's own tax household, when the couple files
        # apart (read with their resources).
        own = situation["partner_tax"]
        partner_tax = TaxHousehold(
            int(own.get("year", mo.parse(month)[0] - 2)), int(own.get("rfr", 0)), 1.0,
            "celibataire", 0, tuple(claimants[1:]), PostalAddress((), None, None, None, None),
            _prov("DGFIP", "impots.particulier", month),
        )  # fmt: skip
    job_seeker, payments = _job_seeker(situation.get("job_seeker"), month)
    return PersonData(
        civil=civil,
        resources=_resources(situation.get("resources"), month),
        household=caf if situation.get("caf_file", True) else None,
        tax=tax,
        housing=_housing(situation.get("housing"), month),
        retirement=_retirement(situation.get("retirement"), month),
        receiving=dict(situation.get("receiving", {})),
        partner_resources=_resources(situation.get("partner_resources"), month),
        # Read with the partner's resources: not an AAH recipient unless the case says so
        # (``partner_receiving: {aah: true}``, or null for a status not released).
        partner_receiving_aah=situation.get("partner_receiving", {}).get(
            "aah", False if "partner_resources" in situation else None
        ),
        # The partner's CNAV record, when the case gives it (``partner_retirement``).
        partner_retirement=_retirement(situation.get("partner_retirement"), month),
        partner_tax=partner_tax,
        student=_student(situation.get("student", False), month),
        grant=_grant(situation.get("grant", False), month),
        job_seeker=job_seeker,
        unemployment_payments=payments,
        asf=_asf(situation.get("receiving", {}).get("asf"), month),
    )


def _asf(receiving: bool | None, month: str) -> BenefitStatus | None:
    """The CAF's ASF status when the case gives one (``receiving: {asf: false}``)."""
    if receiving is None:
        return None
    prov = _prov("CNAF", "api_particulier.allocation_soutien_familial", month)
    return BenefitStatus("asf", receiving, None, None, prov)


def load_cases() -> list[GoldenCase]:
    cases: list[GoldenCase] = []
    folder = files.files("eligibility") / "golden"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        document = yaml.safe_load(entry.read_text(encoding="utf-8"))
        for case in document["cases"]:
            cases.append(
                GoldenCase(
                    case["name"],
                    str(case["month"]),
                    case["situation"],
                    case["expected"],
                    entry.name,
                )
            )
    return cases
