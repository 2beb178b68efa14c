"""The core service: plan → decide → fetch → assemble → audit, used by schema/ and proactive/."""

from exchange.caller import PERSON_READ_SCOPE, Caller, Citizen, Client
from exchange.catalogue import FIELDS, SOURCES, Source
from exchange.context import AccessContext, siret_valid
from exchange.decision import ConsentReader, PolicyDecider
from exchange.errors import AccessRefused, ExchangeError, InvalidRequest
from exchange.fetch import CallObserver
from exchange.partial import NotYet
from exchange.partners import PartnerRead, PartnerReader, PartnerRequest, traits_of
from exchange.pseudonyms import AUDIT_SECTOR, CONSENT_SECTOR, Pseudonyms
from exchange.reference import PersonReference, PersonTokens, Subjects
from exchange.service import Exchange, FieldFailure, PartialObserver, PersonRequest, PersonView
from exchange.window import MAX_MONTHS, Window, shift_month

__all__ = [
    "AUDIT_SECTOR",
    "CONSENT_SECTOR",
    "FIELDS",
    "MAX_MONTHS",
    "PERSON_READ_SCOPE",
    "SOURCES",
    "AccessContext",
    "AccessRefused",
    "CallObserver",
    "Caller",
    "Citizen",
    "Client",
    "ConsentReader",
    "Exchange",
    "ExchangeError",
    "FieldFailure",
    "InvalidRequest",
    "NotYet",
    "PartialObserver",
    "PartnerRead",
    "PartnerReader",
    "PartnerRequest",
    "PersonReference",
    "PersonRequest",
    "PersonTokens",
    "PersonView",
    "PolicyDecider",
    "Pseudonyms",
    "Source",
    "Subjects",
    "Window",
    "shift_month",
    "siret_valid",
    "traits_of",
]
