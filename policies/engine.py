"""The decision engine: (client, purpose, consents, date) → a decision for every asked field.

Pure and total: no I/O, no clock, no exception for a refused request; every asked field gets
a ``Decision``, denied unless a rule below allows it. The rules, in order (docs/policies.md):

    purpose.unknown             the purpose is not in the catalogue             request denied
                                (the reason names the purposes the caller may use that day)
    purpose.not_in_force        no provision of the purpose covers ``on``        request denied
    purpose.client_not_allowed  the client (or a citizen) may not use it         request denied
    purpose.allowed             the request may go on, field by field
    field.unknown               the field belongs to no category                 denied
    field.outside_purpose       its category is not in the provision on ``on``   denied
    field.purpose_grant         public task / legal obligation: the purpose grants it
    field.consent               consent ground: an active, matching consent covers it
    field.consent_required      consent ground, no such consent                  denied

Everything that does not depend on the request's consents is computed once per catalogue
(one table per purpose provision), so a decision is a handful of dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from weakref import WeakKeyDictionary

from policies.catalogue import Catalogue
from policies.model import Consent, Decision, Purpose

Caller = Literal["client", "citizen"]


@dataclass(frozen=True)
class Verdict:
    request: Decision
    fields: Mapping[str, Decision]
    # An unknown purpose: the purposes the caller may use on the request's date, for the
    # client's error (``usable_purposes``); None otherwise.
    valid_purposes: tuple[str, ...] | None = None

    @property
    def released(self) -> frozenset[str]:
        return frozenset(f for f, d in self.fields.items() if d.effect == "allow")


@dataclass(frozen=True)
class _Stage:
    """One provision of one purpose, with its decisions made in advance."""

    start: date
    end: date | None
    admitted: Decision
    # Every catalogue field whose decision needs no consent: granted or outside the purpose.
    settled: Mapping[str, Decision]
    # Consent purposes only: field → category, for the fields inside the provision.
    awaiting: Mapping[str, str]
    consent_required: Mapping[str, Decision]  # category → denial


@dataclass(frozen=True)
class _Table:
    purpose: Purpose
    stages: tuple[_Stage, ...]
    users: frozenset[str]
    citizens: bool
    unknown_field: Decision

    def stage_on(self, on: date) -> _Stage | None:
        for stage in self.stages:
            if stage.start <= on and (stage.end is None or on < stage.end):
                return stage
        return None


_TABLES: WeakKeyDictionary[Catalogue, Mapping[str, _Table]] = WeakKeyDictionary()


def decide(
    catalogue: Catalogue,
    *,
    client_id: str,
    caller: Caller,
    purpose_id: str,
    fields: frozenset[str],
    consents: Sequence[Consent],
    on: date,
) -> Verdict:
    """Decide every field of ``fields`` for one request.

    ``consents`` are the consents of the person the request is about (the caller's store
    lookup); they are only read for purposes whose lawful ground is consent.
    """
    revision = catalogue.revision
    table = _tables(catalogue).get(purpose_id)
    if table is None:
        valid = usable_purposes(catalogue, client_id=client_id, caller=caller, on=on)
        why = (
            f"purpose {purpose_id!r} is not in the policy catalogue; "
            f"the purposes this caller may use: {', '.join(valid) or 'none'}"
        )
        denied = Decision("deny", "purpose.unknown", (why,), None, revision)
        return Verdict(denied, dict.fromkeys(fields, denied), valid)
    stage = table.stage_on(on)
    if stage is None:
        why = f"purpose {purpose_id!r} is not in force on {on.isoformat()}"
        return _refused(fields, Decision("deny", "purpose.not_in_force", (why,), None, revision))
    if not (table.citizens if caller == "citizen" else client_id in table.users):
        who = "a citizen" if caller == "citizen" else f"client {client_id!r}"
        why = f"{who} may not use purpose {purpose_id!r}"
        rule = "purpose.client_not_allowed"
        return _refused(fields, Decision("deny", rule, (why,), None, revision))
    settled = stage.settled
    if not stage.awaiting:
        unknown = table.unknown_field
        return Verdict(stage.admitted, {f: settled.get(f, unknown) for f in fields})
    return Verdict(stage.admitted, _by_consent(table, stage, client_id, fields, consents, on))


def usable_purposes(
    catalogue: Catalogue, *, client_id: str, caller: Caller, on: date | None = None
) -> tuple[str, ...]:
    """The ids of the purposes the caller may use, sorted: those listing the client (by id
    or group) or, for a citizen, the citizens' group; with ``on``, only those in force that
    day (as ``decide`` would admit them)."""
    return tuple(
        pid
        for pid, table in sorted(_tables(catalogue).items())
        if (table.citizens if caller == "citizen" else client_id in table.users)
        and (on is None or table.stage_on(on) is not None)
    )


def needs_consents(catalogue: Catalogue, purpose_id: str) -> bool:
    """Whether deciding for this purpose reads consents (callers skip the store otherwise)."""
    purpose = catalogue.purposes.get(purpose_id)
    return purpose is not None and purpose.lawful_ground == "consent"


def _refused(fields: frozenset[str], request: Decision) -> Verdict:
    return Verdict(request, dict.fromkeys(fields, request))


def _by_consent(
    table: _Table,
    stage: _Stage,
    client_id: str,
    fields: frozenset[str],
    consents: Sequence[Consent],
    on: date,
) -> dict[str, Decision]:
    purpose = table.purpose
    # category → the consent that covers it; the first active, matching one is named.
    covering: dict[str, Consent] = {}
    for consent in consents:
        if consent.active(on) and (consent.client_id == client_id or consent.purpose == purpose.id):
            for category in consent.categories:
                covering.setdefault(category, consent)
    allowed: dict[str, Decision] = {}
    out: dict[str, Decision] = {}
    for f in fields:
        decision = stage.settled.get(f)
        if decision is None:
            cid = stage.awaiting.get(f)
            if cid is None:
                decision = table.unknown_field
            elif (given := covering.get(cid)) is None:
                decision = stage.consent_required[cid]
            else:
                decision = allowed.get(cid) or allowed.setdefault(
                    cid, _consented(table, cid, given)
                )
        out[f] = decision
    return out


def _consented(table: _Table, category: str, consent: Consent) -> Decision:
    purpose = table.purpose
    why = f"consent {consent.id!r} covers category {category!r} for purpose {purpose.id!r}"
    return Decision(
        "allow", "field.consent", (why,), purpose.legal_basis, table.unknown_field.policy_revision
    )


def _tables(catalogue: Catalogue) -> Mapping[str, _Table]:
    tables = _TABLES.get(catalogue)
    if tables is None:
        tables = _TABLES[catalogue] = {
            pid: _table(catalogue, purpose) for pid, purpose in catalogue.purposes.items()
        }
    return tables


def _table(catalogue: Catalogue, purpose: Purpose) -> _Table:
    revision = catalogue.revision
    pid = purpose.id
    basis = purpose.legal_basis
    unknown = Decision(
        "deny",
        "field.unknown",
        (f"the field belongs to no category, so purpose {pid!r} cannot release it",),
        None,
        revision,
    )
    stages = []
    for provision in purpose.provisions:
        start = provision.period.start.isoformat()
        admitted = Decision(
            "allow",
            "purpose.allowed",
            (f"purpose {pid!r} is in force (provision from {start}) for this caller",),
            basis,
            revision,
        )
        settled: dict[str, Decision] = {}
        awaiting: dict[str, str] = {}
        required: dict[str, Decision] = {}
        for category in catalogue.categories.values():
            cid = category.id
            if cid not in provision.categories:
                why = f"purpose {pid!r} does not release category {cid!r} (provision from {start})"
                outside = Decision("deny", "field.outside_purpose", (why,), None, revision)
                settled.update(dict.fromkeys(category.fields, outside))
            elif purpose.lawful_ground == "consent":
                awaiting.update(dict.fromkeys(category.fields, cid))
                why = f"purpose {pid!r} needs the person's consent for category {cid!r}"
                required[cid] = Decision(
                    "deny", "field.consent_required", (why,), None, revision, "CONSENT_REQUIRED"
                )
            else:
                why = f"purpose {pid!r} grants category {cid!r} ({basis.title})"
                granted = Decision("allow", "field.purpose_grant", (why,), basis, revision)
                settled.update(dict.fromkeys(category.fields, granted))
        stages.append(
            _Stage(
                provision.period.start, provision.period.end, admitted, settled, awaiting, required
            )
        )
    users = frozenset(c for c in catalogue.clients if catalogue.client_may_use(c, pid))
    return _Table(purpose, tuple(stages), users, catalogue.citizen_may_use(pid), unknown)
