"""The person's side of a dossier: the form's raw fields, and their checks at deposit.

A form is a mapping of field names to the strings the browser sent (several for checkboxes).
Names: ``identite_genre``/``identite_nom``/``identite_prenom``, ``champ_<id>`` for a champ,
``r<i>_champ_<id>`` for a repetition's child in row ``i`` (from 0), and ``rows_<id>`` for a
repetition's row count. The checks are DS's at deposit: required champs filled, each value
of its kind; messages are French, one per champ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.demarches import geo
from sandbox.demarches.procedures import ChampDef, Procedure
from sandbox.demarches.store import Dossier
from sandbox.demarches.typing import address, iso_date, iso_datetime
from sandbox.demarches.values import AddressValue, CommuneValue, Place, Row, Value

Raw = dict[str, list[str]]
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+([.,][0-9]{1,3})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"(0[1-9][0-9]{8}|\+[1-9][0-9]{7,14})")
_SPACES = re.compile(r"[\s.]+")  # spaces and thousands dots, in whole numbers
_BLANKS = re.compile(r"\s+")
ROWS_MAX = 20
IDENTITY = ("identite_genre", "identite_nom", "identite_prenom")


def field_name(champ: ChampDef, row: int | None = None) -> str:
    return champ.key if row is None else f"r{row}_{champ.key}"


def rows_name(champ: ChampDef) -> str:
    return "rows_" + champ.id


def row_count(raw: Raw, champ: ChampDef) -> int:
    given = (raw.get(rows_name(champ)) or ["0"])[0]
    return min(int(given), ROWS_MAX) if given.isdigit() else 0


def _decimal_text(text: str) -> str:
    """A decimal as typed in French ("1 234,56", "1.234,56") or as shown ("862.44"): a dot
    is the decimal separator unless a comma is there too (then dots group thousands)."""
    compact = _BLANKS.sub("", text)
    if "," in compact:
        compact = compact.replace(".", "").replace(",", ".")
    return compact


def _raw_of(champ: ChampDef, value: Value) -> list[str]:
    if isinstance(value, bool):
        return (
            ["true" if value else "false"]
            if champ.type == "yes_no"
            else (["true"] if value else [])
        )
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Place):
        return [value.code]
    if isinstance(value, CommuneValue):
        return [f"{value.postal_code}|{value.code or ''}"]
    if isinstance(value, AddressValue):
        return [value.label]
    if champ.type == "datetime" and isinstance(value, str):
        return [value[:16]]  # what a datetime-local input shows: YYYY-MM-DDTHH:MM
    if champ.type == "decimal_number":
        return [str(value).replace(".", ",")]  # shown as French write it: 862,44
    return [str(value)]


def raw_from_dossier(procedure: Procedure, dossier: Dossier) -> Raw:
    """The form's fields as the dossier's values fill them."""
    raw: Raw = {}
    names = {"genre": "identite_genre", "nom": "identite_nom", "prenom": "identite_prenom"}
    for key, name in names.items():
        if key in dossier.identity:
            raw[name] = [dossier.identity[key]]
    for champ in procedure.champs:
        value = dossier.values.get(champ.stable_id)
        if champ.type == "repetition":
            rows = value if isinstance(value, list) else []
            raw[rows_name(champ)] = [str(max(len(rows), 1))]
            for index, row in enumerate(rows):
                for child in champ.children:
                    if isinstance(row, Row) and child.stable_id in row.values:
                        raw[field_name(child, index)] = _raw_of(child, row.values[child.stable_id])
        elif value is not None:
            raw[champ.key] = _raw_of(champ, value)
    return raw


@dataclass
class Checked:
    values: dict[int, Value] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field name → French message


def _one(raw: Raw, name: str) -> str:
    return (raw.get(name) or [""])[0].strip()


def check_value(champ: ChampDef, given: list[str]) -> tuple[Value | None, str | None]:
    """The typed value of one champ's fields, or the message saying why it is refused."""
    text = given[0].strip() if given else ""
    kind = champ.type
    if kind == "checkbox":
        checked = text == "true"
        if champ.required and not checked:
            return None, "Cochez cette case pour continuer."
        return checked, None
    if kind == "multiple_drop_down_list":
        chosen = tuple(v for v in dict.fromkeys(given) if v)
        if any(v not in champ.options for v in chosen):
            return None, "Choisissez parmi les options proposées."
        if champ.required and not chosen:
            return None, "Ce champ est obligatoire."
        return (chosen or None), None
    if not text:
        return None, ("Ce champ est obligatoire." if champ.required else None)
    return _typed(champ, text)


def _typed(champ: ChampDef, text: str) -> tuple[Value | None, str | None]:
    kind = champ.type
    if kind in ("text", "textarea"):
        return text, None
    if kind == "email":
        return (
            (text, None)
            if _EMAIL.fullmatch(text)
            else (None, "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")
        )
    if kind == "phone":
        compact = _SPACES.sub("", text)
        return (
            (text, None)
            if _PHONE.fullmatch(compact)
            else (None, "Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.")
        )
    if kind == "integer_number":
        compact = _SPACES.sub("", text)
        return (
            (int(compact), None)
            if _INTEGER.fullmatch(compact)
            else (None, "Saisissez un nombre entier, par exemple 42.")
        )
    if kind == "decimal_number":
        compact = _decimal_text(text)
        return (
            (compact, None)
            if _DECIMAL.fullmatch(compact)
            else (None, "Saisissez un nombre, avec trois décimales au plus, par exemple 512,30.")
        )
    if kind == "date":
        iso = iso_date(text)
        return (iso, None) if iso else (None, "Saisissez une date valide, par exemple 14/03/1988.")
    if kind == "datetime":
        moment = iso_datetime(text)
        return (moment, None) if moment else (None, "Saisissez une date et une heure valides.")
    if kind == "yes_no":
        return (
            ({"true": True, "false": False}[text], None)
            if text in ("true", "false")
            else (None, "Choisissez Oui ou Non.")
        )
    if kind == "civilite":
        return (text, None) if text in ("M.", "Mme") else (None, "Choisissez Madame ou Monsieur.")
    if kind == "drop_down_list":
        return (
            (text, None)
            if text in champ.options
            else (None, "Choisissez parmi les options proposées.")
        )
    if kind == "communes":
        postal_code, _, code = text.partition("|")
        found = next((c for c in geo.communes_by_postal_code(postal_code) if c.code == code), None)
        if found is None:
            return None, "Choisissez une commune de la liste."
        return CommuneValue(postal_code, found.code, found.name), None
    if kind == "pays":
        return (
            (Place(text, geo.COUNTRIES[text]), None)
            if text in geo.COUNTRIES
            else (None, "Choisissez un pays de la liste.")
        )
    if kind == "departements":
        return (
            (Place(text, geo.DEPARTEMENTS[text]), None)
            if text in geo.DEPARTEMENTS
            else (None, "Choisissez un département de la liste.")
        )
    if kind == "address":
        return address(text), None
    return None, None


def check(procedure: Procedure, raw: Raw) -> Checked:
    """The dossier's values from the submitted form, or the errors keyed by field name."""
    out = Checked()
    genre, nom, prenom = (_one(raw, name) for name in IDENTITY)
    if genre not in ("M.", "Mme"):
        out.errors["identite_genre"] = "Choisissez Madame ou Monsieur."
    if not nom:
        out.errors["identite_nom"] = "Ce champ est obligatoire."
    if not prenom:
        out.errors["identite_prenom"] = "Ce champ est obligatoire."
    out.identity = {"genre": genre, "nom": nom, "prenom": prenom}
    for champ in procedure.champs:
        if champ.type == "header_section":
            continue
        if champ.type == "repetition":
            rows: list[Row] = []
            for index in range(row_count(raw, champ)):
                row = Row(index + 1)
                for child in champ.children:
                    name = field_name(child, index)
                    value, error = check_value(child, raw.get(name, []))
                    if error:
                        out.errors[name] = error
                    elif value is not None and not (child.type == "checkbox" and value is False):
                        row.values[child.stable_id] = value
                if row.values:
                    rows.append(row)
            if rows:
                out.values[champ.stable_id] = rows
            elif champ.required:
                out.errors[rows_name(champ)] = "Remplissez au moins une ligne."
            continue
        value, error = check_value(champ, raw.get(champ.key, []))
        if error:
            out.errors[champ.key] = error
        elif value is not None:
            out.values[champ.stable_id] = value
    return out


def as_raw(form: Mapping[str, list[str]]) -> Raw:
    return {k: [v for v in vs if isinstance(v, str)] for k, vs in form.items()}


def add_row(raw: Raw, champ: ChampDef) -> None:
    raw[rows_name(champ)] = [str(min(row_count(raw, champ) + 1, ROWS_MAX))]


def remove_row(raw: Raw, champ: ChampDef, index: int) -> None:
    """Drop row ``index``: the rows after it move up one."""
    count = row_count(raw, champ)
    if not 0 <= index < count:
        return
    for row in range(index, count):
        for child in champ.children:
            following = raw.get(field_name(child, row + 1))
            if row + 1 < count and following is not None:
                raw[field_name(child, row)] = following
            else:
                raw.pop(field_name(child, row), None)
    raw[rows_name(champ)] = [str(count - 1)]
