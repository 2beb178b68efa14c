"""The démarches-simplifiées prefill payload, through a procedure's mapping file.

A DS procedure names its fields (champs) with opaque ids, base64 of ``Champ-<number>``
("Q2hhbXAtMTIz"). The mapping file ``prefill/procedures/<form>.yaml`` links our form's field
ids to them; the instructor who builds the procedure replaces the shipped, illustrative ids
with their own (DS shows them in the procedure's "préremplissage" page). The payload is what
DS's prefill API takes: ``champ_<id>`` keys, the identity block as ``identite_nom``,
``identite_prenom`` and ``identite_genre``, and a repetition as a list of rows, each with
its own ``champ_<id>`` keys.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from prefill.errors import MappingError, UnknownMapping
from prefill.model import FieldDef, FormDef, PrefilledForm

SHIPPED = Path(__file__).resolve().parent / "procedures"
IDENTITY_KEYS = ("nom", "prenom", "genre")
_CHAMP = re.compile(r"Champ-\d+")
_GENRE = {"M": "M.", "M.": "M.", "F": "Mme", "Mme": "Mme"}


@dataclass(frozen=True)
class ProcedureMapping:
    form: str
    procedure: str | None  # the DS procedure it was written for (its number or path)
    identity: Mapping[str, tuple[str, ...]]  # nom/prenom/genre → form fields, first with a value
    champs: Mapping[str, str]  # form field id → DS champ id
    rows: Mapping[str, Mapping[str, str]]  # repetition field id → its columns' champ ids
    source_file: str


def is_champ_id(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(_CHAMP.fullmatch(decoded.decode("ascii", errors="replace")))


def _champ(file: str, key: str, value: object) -> str:
    if not is_champ_id(value):
        raise MappingError(file, key, "not a DS champ id (base64 of 'Champ-<number>')")
    assert isinstance(value, str)
    return value


def _parse(file: str, data: Any) -> ProcedureMapping:
    if not isinstance(data, dict):
        raise MappingError(file, "(top)", "a mapping file is a mapping")
    for key in data:
        if key not in ("form", "procedure", "identite", "champs"):
            raise MappingError(file, str(key), "unknown key")
    form = data.get("form")
    if not isinstance(form, str):
        raise MappingError(file, "form", "is required (the form id)")
    identity: dict[str, tuple[str, ...]] = {}
    for key, ids in (data.get("identite") or {}).items():
        if key not in IDENTITY_KEYS:
            raise MappingError(file, f"identite.{key}", f"must be one of {IDENTITY_KEYS}")
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise MappingError(file, f"identite.{key}", "a field id or a list of them")
        identity[key] = tuple(ids)
    champs: dict[str, str] = {}
    rows: dict[str, dict[str, str]] = {}
    raw = data.get("champs")
    if not isinstance(raw, dict) or not raw:
        raise MappingError(file, "champs", "must map form field ids to champ ids")
    for field_id, target in raw.items():
        key = f"champs.{field_id}"
        if isinstance(target, dict):
            unknown = set(target) - {"id", "children"}
            if unknown or not isinstance(target.get("children"), dict):
                raise MappingError(file, key, "a repetition is {id, children: {column: champ}}")
            champs[field_id] = _champ(file, f"{key}.id", target.get("id"))
            rows[field_id] = {
                c: _champ(file, f"{key}.children.{c}", v) for c, v in target["children"].items()
            }
        else:
            champs[field_id] = _champ(file, key, target)
    procedure = data.get("procedure")
    return ProcedureMapping(
        form, None if procedure is None else str(procedure), identity, champs, rows, file
    )


def load_mapping(form_id: str, directory: Path | None = None) -> ProcedureMapping:
    file = (directory or SHIPPED) / f"{form_id}.yaml"
    if not file.is_file():
        raise UnknownMapping(f"no démarches-simplifiées mapping for form {form_id!r}")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(file.name, "(yaml)", str(exc).splitlines()[0]) from None
    mapping = _parse(file.name, data)
    if mapping.form != form_id:
        raise MappingError(file.name, "form", f"must be {form_id!r}, the file's name")
    return mapping


def check_mapping(form: FormDef, mapping: ProcedureMapping) -> None:
    """Every id the mapping names exists in the form, with the right kind."""
    file = mapping.source_file
    if mapping.form != form.id:
        raise MappingError(file, "form", f"is {mapping.form!r}, not {form.id!r}")
    for key, ids in mapping.identity.items():
        for field_id in ids:
            if form.field(field_id) is None:
                raise MappingError(file, f"identite.{key}", f"no field {field_id!r} in the form")
    for field_id in mapping.champs:
        f = form.field(field_id)
        if f is None:
            raise MappingError(file, f"champs.{field_id}", "no such field in the form")
        if (f.type == "repetition") != (field_id in mapping.rows):
            raise MappingError(file, f"champs.{field_id}", "a repetition, and only it, has rows")
        for column in mapping.rows.get(field_id, {}):
            if not any(c.id == column for c in f.children):
                raise MappingError(file, f"champs.{field_id}.children.{column}", "no such column")


def _ds_value(field: FieldDef, value: Any) -> Any:
    # DS takes checkboxes and yes/no fields as "true"/"false", numbers and dates as given.
    if field.type == "boolean":
        return "true" if value else "false"
    return value


def _rows(field: FieldDef, columns: Mapping[str, str], rows: list[dict[str, Any]]) -> list[Any]:
    out = []
    for row in rows:
        cells = {
            f"champ_{columns[c.id]}": _ds_value(c, row.get(c.id))
            for c in field.children
            if c.id in columns and row.get(c.id) is not None
        }
        out.append(cells)
    return out


def ds_payload(form: FormDef, filled: PrefilledForm, mapping: ProcedureMapping) -> dict[str, Any]:
    """The body of DS's prefill call for ``filled`` (fields with no value are left out)."""
    check_mapping(form, mapping)
    values = {f.id: f.value for f in filled.fields}
    payload: dict[str, Any] = {}
    for key, ids in mapping.identity.items():
        value = next((values[i] for i in ids if values.get(i) not in (None, "")), None)
        if key == "genre" and value is not None:
            value = _GENRE.get(str(value))
        if value is not None:
            payload[f"identite_{key}"] = value
    for field_id, champ in mapping.champs.items():
        field = form.field(field_id)
        value = values.get(field_id)
        if field is None or value is None:
            continue
        if field.type == "repetition":
            payload[f"champ_{champ}"] = _rows(field, mapping.rows[field_id], value)
        else:
            payload[f"champ_{champ}"] = _ds_value(field, value)
    return payload
