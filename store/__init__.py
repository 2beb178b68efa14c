"""The gateway's own data at rest: consents, clients, on SQLite or PostgreSQL (DESIGN §10).

Wiring::

    database = await connect(database_url_for(settings.data_dir, env_url), schema=None)
    await migrate(database)          # idempotent, at every start
    consents = ConsentStore(database)
    ...
    await database.aclose()
"""

from store.clients import ClientRecord, ClientStatus, ClientStore
from store.consents import ConsentStore
from store.cursors import CursorStore
from store.database import Database, connect, database_url_for
from store.documents import DocumentNotFound, DocumentStore, TrustedDocument, document_hash
from store.dossiers import DossierLink, DossierNotFound, DossierStatus, DossierStore
from store.errors import (
    ClientExists,
    ClientNotFound,
    ConsentNotFound,
    InvalidRecord,
    StoreError,
    StoreUnavailable,
)
from store.grants import Grant, GrantNotFound, GrantStatus, GrantStore
from store.locks import LockHeld, exclusive
from store.migration import head_revision, migrate
from store.offers import InvalidTransition, Offer, OfferNotFound, OfferStatus, OfferStore
from store.outbox import Message, OutboxStore
from store.procedures import ProcedureNotFound, ProcedureRecord, ProcedureStore
from store.renewals import Renewal, RenewalNotFound, RenewalStatus, RenewalStore
from store.sessions import SessionStore, StoredSession
from store.submissions import StoredSubmission, SubmissionStore

__all__ = [
    "ClientExists",
    "ClientNotFound",
    "ClientRecord",
    "ClientStatus",
    "ClientStore",
    "ConsentNotFound",
    "ConsentStore",
    "CursorStore",
    "Database",
    "DocumentNotFound",
    "DocumentStore",
    "DossierLink",
    "DossierNotFound",
    "DossierStatus",
    "DossierStore",
    "Grant",
    "GrantNotFound",
    "GrantStatus",
    "GrantStore",
    "InvalidRecord",
    "InvalidTransition",
    "LockHeld",
    "Message",
    "Offer",
    "OfferNotFound",
    "OfferStatus",
    "OfferStore",
    "OutboxStore",
    "ProcedureNotFound",
    "ProcedureRecord",
    "ProcedureStore",
    "Renewal",
    "RenewalNotFound",
    "RenewalStatus",
    "RenewalStore",
    "SessionStore",
    "StoreError",
    "StoreUnavailable",
    "StoredSession",
    "StoredSubmission",
    "SubmissionStore",
    "TrustedDocument",
    "connect",
    "database_url_for",
    "document_hash",
    "exclusive",
    "head_revision",
    "migrate",
]
