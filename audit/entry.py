"""One audit entry, and its canonical JSON: the bytes that are hashed into the chain.

Canonical JSON, format version 1. Every leaf hash ever written depends on these bytes, so the
format is frozen; a change means a new ``v`` and a reader for both.

- One JSON object (RFC 8259), UTF-8, no whitespace outside strings, keys sorted by code
  point (all keys are ASCII).
- Strings are escaped minimally: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other characters below
  U+0020 as ``\\u00xx`` (lowercase hex); every other character is written as itself in UTF-8
  (no ``\\u`` escapes for non-ASCII, ``/`` not escaped). This is what Python's
  ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` writes;
  a test holds the two equal.
- Integers in decimal; no floats anywhere.
- Times are UTC in RFC 3339 with exactly six fractional digits and ``Z``:
  ``2025-07-10T08:30:00.000000Z``.
- Keys: ``agencies`` (sorted list of strings), ``caller``, ``client``, ``denied`` (list of
  ``[field, reason]`` sorted by field, then reason), ``details`` (list of ``[key, value]``
  sorted), ``id``, ``kind``, ``legal_basis`` (``{"href": …, "title": …}`` or ``null``),
  ``object``, ``outcome``, ``person``, ``policy_revision``, ``purpose``, ``recipient``,
  ``released`` (sorted list), ``time``, ``v`` (the integer 1). Absent optional values are
  ``null``; every key is always present.

A golden test pins one entry's bytes and leaf hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import orjson

from audit.errors import InvalidEntry

# automatic_act: something the gateway did for a person on its own (a right renewed, or
# such a renewal reverted), under a purpose, with the person's audit-sector pseudonym only.
Kind = Literal[
    "person_access", "audit_query", "consent_change", "prefill_submission", "automatic_act"
]
Outcome = Literal["released", "partial", "refused", "failed"]
Caller = Literal["client", "citizen"]

KINDS: frozenset[str] = frozenset(get_args(Kind))
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))
CALLERS: frozenset[str] = frozenset(get_args(Caller))
FORMAT_VERSION = 1
_KEYS = frozenset(
    {
        "agencies", "caller", "client", "denied", "details", "id", "kind", "legal_basis",
        "object", "outcome", "person", "policy_revision", "purpose", "recipient", "released",
        "time", "v",
    }
)  # fmt: skip
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# The detail of an entry that corrects an earlier one (its id): the earlier entry said what an
# access would release if every agency answered, written while they were being called; this
# one says what it did release. Readers show the correction in its place (``audit.folding``).
CORRECTS = "corrects"


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with six fractional digits; zero-padded by hand, as ``%Y`` is not on
    every platform."""
    t = value.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def parse_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidEntry("a time is not RFC 3339 UTC with six fractional digits") from None


@dataclass(frozen=True)
class AuditEntry:
    """One access (or audit query, or consent change) as the log keeps it.

    Built from the decision, never from the answer: ``person`` is the audit-sector
    pseudonym, never a name. The sequences are sorted on construction so that equal
    decisions give equal bytes whatever order the caller listed them in.
    """

    id: str
    time: datetime
    kind: Kind
    client: str
    caller: Caller
    purpose: str
    recipient: str | None
    object: str | None
    legal_basis: tuple[str, str] | None
    person: str | None
    released: tuple[str, ...]
    denied: tuple[tuple[str, str], ...]
    agencies: tuple[str, ...]
    outcome: Outcome
    policy_revision: str
    details: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise InvalidEntry("an audit entry's time must be timezone-aware")
        if self.kind not in KINDS:
            raise InvalidEntry(f"unknown audit entry kind {self.kind!r}")
        if self.outcome not in OUTCOMES:
            raise InvalidEntry(f"unknown audit outcome {self.outcome!r}")
        if self.caller not in CALLERS:
            raise InvalidEntry(f"unknown caller type {self.caller!r}")
        if self.legal_basis is not None and len(self.legal_basis) != 2:
            raise InvalidEntry("a legal basis is a (title, href) pair")
        # Frozen: normalise through object.__setattr__, once, at construction.
        put = object.__setattr__
        put(self, "time", self.time.astimezone(UTC))
        if self.legal_basis is not None:
            put(self, "legal_basis", tuple(self.legal_basis))
        put(self, "released", tuple(sorted(self.released)))
        put(self, "denied", tuple(sorted(tuple(pair) for pair in self.denied)))
        put(self, "agencies", tuple(sorted(self.agencies)))
        put(self, "details", tuple(sorted(tuple(pair) for pair in self.details)))

    def canonical(self) -> bytes:
        """The canonical JSON of this entry (format in the module docstring)."""
        basis = self.legal_basis
        document = {
            "agencies": self.agencies,
            "caller": self.caller,
            "client": self.client,
            "denied": self.denied,
            "details": self.details,
            "id": self.id,
            "kind": self.kind,
            "legal_basis": None if basis is None else {"href": basis[1], "title": basis[0]},
            "object": self.object,
            "outcome": self.outcome,
            "person": self.person,
            "policy_revision": self.policy_revision,
            "purpose": self.purpose,
            "recipient": self.recipient,
            "released": self.released,
            "time": format_time(self.time),
            "v": FORMAT_VERSION,
        }
        try:
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            # Lone surrogates, or a value of the wrong type slipped past the annotations.
            raise InvalidEntry("an audit entry holds a value that is not valid text") from None

    @property
    def corrects(self) -> str | None:
        """The id of the entry this one corrects, or None."""
        for key, value in self.details:
            if key == CORRECTS:
                return value
        return None

    @property
    def denials(self) -> int:
        """How many fields were denied, or 1 for a refusal that named none: the count the
        auditors' statistics add up."""
        return len(self.denied) or (1 if self.outcome == "refused" else 0)

    @classmethod
    def from_canonical(cls, data: bytes) -> AuditEntry:
        """The entry these canonical bytes encode; :class:`InvalidEntry` if they are not one.

        Does not check that ``data`` is in canonical form: callers that care compare
        ``entry.canonical() == data`` (``verify`` does, through the leaf hash).
        """
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise InvalidEntry("stored bytes are not JSON") from None
        if not isinstance(document, dict) or set(document) != _KEYS:
            raise InvalidEntry("stored bytes are not an audit entry")
        if document["v"] != FORMAT_VERSION:
            raise InvalidEntry(f"unknown canonical format version {document['v']!r}")
        try:
            return cls(
                id=_text(document["id"]),
                time=parse_time(_text(document["time"])),
                kind=document["kind"],
                client=_text(document["client"]),
                caller=document["caller"],
                purpose=_text(document["purpose"]),
                recipient=_optional(document["recipient"]),
                object=_optional(document["object"]),
                legal_basis=_basis(document["legal_basis"]),
                person=_optional(document["person"]),
                released=_texts(document["released"]),
                denied=tuple(_pair(v) for v in _list(document["denied"])),
                agencies=_texts(document["agencies"]),
                outcome=document["outcome"],
                policy_revision=_text(document["policy_revision"]),
                details=tuple(_pair(v) for v in _list(document["details"])),
            )
        except TypeError:
            raise InvalidEntry("stored bytes are not an audit entry") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidEntry("an audit entry field is not text")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidEntry("an audit entry list is not a list")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in _list(value))


def _optional(value: Any) -> str | None:
    return None if value is None else _text(value)


def _pair(value: Any) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2:
        raise InvalidEntry("an audit entry pair is not a two-item list")
    return _text(value[0]), _text(value[1])


def _basis(value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"href", "title"}:
        raise InvalidEntry("a legal basis is an object with href and title")
    return _text(value["title"]), _text(value["href"])
