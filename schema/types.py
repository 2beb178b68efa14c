"""GraphQL output types of the person view.

Each type mirrors a connector record attribute for attribute, so a resolver hands the record
itself to GraphQL: no copy on the hot path. Every record type carries its ``provenance``.
Closed sets of values are enums whose Python values are the records' own words, so the
record's string is served as the enum's name. A sex other than M or F, which the agencies
do not check for the civil registry's and household members' records, is refused as the
agency's defect (``UPSTREAM_INVALID``) rather than served.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from schema.errors import typed_error
from schema.inputs import Sex


def _sex(value: str | None) -> Sex | None:
    if value is None:
        return None
    try:
        return Sex(value)
    except ValueError:
        raise typed_error("an agency gave a sex other than M or F", "UPSTREAM_INVALID") from None


def _member_sex(root: Any) -> Sex | None:
    return _sex(root.sex)


def _identity_sex(root: Any) -> Sex:
    sex = _sex(root.sex)
    if sex is None:  # pragma: no cover - the civil registry's connector requires it
        raise typed_error("the civil registry gave no sex", "UPSTREAM_INVALID")
    return sex


def _given_names(root: Any) -> list[str]:
    # The CAF and the DGFiP give a member's given names as one string, space-separated.
    return str(root.given_names).split()


@strawberry.enum(description="Who pays the family benefits: the general or the farming regime.")
class FamilyBenefitsRegime(Enum):
    CNAF = strawberry.enum_value(
        "CNAF", description="Caisse nationale des allocations familiales (CAF), general regime."
    )
    MSA = strawberry.enum_value(
        "MSA", description="Mutualité sociale agricole, the farming regime."
    )


@strawberry.enum(description="A benefit whose status the CAF/MSA gives (API Particulier's DSS).")
class FamilyBenefit(Enum):
    RSA = strawberry.enum_value("rsa", description="Revenu de solidarité active.")
    PPA = strawberry.enum_value("ppa", description="Prime d'activité.")
    AAH = strawberry.enum_value("aah", description="Allocation aux adultes handicapés.")
    ASF = strawberry.enum_value("asf", description="Allocation de soutien familial.")


@strawberry.enum(description="Marital status on the income tax return (DGFiP).")
class MaritalStatus(Enum):
    SINGLE = strawberry.enum_value("celibataire", description="Célibataire: single.")
    MARRIED = strawberry.enum_value("marie", description="Marié(e): married.")
    CIVIL_PARTNERSHIP = strawberry.enum_value(
        "pacse", description="Pacsé(e): in a civil solidarity pact (PACS)."
    )
    DIVORCED = strawberry.enum_value("divorce", description="Divorcé(e) or separated: divorced.")
    WIDOWED = strawberry.enum_value("veuf", description="Veuf, veuve: widowed.")


@strawberry.enum(description="Who paid an amount declared to the GIP-MDS.")
class PayerKind(Enum):
    EMPLOYER = strawberry.enum_value("employer", description="An employer (employeur).")
    UNEMPLOYMENT = strawberry.enum_value(
        "unemployment", description="France Travail, paying unemployment benefits."
    )
    PENSION = strawberry.enum_value("pension", description="A pension fund (caisse de retraite).")
    SELF_EMPLOYED = strawberry.enum_value(
        "self_employed", description="The person themselves, as self-employed (indépendant)."
    )


@strawberry.enum(description="What an amount declared to the GIP-MDS is.")
class PaymentNature(Enum):
    SALARY = strawberry.enum_value("salary", description="A salary (salaire).")
    UNEMPLOYMENT_BENEFIT = strawberry.enum_value(
        "unemployment_benefit", description="An unemployment benefit (allocation chômage)."
    )
    PENSION = strawberry.enum_value("pension", description="A pension.")
    SELF_EMPLOYED_INCOME = strawberry.enum_value(
        "self_employed_income",
        description="Self-employed income (revenu indépendant); a micro-entrepreneur's turnover.",
    )


@strawberry.enum(description="The part of a France Travail payment an amount is.")
class UnemploymentPaymentKind(Enum):
    ALLOWANCE = strawberry.enum_value(
        "allowance", description="Unemployment allowances (montant_allocations)."
    )
    AID = strawberry.enum_value("aid", description="Aids (montant_aides).")
    OTHER = strawberry.enum_value("other", description="Other sums (montant_autres).")
    UNSPECIFIED = strawberry.enum_value(
        "unspecified", description="The payment's total, France Travail giving no split."
    )


@strawberry.enum(description="The kind of a pension (CNAV).")
class PensionKind(Enum):
    OWN_RIGHT = strawberry.enum_value(
        "own_right", description="Droit propre: a pension on the person's own career."
    )
    SURVIVOR = strawberry.enum_value(
        "survivor", description="Pension de réversion: a survivor's pension."
    )


@strawberry.enum(description="How the person occupies their home, as the CAF knows it.")
class Occupancy(Enum):
    TENANT = strawberry.enum_value("tenant", description="Locataire: tenant, unfurnished.")
    TENANT_FURNISHED = strawberry.enum_value(
        "tenant_furnished", description="Locataire meublé: tenant of a furnished dwelling."
    )
    OWNER = strawberry.enum_value("owner", description="Propriétaire: owner.")
    FREE_LODGING = strawberry.enum_value(
        "free_lodging", description="Hébergé gratuitement: lodged free of charge."
    )
    HOMELESS = strawberry.enum_value("homeless", description="Sans domicile: no home.")


@strawberry.enum(description="The housing aid the CAF pays.")
class HousingAidKind(Enum):
    APL = strawberry.enum_value("APL", description="Aide personnalisée au logement.")
    ALF = strawberry.enum_value("ALF", description="Allocation de logement familiale.")
    ALS = strawberry.enum_value("ALS", description="Allocation de logement sociale.")


@strawberry.type(description="Where a value comes from and how fresh it is.")
class Provenance:
    agency: str = strawberry.field(
        description="The agency holding the data: CNAF, MSA, CAF, CNAM, CNAV, DGFIP, INSEE "
        "(civil registry), MESRI, CNOUS, GIP-MDS or France Travail."
    )
    source: str = strawberry.field(
        description="The agency endpoint that answered, e.g. "
        "`api_particulier.dss.revenu_solidarite_active`."
    )
    as_of: date = strawberry.field(description="The day the agency's data describes.")
    retrieved_at: datetime = strawberry.field(description="When the gateway received it (UTC).")
    cached: bool = strawberry.field(description="Served from the gateway's cache.")


@strawberry.type(description="A member of a household as the CAF/MSA or the DGFiP names them.")
class HouseholdMember:
    birth_name: str = strawberry.field(description="Nom de naissance: birth name.")
    usage_name: str | None = strawberry.field(
        description="Nom d'usage: the name used, when not the birth name."
    )
    given_names: list[str] = strawberry.field(
        resolver=_given_names, description="Given names (prénoms), in their order."
    )
    birth_date: date | None = strawberry.field(
        description="Birth date; null when the agency gives none or only part of it."
    )
    sex: Sex | None = strawberry.field(
        resolver=_member_sex, description="Sex as the agency records it; null when not given."
    )


@strawberry.type(description="A postal address as the agency wrote it.")
class PostalAddress:
    lines: list[str] = strawberry.field(
        description="The address lines as the agency wrote them (NF Z10-011 order)."
    )
    postal_code: str | None = strawberry.field(description="Code postal, 5 digits.")
    city: str | None = strawberry.field(description="Localité: the town's name.")
    cog_commune: str | None = strawberry.field(
        description="INSEE COG code of the commune (5 characters)."
    )
    country: str | None = strawberry.field(description="The country, as the agency wrote it.")


@strawberry.type(description="Civil status from the civil registry (INSEE).")
class Identity:
    birth_name: str = strawberry.field(description="Nom de naissance: birth name.")
    usage_name: str | None = strawberry.field(
        description="Nom d'usage: the name used, when not the birth name."
    )
    given_names: list[str] = strawberry.field(description="Given names (prénoms), in order.")
    sex: Sex = strawberry.field(resolver=_identity_sex, description="Sex at the civil registry.")
    birth_date: date = strawberry.field(description="Birth date.")
    birth_place: str | None = strawberry.field(
        description="INSEE COG code of the birth commune; null for a person born abroad."
    )
    birth_country: str = strawberry.field(
        description="INSEE COG code of the birth country, 99100 for France."
    )
    death_date: date | None = strawberry.field(
        description="Date of death the registry records; null when none."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="Tax household and its latest income notice (DGFiP).")
class TaxHousehold:
    income_year: int = strawberry.field(description="The year of the incomes taxed (YYYY).")
    reference_tax_income: int = strawberry.field(
        description="Revenu fiscal de référence, in euros."
    )
    tax_shares: float = strawberry.field(description="Nombre de parts: the household's shares.")
    marital_status: MaritalStatus = strawberry.field(description="Situation familiale.")
    dependants: int = strawberry.field(
        description="Nombre de personnes à charge: dependants declared."
    )
    declarants: list[HouseholdMember] = strawberry.field(
        description="The one or two declarants of the return."
    )
    address: PostalAddress = strawberry.field(description="Adresse fiscale: the tax address.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="The tax address known to DGFiP.")
class Address:
    lines: list[str] = strawberry.field(
        description="The address lines above the postcode, as the DGFiP wrote them."
    )
    postal_code: str | None = strawberry.field(description="Code postal, 5 digits.")
    city: str | None = strawberry.field(description="Localité: the town's name.")
    cog_commune: str | None = strawberry.field(
        description="INSEE COG code of the commune (5 characters)."
    )
    country: str | None = strawberry.field(description="The country, as the DGFiP wrote it.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="The CAF/MSA file: family quotient, claimants, children.")
class Household:
    regime: FamilyBenefitsRegime = strawberry.field(description="The fund holding the file.")
    value: int = strawberry.field(
        name="familyQuotient",
        description="Quotient familial, in euros: the household's monthly resources divided "
        "by its shares, as the CAF/MSA computed it.",
    )
    year: int = strawberry.field(description="Year the quotient is for (YYYY).")
    month: int = strawberry.field(description="Month the quotient is for (1 to 12).")
    claimants: list[HouseholdMember] = strawberry.field(
        description="Allocataires: the claimant and their partner, if any."
    )
    children: list[HouseholdMember] = strawberry.field(
        description="The children of the file (enfants)."
    )
    address: PostalAddress | None = strawberry.field(
        description="The file's postal address; null when the agency gives none."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")
    computed_year: int | None = strawberry.field(
        default=None, description="Year the agency computed this quotient (annee_calcul)."
    )
    computed_month: int | None = strawberry.field(
        default=None, description="Month the agency computed this quotient (mois_calcul)."
    )


@strawberry.type(description="One amount paid to the person in a month, as declared (GIP-MDS).")
class Payment:
    payer_siret: str = strawberry.field(description="SIRET of the payer (14 digits).")
    payer_kind: PayerKind = strawberry.field(description="Who the payer is.")
    nature: PaymentNature = strawberry.field(description="What the amount is.")
    net_social: float = strawberry.field(description="Montant net social, in euros.")
    net_taxable: float = strawberry.field(description="Montant net fiscal, in euros.")


@strawberry.type(description="The payments declared for one month (GIP-MDS).")
class MonthlyResources:
    month: str = strawberry.field(description="The month, YYYY-MM.")
    payments: list[Payment] = strawberry.field(description="Every amount declared for it.")

    net_social: float = strawberry.field(
        description="Sum of the month's net social amounts, in euros."
    )
    net_taxable: float = strawberry.field(
        description="Sum of the month's net taxable amounts, in euros."
    )


@strawberry.type(description="Monthly resources per payer (GIP-MDS).")
class Resources:
    months: list[MonthlyResources] = strawberry.field(
        description="Months with a declaration, oldest first."
    )
    missing_months: list[str] = strawberry.field(
        description="Months of the window asked (YYYY-MM) with no declaration."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="A benefit paid by the CAF/MSA.")
class BenefitStatus:
    benefit: FamilyBenefit = strawberry.field(description="Which benefit.")
    receiving: bool = strawberry.field(description="Est bénéficiaire: the person receives it.")
    since: date | None = strawberry.field(description="Date début droit: start of the right.")
    with_increase: bool | None = strawberry.field(
        description="Avec majoration: paid with the single-parent increase (RSA, prime "
        "d'activité); null for the other benefits."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="Complémentaire santé solidaire, as the paying fund states it.")
class CssStatus:
    receiving: bool = strawberry.field(description="The person is covered by the CSS.")
    with_participation: bool | None = strawberry.field(
        description="With a financial participation (true) or free (false); null when unknown."
    )
    since: date | None = strawberry.field(description="Start of the right.")
    until: date | None = strawberry.field(
        description="End of the right; null when the fund does not give it."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="Allocation de solidarité aux personnes âgées (CNAV).")
class AspaStatus:
    receiving: bool = strawberry.field(description="The person receives the ASPA.")
    monthly_amount: float | None = strawberry.field(description="Monthly amount, in euros.")
    since: date | None = strawberry.field(description="Start of the right.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="Housing aid paid by the CAF.")
class HousingAid:
    receiving: bool = strawberry.field(description="The person receives a housing aid.")
    kind: HousingAidKind | None = strawberry.field(description="Which aid; null when none.")
    monthly_amount: float | None = strawberry.field(description="Monthly amount, in euros.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="Job-seeker registration (France Travail).")
class JobSeekerStatus:
    identifier: str = strawberry.field(description="The France Travail identifier.")
    registered: bool = strawberry.field(description="Registered as a job seeker now.")
    registered_since: date | None = strawberry.field(description="Registration date.")
    registered_until: date | None = strawberry.field(
        description="End of the registration; null while registered."
    )
    category_code: int | None = strawberry.field(
        description="The job-seeker category (catégorie de demandeur d'emploi), 1 to 8."
    )
    category_label: str | None = strawberry.field(
        description="That category in France Travail's words."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(
    description="How the person can be reached, as declared to France Travail: a usable "
    "e-mail address and a French mobile number (E.164) only."
)
class Contact:
    email: str | None = strawberry.field(description="A well-formed e-mail address, or null.")
    mobile: str | None = strawberry.field(
        description="A French mobile number in E.164 form (+336…, +337…), or null."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="A higher-education establishment that admitted the person.")
class Admission:
    start: date = strawberry.field(description="First day of the period of study.")
    end: date = strawberry.field(description="Last day of the period of study.")
    enrolled: bool = strawberry.field(
        description="Enrolled (fees settled); false: admitted (pre-registered) only."
    )
    regime_code: str | None = strawberry.field(description="Régime de formation, RF1 to RF7.")
    regime_label: str | None = strawberry.field(description="That régime in the MESRI's words.")
    cog_commune: str | None = strawberry.field(
        description="INSEE COG code of the establishment's commune."
    )
    establishment_uai: str | None = strawberry.field(
        description="The establishment's UAI (unité administrative immatriculée), 8 characters."
    )
    establishment_name: str | None = strawberry.field(description="The establishment's name.")


@strawberry.type(
    description="Student status (MESRI): whether the person is enrolled in higher education "
    "on the reference date. A person the MESRI has no admission for is not a student: "
    "registered false, no admission."
)
class StudentStatus:
    registered: bool = strawberry.field(
        description="An enrolled admission covers the reference date."
    )
    in_initial_training: bool = strawberry.field(
        description="Enrolled in initial training (RF1 to RF3), the sense of 'étudiant' in "
        "social law: not an apprentice nor an adult in continuing training."
    )
    admissions: list[Admission] = strawberry.field(description="Every admission the MESRI has.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.enum(
    description="The échelon of a higher-education grant on social criteria (CNOUS): from "
    "0bis, fees waived, to 7, the highest amount, for the academic year."
)
class GrantEchelon(Enum):
    ECHELON_0_BIS = strawberry.enum_value("0bis", description="Échelon 0bis.")
    ECHELON_1 = strawberry.enum_value("1", description="Échelon 1.")
    ECHELON_2 = strawberry.enum_value("2", description="Échelon 2.")
    ECHELON_3 = strawberry.enum_value("3", description="Échelon 3.")
    ECHELON_4 = strawberry.enum_value("4", description="Échelon 4.")
    ECHELON_5 = strawberry.enum_value("5", description="Échelon 5.")
    ECHELON_6 = strawberry.enum_value("6", description="Échelon 6.")
    ECHELON_7 = strawberry.enum_value("7", description="Échelon 7.")


@strawberry.type(
    description="Higher-education grant on social criteria (CNOUS, statut étudiant "
    "boursier), for one academic year. A person the CNOUS has no grant for holds none: "
    "holder false, regionalProvisional false, the rest null."
)
class StudentGrant:
    holder: bool = strawberry.field(description="The CNOUS pays the person a grant.")
    echelon: GrantEchelon | None = strawberry.field(description="The grant's échelon.")
    regional_provisional: bool = strawberry.field(
        description="A regional grant whose échelon is still provisional."
    )
    start: date | None = strawberry.field(
        description="First day of the academic year the grant is paid from (date de rentrée)."
    )
    months: int | None = strawberry.field(description="Number of months it is paid.")
    establishment_name: str | None = strawberry.field(
        description="Where the person studies, as the CNOUS names it."
    )
    establishment_commune: str | None = strawberry.field(
        description="The commune of that establishment, by name."
    )
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="One amount France Travail paid.")
class UnemploymentPayment:
    date: date = strawberry.field(description="Payment date (date de versement).")
    gross: float = strawberry.field(description="The amount, in euros.")
    kind: UnemploymentPaymentKind = strawberry.field(description="Which part of the payment.")


@strawberry.type(description="Unemployment payments (France Travail), oldest first.")
class UnemploymentPayments:
    identifier: str = strawberry.field(description="The France Travail identifier.")
    payments: list[UnemploymentPayment] = strawberry.field(description="The payments.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="One pension paid (CNAV).")
class PensionItem:
    scheme: str = strawberry.field(description="The pension scheme (régime), e.g. CNAV.")
    kind: PensionKind = strawberry.field(description="Own right or survivor's pension.")
    monthly_gross: float = strawberry.field(description="Monthly gross amount, in euros.")
    monthly_net: float = strawberry.field(description="Monthly net amount, in euros.")
    since: date = strawberry.field(description="Date d'effet: first day it is paid.")


@strawberry.type(description="Pensions paid (CNAV).")
class Pension:
    pensions: list[PensionItem] = strawberry.field(description="Every pension paid.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="Health-insurance attachment and CSS renewal (CNAM).")
class HealthCoverage:
    fund_code: str = strawberry.field(
        description="Code of the health-insurance fund the person belongs to (organisme)."
    )
    fund_label: str = strawberry.field(description="That fund's name.")
    css_receiving: bool = strawberry.field(description="Covered by the CSS.")
    css_with_participation: bool | None = strawberry.field(
        description="CSS with a financial participation (true) or free (false)."
    )
    css_since: date | None = strawberry.field(description="Start of the CSS right.")
    css_renewal_date: date | None = strawberry.field(description="When the CSS is up for renewal.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")


@strawberry.type(description="The rent of one month (CAF).")
class MonthlyRent:
    month: str = strawberry.field(description="The month, YYYY-MM.")
    rent: float = strawberry.field(description="Rent, in euros.")
    charges: float = strawberry.field(description="Charges, in euros.")


@strawberry.type(description="Housing situation known to the CAF.")
class Housing:
    occupancy: Occupancy = strawberry.field(description="Statut d'occupation.")
    monthly_rent: float | None = strawberry.field(description="Monthly rent, in euros.")
    monthly_charges: float | None = strawberry.field(description="Monthly charges, in euros.")
    cog_commune: str | None = strawberry.field(
        description="INSEE COG code of the dwelling's commune."
    )
    zone: int | None = strawberry.field(description="Housing-aid zone: 1, 2 or 3.")
    rent_history: list[MonthlyRent] = strawberry.field(
        description="Rent of each month of the window asked, oldest first."
    )
    aid_receiving: bool = strawberry.field(description="The person receives a housing aid.")
    aid_kind: HousingAidKind | None = strawberry.field(description="Which aid; null when none.")
    aid_monthly: float | None = strawberry.field(description="The aid's monthly amount, in euros.")
    provenance: Provenance = strawberry.field(description="Where this comes from.")
