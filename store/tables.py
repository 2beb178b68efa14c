"""The tables, defined once with SQLAlchemy Core.

The metadata carries no schema: on PostgreSQL the engine's ``schema_translate_map`` puts every
table in the configured schema at run time, so tests (one schema per run) and production share
these definitions. Migrations under ``migrations/versions`` are frozen snapshots and do not
import this module; a change here goes with a new revision.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both backends.

    SQLite has no time zone type: it stores the UTC wall time and hands back a naive value,
    which we mark as UTC. PostgreSQL's ``timestamptz`` comes back in the session's zone, which
    we bring back to UTC so that equal instants compare and print alike.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive time is ambiguous once stored; refuse it rather than guess a zone.
            raise ValueError("naive datetime: pass a timezone-aware time")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Categories(TypeDecorator[frozenset[str]]):
    """A set of category ids as a sorted JSON list: stable text, and commas stay legal."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: frozenset[str] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(sorted(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> frozenset[str] | None:
        return None if value is None else frozenset(json.loads(value))


metadata = MetaData()

consents = Table(
    "consents",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person", Text, nullable=False),  # the consent-sector pseudonym, never a name
    Column("client_id", Text, nullable=True),
    Column("purpose", Text, nullable=True),
    Column("categories", Categories, nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "(client_id IS NULL) <> (purpose IS NULL)",
        name="ck_consents_one_grantee",
    ),
    Index("ix_consents_person", "person"),
)


class JSONText(TypeDecorator[Any]):
    """A JSON value as canonical text (sorted keys): what the person typed, kept as given."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


prefill_submissions = Table(
    "prefill_submissions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person", Text, nullable=False),  # the prefill-sector pseudonym, never a name
    Column("client_id", Text, nullable=False),
    Column("form", Text, nullable=False),
    Column("access_id", Text, nullable=False),  # the audit entry of the prefill it answers
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("confirmed", JSONText, nullable=False),
    Column("corrections", JSONText, nullable=False),
    Column("provided", JSONText, nullable=False),
    Index("ix_prefill_submissions_person", "person"),
)

event_cursors = Table(
    "event_cursors",
    metadata,
    Column("feed", Text, primary_key=True),  # the agency feed, e.g. "gip_mds"
    Column("cursor", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# At-least-once feeds: an event seen twice (a crash between handling and moving the cursor)
# is recognised here and not handled again.
processed_events = Table(
    "processed_events",
    metadata,
    Column("feed", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("person", Text, primary_key=True),  # the proactive-sector pseudonym
    Column("opted_out_at", UTCDateTime, nullable=False),
)

# Lifecycle: detected → notified → opened → applied | declined | expired | obsolete.
offers = Table(
    "offers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person", Text, nullable=False),  # the proactive-sector pseudonym, never a name
    Column("benefit", Text, nullable=False),
    Column("month", Text, nullable=False),
    Column("campaign", Text, nullable=False),
    Column("territory", Text, nullable=True),  # département code, for reporting
    Column("monthly_amount", Float, nullable=True),
    Column("evidence", JSONText, nullable=False),
    Column("status", Text, nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("notified_at", UTCDateTime, nullable=True),
    Column("opened_at", UTCDateTime, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    # Why an offer became obsolete (job_found, birth, move, death, granted); else null.
    Column("obsolete_reason", Text, nullable=True),
    UniqueConstraint("person", "benefit", "month", name="uq_offers_person_benefit_month"),
    Index("ix_offers_person_benefit", "person", "benefit"),
    Index("ix_offers_campaign", "campaign"),
)

# Transactional outbox: a notification is written with its offer, then delivered (and
# retried) by a dispatcher; the idempotency key makes a replay harmless.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Text, primary_key=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("offer_id", Text, nullable=True),
    Column("channel", Text, nullable=False),  # email, sms, letter
    Column("address", Text, nullable=False),  # where to: e-mail, phone number, postal lines
    Column("template", Text, nullable=False),
    Column("payload", JSONText, nullable=False),
    Column("status", Text, nullable=False),  # pending, sent, failed (will retry), dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

# Automatic renewals of a right (the CSS): one per person, benefit and end date renewed, so a
# rerun finds the renewal already made; a revert keeps the row, marked reverted.
renewals = Table(
    "renewals",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person", Text, nullable=False),  # the proactive-sector pseudonym, never a name
    Column("benefit", Text, nullable=False),
    Column("agency_renewal_id", Text, nullable=False),
    Column("previous_end", Date, nullable=False),
    Column("new_end", Date, nullable=False),
    Column("status", Text, nullable=False),  # renewed, reverted
    Column("renewed_at", UTCDateTime, nullable=False),
    Column("reverted_at", UTCDateTime, nullable=True),
    Column("campaign", Text, nullable=False),
    Column("audit_id", Text, nullable=True),  # the audit entry of the renewal
    # The person's audit-sector pseudonym: the revert's audit entry names them as the
    # renewal's did (the renewal's entry already ties its id to that pseudonym).
    Column("audit_person", Text, nullable=True),
    UniqueConstraint("person", "benefit", "previous_end", name="uq_renewals_person_benefit_end"),
    Index("ix_renewals_campaign", "campaign"),
)

# API clients: who may ask the gateway for a token. Only a hash of each secret is kept.
clients = Table(
    "clients",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),  # the organisation, as shown to operators
    Column("scopes", Categories, nullable=False),  # a sorted JSON list of scope tokens
    Column("sector", Text, nullable=False),  # the pseudonym sector of its handles
    Column("audience", Text, nullable=True),
    Column("secret_hash", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the secret last changed (None: not since the client was registered or imported).
    Column("secret_rotated_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('active', 'disabled')", name="ck_clients_status"),
)

# One row: bumped in the transaction of every change to ``clients``, so that each replica
# knows with one cheap read whether the registry it holds is still the current one.
clients_version = Table(
    "clients_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("id = 1", name="ck_clients_version_one_row"),
)

# Pages' server-side sessions (auditor console, citizen space). The browser holds only a
# random id; its SHA-256 is the key here, so a copy of this table opens no session.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("data", JSONText, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_expires_at", "expires_at"),
)

# The démarches-simplifiées procedures registered for our forms: the mapping file as
# validated, and the procedure's champ descriptors it was validated against.
ds_procedures = Table(
    "ds_procedures",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("path", Text, nullable=False),  # DS's /commencer/<path>
    Column("form", Text, nullable=False),
    Column("mapping", JSONText, nullable=False),
    Column("champs", JSONText, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Index("ix_ds_procedures_form", "form"),
)

# The dossiers the gateway created on DS, by DS's dossier number: whose it is (a pseudonym,
# and the identity sealed by the caller), and how far its submission was handled.
ds_dossiers = Table(
    "ds_dossiers",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("procedure", Integer, nullable=False),
    Column("form", Text, nullable=False),
    Column("offer_id", Text, nullable=True),
    Column("person", Text, nullable=False),  # a pseudonym, never a name
    Column("sealed", Text, nullable=False),  # opaque: sealed by the caller, bound to the row
    Column("access_id", Text, nullable=False),  # the audit entry of the prefill it carries
    Column("status", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("outcome", JSONText, nullable=True),  # what processing the submission gave
    # The form fields the dossier was created with a value for (None: recorded before 0012).
    Column("sent", JSONText, nullable=True),
    CheckConstraint(
        "status IN ('created', 'submitted', 'processed', 'failed', 'rejected')",
        name="ck_ds_dossiers_status",
    ),
    Index("ix_ds_dossiers_status_updated", "status", "updated_at"),
    Index("ix_ds_dossiers_expires_at", "expires_at"),
    Index("ix_ds_dossiers_person", "person"),
)

# A campaign's plan: its persons split into batches that any worker may run. The persons are
# sealed (bound to the campaign and batch number); a broker's message names only the campaign
# and the batch number. A batch is pending until a run stored its counts and marked it done.
campaign_batches = Table(
    "campaign_batches",
    metadata,
    Column("campaign", Text, primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("kind", Text, nullable=False),  # detection, renewal
    Column("parameters", JSONText, nullable=False),  # benefit, month, recipient…
    Column("persons", Integer, nullable=False),  # how many persons the batch holds
    Column("sealed", Text, nullable=False),  # the persons, sealed, bound to the row
    Column("state", Text, nullable=False),  # pending, done
    Column("attempts", Integer, nullable=False),
    Column("summary", JSONText, nullable=True),  # the batch's counts, once done
    Column("last_error", Text, nullable=True),  # the kind of the last failure, never a person
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    CheckConstraint("kind IN ('detection', 'renewal')", name="ck_campaign_batches_kind"),
    CheckConstraint("state IN ('pending', 'done')", name="ck_campaign_batches_state"),
    Index("ix_campaign_batches_state", "campaign", "state"),
)

# Rights granted automatically (the free CSS of a new RSA recipient): one per person, benefit
# and cause day, so a rerun finds the grant already made; a revert keeps the row, marked.
grants = Table(
    "grants",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person", Text, nullable=False),  # the proactive-sector pseudonym, never a name
    Column("benefit", Text, nullable=False),
    Column("cause", Text, nullable=False),  # the event that opened it, e.g. rsa_granted
    Column("cause_on", Date, nullable=False),  # the day of that event
    Column("agency_grant_id", Text, nullable=False),  # what the paying agency withdraws it by
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("status", Text, nullable=False),  # granted, reverted, closed
    Column("granted_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),  # reverted or closed at
    Column("campaign", Text, nullable=False),
    Column("audit_id", Text, nullable=True),  # the audit entry of the grant
    Column("audit_person", Text, nullable=True),  # the person's audit-sector pseudonym
    UniqueConstraint("person", "benefit", "cause_on", name="uq_grants_person_benefit_cause"),
    Index("ix_grants_campaign", "campaign"),
)

# Trusted documents: the GraphQL documents each client may run (an allow-list per client,
# keyed by the document's GraphQL-over-HTTP identifier, ``sha256:<hex>``). A revoked
# document keeps its row, marked, so that the list says what was allowed and until when.
# Every change bumps ``clients_version``: what a client may run is part of its registration.
trusted_documents = Table(
    "trusted_documents",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("hash", Text, primary_key=True),  # sha256:<hex of the UTF-8 text>
    Column("text", Text, nullable=False),
    Column("name", Text, nullable=True),  # the operation's name, or the manifest's key
    Column("registered_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
