"""GraphQL output types of the person view.

Each type mirrors a connector record attribute for attribute, so a resolver hands the record
itself to GraphQL: no copy on the hot path. Every record type carries its ``provenance``.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry


@strawberry.type(description="Where a value comes from and how fresh it is.")
class Provenance:
    agency: str = strawberry.field(description="The agency holding the data.")
    source: str = strawberry.field(description="The agency endpoint that answered.")
    as_of: date = strawberry.field(description="The day the agency's data describes.")
    retrieved_at: datetime = strawberry.field(description="When the gateway received it (UTC).")
    cached: bool = strawberry.field(description="Served from the gateway's cache.")


@strawberry.type
class HouseholdMember:
    birth_name: str
    usage_name: str | None
    given_names: str
    birth_date: date | None
    sex: str | None


@strawberry.type
class PostalAddress:
    lines: list[str]
    postal_code: str | None
    city: str | None
    cog_commune: str | None
    country: str | None


@strawberry.type(description="Civil status from the civil registry.")
class Identity:
    birth_name: str
    usage_name: str | None
    given_names: list[str]
    sex: str
    birth_date: date
    birth_place: str | None
    birth_country: str
    death_date: date | None
    provenance: Provenance


@strawberry.type(description="Tax household and its latest income notice (DGFiP).")
class TaxHousehold:
    income_year: int
    reference_tax_income: int
    tax_shares: float
    marital_status: str
    dependants: int
    declarants: list[HouseholdMember]
    address: PostalAddress
    provenance: Provenance


@strawberry.type(description="The tax address known to DGFiP.")
class Address:
    lines: list[str]
    postal_code: str | None
    city: str | None
    cog_commune: str | None
    country: str | None
    provenance: Provenance


@strawberry.type(description="The CAF/MSA file: family quotient, claimants, children.")
class Household:
    regime: str
    value: int = strawberry.field(description="Quotient familial.")
    year: int
    month: int
    claimants: list[HouseholdMember]
    children: list[HouseholdMember]
    address: PostalAddress | None
    provenance: Provenance
    computed_year: int | None = strawberry.field(
        default=None, description="Year the agency computed this quotient (annee_calcul)."
    )
    computed_month: int | None = strawberry.field(
        default=None, description="Month the agency computed this quotient (mois_calcul)."
    )


@strawberry.type
class Payment:
    payer_siret: str
    payer_kind: str
    nature: str
    net_social: float = strawberry.field(description="Montant net social.")
    net_taxable: float = strawberry.field(description="Montant net fiscal.")


@strawberry.type
class MonthlyResources:
    month: str
    payments: list[Payment]

    net_social: float = strawberry.field(description="Sum of the month's net social amounts.")
    net_taxable: float = strawberry.field(description="Sum of the month's net taxable amounts.")


@strawberry.type(description="Monthly resources per payer (GIP-MDS).")
class Resources:
    months: list[MonthlyResources]
    missing_months: list[str]
    provenance: Provenance


@strawberry.type(description="A benefit paid by the CAF/MSA.")
class BenefitStatus:
    benefit: str
    receiving: bool
    since: date | None
    with_increase: bool | None
    provenance: Provenance


@strawberry.type(description="Complémentaire santé solidaire, as the paying fund states it.")
class CssStatus:
    receiving: bool
    with_participation: bool | None
    since: date | None
    until: date | None
    provenance: Provenance


@strawberry.type(description="Allocation de solidarité aux personnes âgées (CNAV).")
class AspaStatus:
    receiving: bool
    monthly_amount: float | None
    since: date | None
    provenance: Provenance


@strawberry.type(description="Housing aid paid by the CAF.")
class HousingAid:
    receiving: bool
    kind: str | None
    monthly_amount: float | None
    provenance: Provenance


@strawberry.type
class JobSeekerStatus:
    identifier: str
    registered: bool
    registered_since: date | None
    registered_until: date | None
    category_code: int | None
    category_label: str | None
    provenance: Provenance


@strawberry.type(
    description="How the person can be reached, as declared to France Travail: a usable "
    "e-mail address and a French mobile number (E.164) only."
)
class Contact:
    email: str | None
    mobile: str | None
    provenance: Provenance


@strawberry.type(description="A higher-education establishment that admitted the person.")
class Admission:
    start: date
    end: date
    enrolled: bool = strawberry.field(
        description="Enrolled (fees settled); false: admitted (pre-registered) only."
    )
    regime_code: str | None = strawberry.field(description="Régime de formation, RF1 to RF7.")
    regime_label: str | None
    cog_commune: str | None
    establishment_uai: str | None
    establishment_name: str | None


@strawberry.type(
    description="Student status (MESRI): whether the person is enrolled in higher education "
    "on the reference date. A person the MESRI has no admission for is not a student: "
    "registered false, no admission."
)
class StudentStatus:
    registered: bool
    in_initial_training: bool = strawberry.field(
        description="Enrolled in initial training (RF1 to RF3), the sense of 'étudiant' in "
        "social law: not an apprentice nor an adult in continuing training."
    )
    admissions: list[Admission]
    provenance: Provenance


@strawberry.type
class UnemploymentPayment:
    date: date
    gross: float
    kind: str


@strawberry.type
class UnemploymentPayments:
    identifier: str
    payments: list[UnemploymentPayment]
    provenance: Provenance


@strawberry.type
class PensionItem:
    scheme: str
    kind: str
    monthly_gross: float
    monthly_net: float
    since: date


@strawberry.type(description="Pensions paid (CNAV).")
class Pension:
    pensions: list[PensionItem]
    provenance: Provenance


@strawberry.type(description="Health-insurance attachment and CSS renewal (CNAM).")
class HealthCoverage:
    fund_code: str
    fund_label: str
    css_receiving: bool
    css_with_participation: bool | None
    css_since: date | None
    css_renewal_date: date | None
    provenance: Provenance


@strawberry.type
class MonthlyRent:
    month: str
    rent: float
    charges: float


@strawberry.type(description="Housing situation known to the CAF.")
class Housing:
    occupancy: str
    monthly_rent: float | None
    monthly_charges: float | None
    cog_commune: str | None
    zone: int | None
    rent_history: list[MonthlyRent]
    aid_receiving: bool
    aid_kind: str | None
    aid_monthly: float | None
    provenance: Provenance
