"""Reading the dated YAML catalogue, refusing anything doubtful with the file and key path.

Layout of a catalogue directory::

    categories.yaml          categories: [{id, label, fields: [person-view field…]}]
    clients.yaml             clients: [{id, name, groups: [group…]}]
    purposes/<id>.yaml       one purpose per file (see docs/policies.md)
    auditors.yaml            optional: who may audit (:mod:`policies.auditors`)
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from policies.auditors import FILE as AUDITORS_FILE
from policies.auditors import AuditorOrganisation, read_auditors
from policies.catalogue import CITIZEN_GROUP, Catalogue
from policies.model import (
    Category,
    ClientPolicy,
    LawfulGround,
    LegalBasis,
    PartnerAccess,
    Period,
    Provision,
    Purpose,
)
from policies.reading import File, kind

SHIPPED = Path(__file__).resolve().parent / "catalogue"

# Purpose ids are what clients send as ``context.purpose``: same alphabet as the exchange's.
_PURPOSE_ID = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # categories and groups
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PURPOSE_KEYS = (
    "id",
    "label",
    "legal_basis",
    "lawful_ground",
    "clients",
    "groups",
    "retention_days",
    "categories",
)
# Optional: what the purpose may read about the partner the person's household names.
_OPTIONAL_PURPOSE_KEYS = ("partner",)
_PARTNER_KEYS = ("legal_basis", "categories")
_GROUNDS: tuple[str, ...] = get_args(LawfulGround)
_MAX_RETENTION_DAYS = 36500


def load_catalogue(
    directory: Path | None = None, *, known_fields: frozenset[str] | None = None
) -> Catalogue:
    """Load and check a catalogue (default: the one shipped with the package).

    ``known_fields``, when given, are the person-view fields that exist: every category field
    must be one of them and every one of them must have a category.
    """
    root = SHIPPED if directory is None else directory
    contents: dict[str, Any] = {}

    def read(path: Path) -> tuple[File, Any]:
        file = File(root, path)
        contents[file.name] = data = file.read()
        return file, data

    categories = _categories(*read(root / "categories.yaml"), known_fields)
    clients = _clients(*read(root / "clients.yaml"))
    groups = {g for c in clients.values() for g in c.groups} | {CITIZEN_GROUP}
    purposes: dict[str, Purpose] = {}
    for path in sorted((root / "purposes").glob("*.yaml")):
        file, data = read(path)
        purpose = _purpose(file, data, categories, clients, groups)
        if purpose.id in purposes:
            raise file.error("id", f"duplicate purpose {purpose.id!r}")
        purposes[purpose.id] = purpose
    auditors: dict[str, AuditorOrganisation] = {}
    if (root / AUDITORS_FILE).exists():
        auditors = read_auditors(*read(root / AUDITORS_FILE), clients, _basis)
    return Catalogue(purposes, clients, categories, _revision(contents), auditors)


def _categories(file: File, data: Any, known_fields: frozenset[str] | None) -> dict[str, Category]:
    entries = file.mapping(data, "", ("categories",))["categories"]
    if not isinstance(entries, list):
        raise file.error("categories", f"expected a list, got {kind(entries)}")
    out: dict[str, Category] = {}
    owner: dict[str, str] = {}
    for i, entry in enumerate(entries):
        where = f"categories[{i}]"
        item = file.mapping(entry, where, ("id", "label", "fields"))
        cid = file.ident(item["id"], f"{where}.id", _NAME, "category id")
        if cid in out:
            raise file.error(f"{where}.id", f"duplicate category {cid!r}")
        label = file.text(item["label"], f"{where}.label")
        fields = file.names(item["fields"], f"{where}.fields", _FIELD, "field")
        if not fields:
            raise file.error(f"{where}.fields", "a category holds at least one field")
        for j, name in enumerate(fields):
            if known_fields is not None and name not in known_fields:
                raise file.error(f"{where}.fields[{j}]", f"unknown field {name!r}")
            if name in owner:
                raise file.error(
                    f"{where}.fields[{j}]", f"field {name!r} is already in category {owner[name]!r}"
                )
            owner[name] = cid
        out[cid] = Category(cid, label, frozenset(fields))
    # Every field must have a category, or it could never be released nor explained.
    for name in sorted((known_fields or frozenset()) - owner.keys()):
        raise file.error("categories", f"field {name!r} of the person view has no category")
    return out


def _clients(file: File, data: Any) -> dict[str, ClientPolicy]:
    entries = file.mapping(data, "", ("clients",))["clients"]
    if not isinstance(entries, list):
        raise file.error("clients", f"expected a list, got {kind(entries)}")
    out: dict[str, ClientPolicy] = {}
    for i, entry in enumerate(entries):
        where = f"clients[{i}]"
        item = file.mapping(entry, where, ("id", "name", "groups"))
        cid = file.ident(item["id"], f"{where}.id", _CLIENT_ID, "client id")
        if cid in out:
            raise file.error(f"{where}.id", f"duplicate client {cid!r}")
        name = file.text(item["name"], f"{where}.name")
        groups = file.names(item["groups"], f"{where}.groups", _NAME, "group")
        if CITIZEN_GROUP in groups:
            j = groups.index(CITIZEN_GROUP)
            raise file.error(f"{where}.groups[{j}]", f"group {CITIZEN_GROUP!r} is reserved")
        out[cid] = ClientPolicy(cid, name, frozenset(groups))
    return out


def _purpose(
    file: File,
    data: Any,
    categories: dict[str, Category],
    clients: dict[str, ClientPolicy],
    groups: set[str],
) -> Purpose:
    optional: dict[str, Any] = {}
    if isinstance(data, dict):
        optional = {k: data[k] for k in _OPTIONAL_PURPOSE_KEYS if k in data}
        data = {k: v for k, v in data.items() if k not in optional}
    item = file.mapping(data, "", _PURPOSE_KEYS)
    pid = file.ident(item["id"], "id", _PURPOSE_ID, "purpose id")
    if pid != file.path.stem:
        raise file.error("id", f"{pid!r} does not match the file name {file.path.stem!r}")
    ground = item["lawful_ground"]
    if ground not in _GROUNDS:
        raise file.error("lawful_ground", f"expected one of {', '.join(_GROUNDS)}: {ground!r}")
    partner = None
    if "partner" in optional:
        if ground == "consent":
            # The person's consent does not cover another person's data, and the partner's
            # own consent cannot be asked before they are identified.
            raise file.error("partner", "a purpose resting on consent cannot read a partner")
        partner = _partner(file, optional["partner"], categories)
    allowed = file.names(item["clients"], "clients", _CLIENT_ID, "client id")
    for i, cid in enumerate(allowed):
        if cid not in clients:
            raise file.error(f"clients[{i}]", f"unknown client {cid!r}")
    named_groups = file.names(item["groups"], "groups", _NAME, "group")
    for i, group in enumerate(named_groups):
        if group not in groups:
            raise file.error(f"groups[{i}]", f"unknown group {group!r}")
    if not allowed and not named_groups:
        raise file.error("", "no client and no group may use this purpose")
    retention = item["retention_days"]
    if not isinstance(retention, int) or isinstance(retention, bool):
        raise file.error("retention_days", f"expected a whole number, got {kind(retention)}")
    if not 1 <= retention <= _MAX_RETENTION_DAYS:
        raise file.error("retention_days", f"must be between 1 and {_MAX_RETENTION_DAYS}")
    return Purpose(
        id=pid,
        label=file.text(item["label"], "label"),
        legal_basis=_basis(file, item["legal_basis"], "legal_basis"),
        lawful_ground=ground,
        provisions=_provisions(file, item["categories"], categories),
        clients=frozenset(allowed),
        groups=frozenset(named_groups),
        retention_days=retention,
        source=file.name,
        partner=partner,
    )


def _basis(file: File, data: Any, where: str) -> LegalBasis:
    basis = file.mapping(data, where, ("title", "href"))
    title = file.text(basis["title"], f"{where}.title")
    href = file.text(basis["href"], f"{where}.href")
    parts = urlsplit(href)
    if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in href):
        raise file.error(f"{where}.href", f"not an https URL: {href!r}")
    return LegalBasis(title, href)


def _partner(file: File, data: Any, categories: dict[str, Category]) -> PartnerAccess:
    """``partner: {legal_basis, categories: {start: [categories] | null}}``."""
    item = file.mapping(data, "partner", _PARTNER_KEYS)
    return PartnerAccess(
        legal_basis=_basis(file, item["legal_basis"], "partner.legal_basis"),
        provisions=_provisions(file, item["categories"], categories, "partner.categories"),
    )


def _provisions(
    file: File, data: Any, categories: dict[str, Category], at: str = "categories"
) -> tuple[Provision, ...]:
    """``{start: [categories] | null}`` → provisions, each lasting until the next key."""
    if not isinstance(data, dict):
        raise file.error(at, f"expected a mapping of dates, got {kind(data)}")
    if not data:
        raise file.error(at, "at least one dated provision is needed")
    steps: list[tuple[date, frozenset[str] | None]] = []
    for key, value in data.items():
        where = f"{at}.{key}"
        start = _date(file, key, where)
        if steps and start <= steps[-1][0]:
            raise file.error(
                where, f"dates must increase; {start} comes after {steps[-1][0]} (overlap)"
            )
        if value is None:
            if not steps or steps[-1][1] is None:
                raise file.error(where, "null ends a provision, but none is in force here")
            steps.append((start, None))
            continue
        names = file.names(value, where, _NAME, "category")
        for i, name in enumerate(names):
            if name not in categories:
                raise file.error(f"{where}[{i}]", f"unknown category {name!r}")
        steps.append((start, frozenset(names)))
    out = []
    for i, (start, granted) in enumerate(steps):
        if granted is not None:
            end = steps[i + 1][0] if i + 1 < len(steps) else None
            out.append(Provision(Period(start, end), granted))
    return tuple(out)


def _date(file: File, key: Any, where: str) -> date:
    if isinstance(key, str) and _DATE.match(key):
        try:
            return date.fromisoformat(key)
        except ValueError:
            pass
    raise file.error(where, f"not a date (YYYY-MM-DD): {key!r}")


def _revision(contents: dict[str, Any]) -> str:
    # Hashed from the parsed content, so comments and layout do not change the revision.
    digest = hashlib.sha256()
    for name in sorted(contents):
        canonical = json.dumps(contents[name], sort_keys=True, ensure_ascii=False)
        digest.update(f"{name}\0{canonical}\n".encode())
    return digest.hexdigest()[:12]
