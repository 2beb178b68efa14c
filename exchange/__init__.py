"""The core service: plan → decide → fetch → assemble → audit, used by schema/ and proactive/."""

from exchange.catalogue import FIELDS, SOURCES, Source, Subjects
from exchange.context import AccessContext, siret_valid
from exchange.decision import (
    PERSON_READ_SCOPE,
    Client,
    Decider,
    Decision,
    LegalBasis,
    ScopeDecider,
)
from exchange.errors import AccessRefused, ExchangeError, InvalidRequest
from exchange.fetch import CallObserver
from exchange.service import Exchange, FieldFailure, PersonRequest, PersonView
from exchange.window import MAX_MONTHS, Window, shift_month

__all__ = [
    "FIELDS",
    "MAX_MONTHS",
    "PERSON_READ_SCOPE",
    "SOURCES",
    "AccessContext",
    "AccessRefused",
    "CallObserver",
    "Client",
    "Decider",
    "Decision",
    "Exchange",
    "ExchangeError",
    "FieldFailure",
    "InvalidRequest",
    "LegalBasis",
    "PersonRequest",
    "PersonView",
    "ScopeDecider",
    "Source",
    "Subjects",
    "Window",
    "shift_month",
    "siret_valid",
]
