"""DS's GraphQL API v2, a faithful subset: ``demarcheDescriptor``, ``demarche`` (with its
dossiers, paginated) and ``dossier``.

As in DS, a champ's ``__typename`` depends on the query: an address, commune, département,
pays, header section or drop-down champ is a ``TextChamp`` unless the query holds a fragment
on its own type (``... on AddressChamp``), a yes_no is a ``CheckboxChamp`` without a
``YesNoChamp`` fragment, a datetime a ``DateChamp`` without a ``DatetimeChamp`` one. A
brouillon dossier is not visible to the API ("Dossier not found").
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    build_schema,
    graphql_sync,
)

from sandbox.demarches import geo
from sandbox.demarches.ids import row_champ_id, typed_id
from sandbox.demarches.procedures import DESCRIPTOR_TYPENAMES, ChampDef, Procedure
from sandbox.demarches.store import BROUILLON, Dossier, DossierStore
from sandbox.demarches.typing import PARIS
from sandbox.demarches.values import AddressValue, CommuneValue, Place, Row, Value

Info = GraphQLResolveInfo[Any]
SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"
PAGE_MAX = 100
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
# DS's champ kinds whose own type is used only when the query has a fragment on it.
_ON_FRAGMENT = {
    "address": ("AddressChamp", "TextChamp"),
    "communes": ("CommuneChamp", "TextChamp"),
    "departements": ("DepartementChamp", "TextChamp"),
    "pays": ("PaysChamp", "TextChamp"),
    "header_section": ("HeaderSectionChamp", "TextChamp"),
    "drop_down_list": ("DropDownListChamp", "TextChamp"),
    "yes_no": ("YesNoChamp", "CheckboxChamp"),
    "datetime": ("DatetimeChamp", "DateChamp"),
}
_ALWAYS = {
    "checkbox": "CheckboxChamp",
    "date": "DateChamp",
    "integer_number": "IntegerNumberChamp",
    "decimal_number": "DecimalNumberChamp",
    "repetition": "RepetitionChamp",
    "multiple_drop_down_list": "MultipleDropDownListChamp",
    "civilite": "CiviliteChamp",
}


@dataclass
class Context:
    procedures: Mapping[int, Procedure]
    store: DossierStore
    fragments: set[str] = field(default_factory=set)  # the type conditions the query names


def iso(moment: datetime) -> str:
    return moment.astimezone(PARIS).replace(microsecond=0).isoformat()


def _french_date(value: str) -> str:
    day = date.fromisoformat(value[:10])
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def string_value(champ: ChampDef, value: Value | None) -> str | None:
    """A champ's value as text, as DS writes ``stringValue``."""
    if value is None:
        return "" if champ.type in ("yes_no", "checkbox") else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, Place):
        return f"{value.code} – {value.name}" if champ.type == "departements" else value.name
    if isinstance(value, CommuneValue):
        return f"{value.name} ({value.postal_code})" if value.name else value.postal_code
    if isinstance(value, AddressValue):
        return value.label
    if isinstance(value, list):
        return None
    if champ.type == "date" and isinstance(value, str):
        return _french_date(value)
    if champ.type == "datetime" and isinstance(value, str):
        return f"{_french_date(value)} {value[11:16]}"
    return str(value)


@dataclass
class ChampView:
    """One champ of a dossier as the API shows it."""

    champ: ChampDef
    raw: Value | None
    prefilled: bool
    updatedAt: str
    row_id: int | None = None
    dossier: Dossier | None = None

    @property
    def id(self) -> str:
        if self.row_id is None:
            return typed_id("Champ", self.champ.stable_id)
        return row_champ_id(self.champ.stable_id, self.row_id)

    @property
    def champDescriptorId(self) -> str:
        return typed_id("Champ", self.champ.stable_id)

    @property
    def label(self) -> str:
        return self.champ.label

    @property
    def stringValue(self) -> str | None:
        return string_value(self.champ, self.raw)

    @property
    def level(self) -> int:
        return 1

    @property
    def date(self) -> str | None:
        return self.raw[:10] if isinstance(self.raw, str) else None

    @property
    def datetime(self) -> str | None:
        return self.raw if isinstance(self.raw, str) else None

    @property
    def values(self) -> list[str]:
        return list(self.raw) if isinstance(self.raw, tuple) else []

    def _commune(self) -> dict[str, Any] | None:
        if isinstance(self.raw, CommuneValue) and self.raw.code and self.raw.name:
            return {
                "code": self.raw.code,
                "name": self.raw.name,
                "postalCode": self.raw.postal_code,
            }
        if isinstance(self.raw, AddressValue) and self.raw.city_code and self.raw.city_name:
            code, name, postal = self.raw.city_code, self.raw.city_name, self.raw.postal_code
            return {"code": code, "name": name, "postalCode": postal}
        return None

    @property
    def commune(self) -> dict[str, Any] | None:
        return self._commune()

    @property
    def departement(self) -> dict[str, str] | None:
        if isinstance(self.raw, Place) and self.champ.type == "departements":
            return {"code": self.raw.code, "name": self.raw.name}
        commune = self._commune()
        if commune is None:
            return None
        found = next((c for c in geo.COMMUNES if c.code == commune["code"]), None)
        if found is None or found.departement not in geo.DEPARTEMENTS:
            return None
        return {"code": found.departement, "name": geo.DEPARTEMENTS[found.departement]}

    @property
    def pays(self) -> dict[str, str] | None:
        if isinstance(self.raw, Place) and self.champ.type == "pays":
            return {"code": self.raw.code, "name": self.raw.name}
        return None

    @property
    def address(self) -> dict[str, Any] | None:
        raw = self.raw
        if not isinstance(raw, AddressValue) or not (raw.city_code and raw.city_name):
            return None  # DS's address is null until the BAN knows the label
        departement = self.departement or {}
        return {
            "label": raw.label,
            "cityCode": raw.city_code,
            "cityName": raw.city_name,
            "postalCode": raw.postal_code,
            "departmentCode": departement.get("code"),
            "departmentName": departement.get("name"),
            "countryCode": "FR",
            "countryName": "France",
        }

    @property
    def rows(self) -> list[dict[str, Any]]:
        if not isinstance(self.raw, list):
            return []
        out = []
        for row in self.raw:
            if isinstance(row, Row):
                out.append({"id": typed_id("Row", row.row_id), "champs": self._row_champs(row)})
        return out

    @property
    def champs(self) -> list[ChampView]:
        return [c for row in self.rows for c in row["champs"]]

    def _row_champs(self, row: Row) -> list[ChampView]:
        prefilled = self.dossier.prefilled_ids if self.dossier is not None else frozenset()
        return [
            ChampView(
                child,
                row.values.get(child.stable_id),
                child.stable_id in prefilled,
                self.updatedAt,
                row.row_id,
                self.dossier,
            )
            for child in self.champ.children
        ]


def _value(view: ChampView, info: Info) -> object:
    """``value`` in each champ type: a string, a number, a boolean or a civilité."""
    raw, kind = view.raw, info.parent_type.name
    if kind == "CheckboxChamp":
        return raw is True
    if kind == "YesNoChamp":
        return raw if isinstance(raw, bool) else None
    if kind == "IntegerNumberChamp":
        return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
    if kind == "DecimalNumberChamp":
        return float(raw) if isinstance(raw, str) else None
    if kind == "CiviliteChamp":
        return {"M.": "M", "Mme": "Mme"}.get(raw) if isinstance(raw, str) else None
    if kind == "DateChamp":
        return view.datetime if view.champ.type == "datetime" else _midnight(raw)
    if isinstance(raw, Place | CommuneValue):
        return raw.name
    if isinstance(raw, AddressValue):
        return raw.label
    if isinstance(raw, bool | tuple | list):
        return view.stringValue
    return None if raw is None else str(raw)


def _midnight(raw: Value | None) -> str | None:
    if not isinstance(raw, str):
        return None
    return iso(datetime.combine(date.fromisoformat(raw[:10]), datetime.min.time(), PARIS))


def _fragments(document: DocumentNode | None, info: Info) -> set[str]:
    names: set[str] = set()

    def walk(node: Node) -> None:
        if isinstance(node, InlineFragmentNode | FragmentDefinitionNode) and node.type_condition:
            names.add(node.type_condition.name.value)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            for child in selection_set.selections:
                walk(child)

    walk(info.operation)
    for fragment in info.fragments.values():
        walk(fragment)
    return names


def _champ_type(view: ChampView, info: Info, _: object) -> str:
    context: Context = info.context
    if not context.fragments:
        context.fragments = _fragments(None, info) or {""}
    kind = view.champ.type
    if kind in _ON_FRAGMENT:
        own, fallback = _ON_FRAGMENT[kind]
        return own if own in context.fragments else fallback
    return _ALWAYS.get(kind, "TextChamp")


def descriptor(champ: ChampDef) -> dict[str, Any]:
    children = [descriptor(c) for c in champ.children] if champ.type == "repetition" else None
    return {
        "__typename": DESCRIPTOR_TYPENAMES[champ.type],
        "id": typed_id("Champ", champ.stable_id),
        "label": champ.label,
        "description": champ.description,
        "required": champ.required,
        "champDescriptors": children,
        "options": list(champ.options),
        "otherOption": False,
        "level": 1,
    }


def _revision(procedure: Procedure) -> dict[str, Any]:
    return {
        "id": typed_id("ProcedureRevision", procedure.number),
        "champDescriptors": [descriptor(c) for c in procedure.champs],
        "annotationDescriptors": [],
    }


def demarche_descriptor(procedure: Procedure) -> dict[str, Any]:
    return {
        "id": typed_id("Procedure", procedure.number),
        "number": procedure.number,
        "title": procedure.title,
        "description": procedure.organisation,
        "state": "publiee",
        "revision": _revision(procedure),
    }


def dossier_view(procedure: Procedure, dossier: Dossier) -> dict[str, Any]:
    updated = iso(dossier.updated_at)
    depot = iso(dossier.depose_at or dossier.created_at)
    champs = [
        ChampView(
            c,
            dossier.values.get(c.stable_id),
            c.stable_id in dossier.prefilled_ids,
            updated,
            None,
            dossier,
        )
        for c in procedure.champs
    ]
    genre = {"M.": "M", "Mme": "Mme"}.get(dossier.identity.get("genre", ""))
    return {
        "id": typed_id("Dossier", dossier.number),
        "number": dossier.number,
        "state": dossier.state,
        "prefilled": dossier.prefilled,
        "dateDepot": depot,
        "datePassageEnConstruction": depot,
        "dateDerniereModification": updated,
        "dateDerniereModificationChamps": updated,
        "demarche": demarche_descriptor(procedure),
        "demandeur": {
            "__typename": "PersonnePhysique",
            "id": typed_id("Individual", dossier.number),
            "civilite": genre,
            "nom": dossier.identity.get("nom", ""),
            "prenom": dossier.identity.get("prenom", ""),
            "dateDeNaissance": None,
            "email": None,
        },
        "champs": lambda info, id=None: [c for c in champs if id is None or c.id == id],
        "annotations": [],
    }


def _not_found(typename: str) -> GraphQLError:
    return GraphQLError(f"{typename} not found", extensions={"code": "not_found"})


def _procedure(context: Context, number: int, typename: str) -> Procedure:
    procedure = context.procedures.get(number)
    if procedure is None:
        raise _not_found(typename)
    return procedure


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor-{index}".encode()).decode()


def _index(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor).decode().removeprefix("cursor-"))
    except ValueError:
        raise GraphQLError("Invalid cursor", extensions={"code": "bad_request"}) from None


def _since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError("Invalid ISO8601DateTime", extensions={"code": "bad_request"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def _dossiers(procedure: Procedure, context: Context, **args: Any) -> dict[str, Any]:
    dossiers = [d for d in context.store.of_procedure(procedure.number) if d.state != BROUILLON]
    if args.get("state"):
        dossiers = [d for d in dossiers if d.state == args["state"]]
    updated_since, created_since = (
        _since(args.get("updatedSince")),
        _since(args.get("createdSince")),
    )
    if updated_since is not None:
        dossiers = sorted(
            (d for d in dossiers if d.updated_at >= updated_since), key=lambda d: d.updated_at
        )
    if created_since is not None:
        dossiers = [d for d in dossiers if d.created_at >= created_since]
    if args.get("order") == "DESC":
        dossiers.reverse()
    start = _index(args["after"]) + 1 if args.get("after") else 0
    first = min(args.get("first") or PAGE_MAX, PAGE_MAX)
    page = dossiers[start : start + first]
    nodes = [dossier_view(procedure, d) for d in page]
    edges = [{"cursor": _cursor(start + i), "node": n} for i, n in enumerate(nodes)]
    return {
        "nodes": nodes,
        "edges": edges,
        "pageInfo": {
            "hasNextPage": start + first < len(dossiers),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _query_demarche(_: object, info: Info, number: int) -> dict[str, Any]:
    context: Context = info.context
    procedure = _procedure(context, number, "Demarche")
    revision = _revision(procedure)
    return {
        **demarche_descriptor(procedure),
        "activeRevision": revision,
        "publishedRevision": revision,
        "champDescriptors": revision["champDescriptors"],
        "dossiers": lambda info, **args: _dossiers(procedure, info.context, **args),
    }


def _query_descriptor(_: object, info: Info, demarche: dict[str, Any]) -> Any:
    number = demarche.get("number")
    if number is None and demarche.get("id"):
        try:
            kind, _, raw = base64.b64decode(demarche["id"]).decode().partition("-")
            number = int(raw) if kind == "Procedure" else None
        except ValueError:
            number = None
    return demarche_descriptor(_procedure(info.context, number or 0, "DemarcheDescriptor"))


def _query_dossier(_: object, info: Info, number: int) -> dict[str, Any]:
    context: Context = info.context
    dossier = context.store.by_number(number)
    if dossier is None or dossier.state == BROUILLON:
        raise _not_found("Dossier")
    return dossier_view(context.procedures[dossier.procedure], dossier)


def _call_or_get(source: Any, info: Info, **args: Any) -> Any:
    value = (
        source.get(info.field_name)
        if isinstance(source, dict)
        else getattr(source, info.field_name)
    )
    return value(info, **args) if callable(value) else value


def _object(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    kind = schema.type_map[name]
    assert isinstance(kind, GraphQLObjectType)
    return kind


def _interface(schema: GraphQLSchema, name: str) -> GraphQLInterfaceType:
    kind = schema.type_map[name]
    assert isinstance(kind, GraphQLInterfaceType)
    return kind


def _by_typename(value: Any, info: Info, abstract: object) -> str:
    return str(value["__typename"])


def build() -> GraphQLSchema:
    schema = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    query = _object(schema, "Query").fields
    query["demarche"].resolve = _query_demarche
    query["demarcheDescriptor"].resolve = _query_descriptor
    query["dossier"].resolve = _query_dossier
    _object(schema, "Demarche").fields["dossiers"].resolve = _call_or_get
    _object(schema, "Dossier").fields["champs"].resolve = _call_or_get
    _interface(schema, "Champ").resolve_type = _champ_type
    _interface(schema, "ChampDescriptor").resolve_type = _by_typename
    _interface(schema, "Demandeur").resolve_type = _by_typename
    for name, kind in schema.type_map.items():
        if (
            name.endswith("Champ")
            and isinstance(kind, GraphQLObjectType)
            and "value" in kind.fields
        ):
            kind.fields["value"].resolve = _value
    return schema


_SCHEMA = build()


def execute(
    query: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    procedures: Mapping[int, Procedure],
    store: DossierStore,
) -> dict[str, Any]:
    """The answer DS gives: ``{"data": …}`` and ``"errors"`` when any."""
    result = graphql_sync(
        _SCHEMA,
        query,
        variable_values=dict(variables or {}),
        operation_name=operation_name,
        context_value=Context(procedures, store),
    )
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [e.formatted for e in result.errors]
    return out
