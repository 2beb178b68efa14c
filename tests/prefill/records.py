"""A full set of connector records for one person, built with the real dataclasses."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connectors import records as r


def provenance(agency: str, source: str, as_of: date = date(2025, 6, 30)) -> r.Provenance:
    return r.Provenance(agency, source, as_of, datetime(2025, 7, 1, 8, 0, tzinfo=UTC))


def member(given: str, birth: date, sex: str = "F", name: str = "MARTIN") -> r.HouseholdMember:
    return r.HouseholdMember(name, None, given, birth, sex)


ADDRESS = r.PostalAddress(("12 RUE DES LILAS", "APPT 4"), "69003", "LYON", "69383", "FRANCE")


def month(m: str, salary: float = 0.0, unemployment: float = 0.0) -> r.MonthlyResources:
    payments = []
    if salary:
        payments.append(r.Payment("12345678900011", "employer", "salary", salary, salary + 24))
    if unemployment:
        payments.append(
            r.Payment("13000548100010", "unemployment", "unemployment_benefit", unemployment, 0)
        )
    return r.MonthlyResources(m, tuple(payments))


def person_records() -> dict[str, object]:
    """Person-view field → record, as the exchange returns them for one person."""
    tax = r.TaxHousehold(
        2024,
        14200,
        2.5,
        "marie",
        1,
        (member("CLAIRE", date(1988, 3, 14)), member("PAUL", date(1986, 1, 2), "M")),
        ADDRESS,
        provenance("DGFIP", "dgfip.foyer_fiscal", date(2025, 1, 1)),
    )
    retirement = r.Retirement(
        (
            r.Pension("CNAV", "own_right", 700.0, 640.5, date(2020, 4, 1)),
            r.Pension("AGIRC-ARRCO", "survivor", 200.0, 180.25, date(2021, 1, 1)),
        ),
        True,
        310.0,
        date(2022, 1, 1),
        provenance("CNAV", "cnav.retraite"),
    )
    housing = r.Housing(
        "tenant",
        500.0,
        40.0,
        "69383",
        1,
        (r.MonthlyRent("2025-06", 500.0, 40.0),),
        True,
        "APL",
        187.0,
        provenance("CNAF", "housing.logement"),
    )
    caf = provenance("CNAF", "api_particulier.dss.revenu_solidarite_active")
    return {
        "identity": r.CivilStatus(
            "MARTIN",
            "DURAND",
            ("CLAIRE", "MARIE"),
            "F",
            date(1988, 3, 14),
            "69123",
            "99100",
            None,
            provenance("Civil registry", "civil_registry.etat_civil", date(2025, 7, 1)),
        ),
        "address": tax,
        "taxHousehold": tax,
        "household": r.FamilyQuotient(
            "CNAF",
            820,
            2025,
            6,
            (member("CLAIRE", date(1988, 3, 14)), member("PAUL", date(1986, 1, 2), "M")),
            (member("LÉA", date(2015, 9, 1)), member("HUGO", date(2018, 2, 20), "M")),
            ADDRESS,
            provenance("CNAF", "api_particulier.dss.quotient_familial"),
        ),
        "resources": r.Resources(
            (
                month("2025-01", salary=800.0),
                month("2025-02", salary=800.0),
                month("2025-03", salary=800.0),
                month("2025-04", salary=800.0, unemployment=300.0),
                month("2025-05", unemployment=950.5),
                month("2025-06", salary=400.0, unemployment=500.0),
            ),
            (),
            provenance("GIP-MDS", "gip_mds.ressources"),
        ),
        "benefits.rsa": r.BenefitStatus("rsa", False, None, None, caf),
        "benefits.primeActivite": r.BenefitStatus("ppa", True, date(2024, 5, 1), False, caf),
        "benefits.aah": r.BenefitStatus("aah", False, None, None, caf),
        "benefits.asf": r.BenefitStatus("asf", False, None, None, caf),
        "benefits.css": r.CssStatus(False, None, None, None, caf),
        "benefits.aspa": retirement,
        "pension": retirement,
        "benefits.housingAid": housing,
        "housing": housing,
        "employment.status": r.JobSeekerStatus(
            "1234567A",
            True,
            date(2025, 4, 30),
            None,
            1,
            "Catégorie 1",
            provenance("France Travail", "api_particulier.france_travail.statut"),
        ),
        "employment.payments": r.UnemploymentPayments(
            "1234567A",
            (),
            provenance("France Travail", "api_particulier.france_travail.indemnites"),
        ),
        "healthCoverage": r.HealthInsurance(
            "691",
            "CPAM du Rhône",
            False,
            None,
            None,
            None,
            provenance("CNAM", "cnam.assurance_maladie"),
        ),
    }
