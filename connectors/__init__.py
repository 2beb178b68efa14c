"""Connectors: one module per agency, from HTTP to typed records with provenance.

No GraphQL, no policy: callers decide what may be fetched; connectors fetch it safely
(timeouts, retries, circuit breaker, cache) and validate every answer.
"""

from connectors.api_particulier import ApiParticulier
from connectors.breaker import CircuitBreaker
from connectors.cache import Cache, MemoryCache, NoCache, RedisCache, cache_key
from connectors.civil_registry import CivilRegistry
from connectors.cnaf import BENEFITS, Cnaf
from connectors.cnam import Cnam
from connectors.cnav import Cnav
from connectors.cnous import Cnous
from connectors.context import CallContext
from connectors.dgfip import Dgfip
from connectors.errors import (
    ConnectorError,
    InvalidInput,
    NotFound,
    RateLimited,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.events import EventFeed
from connectors.france_travail import FranceTravail
from connectors.gip_mds import GipMds
from connectors.housing import HousingAgency
from connectors.http import RetryPolicy, StaticToken, TokenSource, UpstreamClient
from connectors.identity import FranceConnectToken, PivotIdentity, Subject, normalise_name
from connectors.mesri import Mesri
from connectors.oauth import ClientCredentials
from connectors.records import (
    Admission,
    AgencyEvent,
    BenefitStatus,
    CivilStatus,
    CssStatus,
    EventPage,
    FamilyQuotient,
    HealthInsurance,
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
from connectors.registry import UPSTREAMS, ConnectorConfig, Connectors, UpstreamConfig
from connectors.transport import RawResponse, Transport

__all__ = [
    "BENEFITS",
    "UPSTREAMS",
    "Admission",
    "AgencyEvent",
    "ApiParticulier",
    "BenefitStatus",
    "Cache",
    "CallContext",
    "CircuitBreaker",
    "CivilRegistry",
    "CivilStatus",
    "ClientCredentials",
    "Cnaf",
    "Cnam",
    "Cnav",
    "Cnous",
    "ConnectorConfig",
    "ConnectorError",
    "Connectors",
    "CssStatus",
    "Dgfip",
    "EventFeed",
    "EventPage",
    "FamilyQuotient",
    "FranceConnectToken",
    "FranceTravail",
    "GipMds",
    "HealthInsurance",
    "HouseholdMember",
    "Housing",
    "HousingAgency",
    "InvalidInput",
    "JobSeekerStatus",
    "MemoryCache",
    "Mesri",
    "MonthlyRent",
    "MonthlyResources",
    "NoCache",
    "NotFound",
    "Payment",
    "Pension",
    "PivotIdentity",
    "PostalAddress",
    "Provenance",
    "RateLimited",
    "RawResponse",
    "RedisCache",
    "Resources",
    "Retirement",
    "RetryPolicy",
    "StaticToken",
    "StudentGrant",
    "StudentStatus",
    "Subject",
    "TaxHousehold",
    "TokenSource",
    "Transport",
    "UnemploymentPayment",
    "UnemploymentPayments",
    "UpstreamClient",
    "UpstreamConfig",
    "UpstreamInvalid",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "cache_key",
    "normalise_name",
]
