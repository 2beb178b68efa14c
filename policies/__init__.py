"""Purposes, clients, field categories and consent: the policy catalogue and its decisions.

Pure: the only I/O is reading the catalogue's YAML files, and dates are always passed in.
"""

from policies.auditors import AuditorOrganisation
from policies.catalogue import CITIZEN_GROUP, Catalogue
from policies.engine import Caller, Verdict, decide, needs_consents, usable_purposes
from policies.errors import CatalogueError, PolicyError, UnknownField
from policies.loader import SHIPPED, load_catalogue
from policies.model import (
    Category,
    ClientPolicy,
    Consent,
    Decision,
    DenialCode,
    Effect,
    LawfulGround,
    LegalBasis,
    PartnerAccess,
    Period,
    Provision,
    Purpose,
)
from policies.partner import decide_partner

__all__ = [
    "CITIZEN_GROUP",
    "SHIPPED",
    "AuditorOrganisation",
    "Caller",
    "Catalogue",
    "CatalogueError",
    "Category",
    "ClientPolicy",
    "Consent",
    "Decision",
    "DenialCode",
    "Effect",
    "LawfulGround",
    "LegalBasis",
    "PartnerAccess",
    "Period",
    "PolicyError",
    "Provision",
    "Purpose",
    "UnknownField",
    "Verdict",
    "decide",
    "decide_partner",
    "load_catalogue",
    "needs_consents",
    "usable_purposes",
]
