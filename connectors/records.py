"""Typed records returned by connectors, each with its provenance.

Records mirror what the agency said, in our own English names; amounts are euros as
``float``, months are ``YYYY-MM`` strings, dates are ``datetime.date``. A connector never
returns a record for another person than the one asked (that is ``UpstreamInvalid``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from connectors.identity import PivotIdentity


@dataclass(frozen=True)
class Provenance:
    agency: str  # the data holder, e.g. "CNAF", "DGFIP", "France Travail"
    source: str  # the endpoint, e.g. "api_particulier.dss.revenu_solidarite_active"
    as_of: date  # the day the agency's data describes
    retrieved_at: datetime  # when the gateway received it (UTC)
    cached: bool = False


# --- CNAF/MSA through API Particulier's DSS hub -------------------------------------------


@dataclass(frozen=True)
class BenefitStatus:
    """RSA, prime d'activité, AAH, ASF: is the person a beneficiary, since when."""

    benefit: str  # "rsa", "ppa", "aah", "asf"
    receiving: bool
    since: date | None
    with_increase: bool | None  # "avec_majoration" (RSA, PPA); None where not applicable
    provenance: Provenance


@dataclass(frozen=True)
class CssStatus:
    """Complémentaire santé solidaire as API Particulier's DSS endpoint states it."""

    receiving: bool
    with_participation: bool | None
    since: date | None
    until: date | None
    provenance: Provenance


@dataclass(frozen=True)
class HouseholdMember:
    birth_name: str
    usage_name: str | None
    given_names: str
    birth_date: date | None
    sex: str | None


@dataclass(frozen=True)
class PostalAddress:
    """A postal address as the agency gave it.

    ``lines`` are the agency's lines as it wrote them (the CAF's whole block, its
    ``code_postal_ville`` last; the DGFiP's lines above the postcode). The structured parts
    keep the CAF's fields apart, in the order of NF Z10-011's lines, where the agency names
    them; an agency that does not leaves them None.
    """

    lines: tuple[str, ...]
    postal_code: str | None
    city: str | None
    cog_commune: str | None
    country: str | None
    recipient: str | None = None  # "destinataire": civility and name, as the agency wrote it
    complement: str | None = None  # "complement_information": apartment, floor, c/o…
    building: str | None = None  # "complement_information_geographique": building, entrance
    street: str | None = None  # "numero_libelle_voie": number and street
    locality: str | None = None  # "lieu_dit": a hamlet, or a special delivery (BP…)


@dataclass(frozen=True)
class FamilyQuotient:
    """Quotient familial with the allocataires, children and address of the CAF file."""

    regime: str  # "CNAF" or "MSA"
    value: int
    year: int
    month: int
    claimants: tuple[HouseholdMember, ...]
    children: tuple[HouseholdMember, ...]
    address: PostalAddress | None
    provenance: Provenance
    # ``annee_calcul``/``mois_calcul``: when the agency computed the quotient of year/month.
    computed_year: int | None = None
    computed_month: int | None = None


# --- France Travail ------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSeekerStatus:
    identifier: str
    registered: bool
    registered_since: date | None
    registered_until: date | None
    category_code: int | None
    category_label: str | None
    provenance: Provenance


@dataclass(frozen=True)
class Contact:
    """How the person can be reached, as they declared it to France Travail. Only what a
    notification can use is kept: a well-formed e-mail address and a French mobile number in
    E.164 form; anything else the agency holds reads as absent."""

    email: str | None
    mobile: str | None  # "+336…" or "+337…"
    provenance: Provenance


@dataclass(frozen=True)
class UnemploymentPayment:
    date: date
    gross: float
    kind: str


@dataclass(frozen=True)
class UnemploymentPayments:
    identifier: str
    payments: tuple[UnemploymentPayment, ...]
    provenance: Provenance


# --- MESRI (higher education) through API Particulier ---------------------------------------

# Régimes de formation that make a person a student ("étudiant") rather than an apprentice or
# an adult in continuing training: formation initiale (RF1), the same without apprenticeship
# (RF2), a resumption of studies without funding (RF3).
INITIAL_TRAINING = frozenset({"RF1", "RF2", "RF3"})


@dataclass(frozen=True)
class Admission:
    """One higher-education establishment that admitted the person for a period of study."""

    start: date
    end: date
    enrolled: bool  # "est_inscrit": fees settled; False: admitted (pre-registered) only
    regime_code: str | None  # "RF1"…"RF7"
    regime_label: str | None
    cog_commune: str | None  # the establishment's commune
    establishment_uai: str | None
    establishment_name: str | None

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class StudentStatus:
    """Whether the person is a student on the day asked, as the MESRI states it.

    ``registered`` is True when an admission with ``enrolled`` covers that day; an answer
    "no student found" (404, code 25003) is a status with ``registered`` False and no
    admission. ``in_initial_training`` narrows ``registered`` to the régimes of initial
    training, the sense of "étudiant" in social law (an apprentice or an adult in continuing
    training is not excluded from the RSA as a student)."""

    registered: bool
    in_initial_training: bool
    admissions: tuple[Admission, ...]
    provenance: Provenance


@dataclass(frozen=True)
class StudentGrant:
    """Whether the person holds a higher-education grant on social criteria, as the CNOUS
    states it (API Particulier, "statut étudiant boursier").

    An answer "no grant holder found" (404, code 26003) is a grant with ``holder`` False and
    nothing else. Otherwise the grant's échelon ("0bis" to "7"), the first day of the academic
    year it is paid from (``start``, "date_rentree") and for how many months (``months``,
    "duree"), and where the person studies. The CNOUS's e-mail address of the student is
    not kept."""

    holder: bool
    echelon: str | None
    regional_provisional: bool  # a regional grant whose échelon is provisional
    start: date | None
    months: int | None
    establishment_name: str | None
    establishment_commune: str | None  # a commune's name, as the CNOUS gives it
    provenance: Provenance

    def paid_in(self, month: str) -> bool:
        """Whether the grant is paid in ``month`` (YYYY-MM): from ``start``'s month for
        ``months`` months."""
        if not self.holder or self.start is None or self.months is None:
            return False
        first = self.start.year * 12 + self.start.month - 1
        asked = int(month[:4]) * 12 + int(month[5:7]) - 1
        return first <= asked < first + self.months

    def known_in(self, month: str) -> bool | None:
        """Whether a grant is paid in ``month`` (YYYY-MM), as far as this answer tells: it
        describes one academic year, the grant's (twelve months from ``start``'s) or, when
        there is none, the year of the day asked (``provenance.as_of``; September to August).
        None for any other month: the answer says nothing of it."""
        asked = int(month[:4]) * 12 + int(month[5:7]) - 1
        if self.holder and self.start is not None:
            first = self.start.year * 12 + self.start.month - 1
            return self.paid_in(month) if first <= asked < first + 12 else None
        day = self.provenance.as_of
        first = (day.year if day.month >= 9 else day.year - 1) * 12 + 8
        return False if first <= asked < first + 12 else None


# --- GIP-MDS resources ---------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    payer_siret: str
    payer_kind: str  # "employer", "unemployment", "pension", "self_employed"
    nature: str  # "salary", "unemployment_benefit", "pension", "self_employed_income"
    net_social: float  # montant net social; a micro-entrepreneur's turnover (see below)
    net_taxable: float  # montant net fiscal; the same turnover for a micro-entrepreneur
    # self_employed_income only: the micro-entrepreneur's activity category, "sales",
    # "services" (other commercial services) or "non_commercial", which sets the flat
    # allowance the law deducts from the turnover; None: not given
    activity_category: str | None = None


@dataclass(frozen=True)
class MonthlyResources:
    month: str  # YYYY-MM
    payments: tuple[Payment, ...]

    @property
    def net_social(self) -> float:
        return round(sum(p.net_social for p in self.payments), 2)

    @property
    def net_taxable(self) -> float:
        return round(sum(p.net_taxable for p in self.payments), 2)


@dataclass(frozen=True)
class Resources:
    # oldest first; months the agency has no data for are absent
    months: tuple[MonthlyResources, ...]
    missing_months: tuple[str, ...]  # months in the asked window with no declaration
    provenance: Provenance


# --- DGFiP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxHousehold:
    income_year: int
    reference_tax_income: int  # revenu fiscal de référence
    tax_shares: float  # nombre de parts
    marital_status: str  # "celibataire", "marie", "pacse", "divorce", "veuf"
    dependants: int
    declarants: tuple[HouseholdMember, ...]
    address: PostalAddress
    provenance: Provenance


# --- CNAV ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pension:
    scheme: str
    kind: str  # "own_right", "survivor"
    monthly_gross: float
    monthly_net: float
    since: date


@dataclass(frozen=True)
class Retirement:
    pensions: tuple[Pension, ...]
    aspa_receiving: bool
    aspa_monthly: float | None
    aspa_since: date | None
    provenance: Provenance


# --- CNAM ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthInsurance:
    fund_code: str
    fund_label: str
    css_receiving: bool
    css_with_participation: bool | None
    css_since: date | None
    css_renewal_date: date | None
    provenance: Provenance


@dataclass(frozen=True)
class CssRenewal:
    """A CSS renewal the CNAM made: the new period, and the id that reverts it."""

    id: str
    start: date
    end: date
    with_participation: bool


# --- Housing (CAF) -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyRent:
    month: str
    rent: float
    charges: float


@dataclass(frozen=True)
class Housing:
    occupancy: str  # "tenant", "tenant_furnished", "owner", "free_lodging", "homeless"
    monthly_rent: float | None
    monthly_charges: float | None
    cog_commune: str | None
    zone: int | None  # housing-aid zone 1, 2 or 3
    rent_history: tuple[MonthlyRent, ...]
    aid_receiving: bool
    aid_kind: str | None  # "APL", "ALF", "ALS"
    aid_monthly: float | None
    provenance: Provenance


# --- Civil registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class CivilStatus:
    birth_name: str
    usage_name: str | None
    given_names: tuple[str, ...]
    sex: str
    birth_date: date
    birth_place: str | None
    birth_country: str
    death_date: date | None
    provenance: Provenance


@dataclass(frozen=True)
class Identification:
    """Who the civil registry identified from a person's traits: their full pivot identity
    (birth country and commune included), and their death when the registry knows it."""

    identity: PivotIdentity
    death_date: date | None
    provenance: Provenance


# --- Event feeds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyEvent:
    id: str
    type: str  # "birth", "move", "job_loss", "resource_drop", "right_expiry"
    occurred_on: date
    subject: dict[str, str | list[str]]  # the pivot identity in API Particulier's names
    details: dict[str, str | float | int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class EventPage:
    events: tuple[AgencyEvent, ...]
    next_cursor: str
