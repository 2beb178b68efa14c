"""One value, converted to what a démarches-simplifiées champ takes, and back.

DS drops a prefilled value of the wrong shape without a word (an integer champ given
"10012.0", a checkbox given "oui", a country given INSEE's "99100"): the person then finds
the field empty and nobody knows why. So ``to_ds`` gives a value DS accepts or raises
``Unconvertible`` with the reason, and the payload reports what it left out. ``from_ds``
reads a champ of a dossier (DS's GraphQL API v2, as its own stored query names the fields:
``integerNumber``, ``decimalNumber``, ``checked``, ``selected``, ``date``…) back into the
form field's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from prefill import geo, months
from prefill.champs import ChampDescriptor, stable_id
from prefill.errors import InvalidValue
from prefill.model import FieldDef
from prefill.procedure import BOOLEAN_LABELS, CIVILITE_LABELS, ChampMapping

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO2 = re.compile(r"[A-Z]{2}")
_INSEE_COUNTRY = re.compile(r"99\d{3}")
_TEXT_TYPES = frozenset({"text", "textarea", "email", "phone", "iban", "formatted"})
DECIMALS = 3  # DS's decimal_number takes at most three decimals


class Unconvertible(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- to DS ----------------------------------------------------------------------------------


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise Unconvertible("not a number")
    text = str(value).replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    text = text.replace(",", ".") if isinstance(value, str) else text
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Unconvertible("not a number") from None
    if not number.is_finite():
        raise Unconvertible("not a number")
    return number


def _integer(value: Any) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise Unconvertible("not a whole number (an integer champ would drop it)")
    return int(number)


def _decimal(value: Any) -> int | float:
    number = _number(value)
    if number == number.to_integral_value():
        return int(number)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -DECIMALS:
        raise Unconvertible(f"more than {DECIMALS} decimals (a decimal champ would drop it)")
    return float(number)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        raise Unconvertible("a date and time, not a date")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise Unconvertible("not a YYYY-MM-DD date")


def _datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and "T" in value:
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise Unconvertible("not an ISO 8601 date and time (a date has no time of day)")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_LABELS:
        return BOOLEAN_LABELS[value.strip().lower()]
    raise Unconvertible("not a yes/no value")


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Unconvertible("not a text")
    text = str(value)
    if not text.strip():
        raise Unconvertible("empty text")
    return text


def _option(champ: ChampDescriptor, mapping: ChampMapping, value: Any) -> str:
    if not isinstance(value, str):
        raise Unconvertible("not a choice")
    label = mapping.label(value)
    if label not in champ.options:
        raise Unconvertible(f"{label!r} is not one of the champ's options")
    return label


def _country(value: Any) -> str:
    if not isinstance(value, str):
        raise Unconvertible("not a country code")
    code = value.strip().upper()
    table = geo.countries()
    if _INSEE_COUNTRY.fullmatch(code):
        iso = table.to_iso.get(code)
        if iso is None:
            raise Unconvertible(f"INSEE country code {code} has no ISO 3166 code")
        return iso
    if _ISO2.fullmatch(code) and code in table.to_insee:
        return code
    raise Unconvertible("not an INSEE or ISO 3166 country code")


# Champ types written into a dossier and never read back into the form.
WRITTEN_ONLY = frozenset({"departements"})


def _departement(value: Any) -> str:
    if isinstance(value, Mapping):
        insee, postcode = value.get("insee"), value.get("postcode")
        if isinstance(insee, str) and (found := geo.departement_of_commune(insee)):
            return found
        value = postcode
    if not isinstance(value, str):
        raise Unconvertible("no postcode nor INSEE commune code")
    text = value.strip().upper()
    if geo.DEPARTEMENT.fullmatch(text):
        return text
    found = geo.departement_of_postcode(text)
    if found is None:
        raise Unconvertible("not a French postcode, département or commune code")
    return found


def _commune(value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        raise Unconvertible("no postcode and INSEE commune code for the commune")
    postcode, insee = value.get("postcode"), value.get("insee")
    if not isinstance(insee, str) or not geo.COMMUNE_CODE.fullmatch(insee.strip().upper()):
        raise Unconvertible("no INSEE commune code for the commune")
    if "postcode" not in value:
        # Fed by an INSEE code alone (a birth commune): the commune of today that code
        # stands for, with a postcode of it.
        found = geo.commune_with_postcode(insee)
        if found is None:
            raise Unconvertible("the INSEE commune code is no commune of today's")
        return list(found)
    if not isinstance(postcode, str) or not geo.POSTCODE.fullmatch(postcode.strip()):
        raise Unconvertible("no postcode for the commune")
    postcode, insee = postcode.strip(), insee.strip().upper()
    if geo.departement_of_postcode(postcode) != geo.departement_of_commune(insee):
        raise Unconvertible("the postcode and the INSEE commune code are in different départements")
    return [postcode, insee]


def _civilite(mapping: ChampMapping, value: Any) -> str:
    label = mapping.label(value) if isinstance(value, str) else value
    if not isinstance(label, str) or label not in CIVILITE_LABELS:
        raise Unconvertible("not a civilité (M, F, M. or Mme)")
    return CIVILITE_LABELS[label]


def _address(value: Any) -> str:
    label = value.get("ban_label") if isinstance(value, Mapping) else None
    if not isinstance(label, str) or not label.strip():
        raise Unconvertible("no Base Adresse Nationale label in the data")
    return label


def convert_rows(
    field: FieldDef, champ: ChampDescriptor, mapping: ChampMapping, rows: Any
) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """A repetition's rows as DS takes them, and the cells left out: (row, column, reason).

    A row is ``{"champ_<column champ id>": value}``; a cell with no value is left out
    silently, one that cannot be converted is left out and listed; a row left with no cell
    is not sent (DS would add an empty row).
    """
    if not isinstance(rows, list):
        raise Unconvertible("not a list of rows")
    out: list[dict[str, Any]] = []
    problems: list[tuple[int, str, str]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.append((i, "", "not a row"))
            continue
        cells: dict[str, Any] = {}
        for column, cm in mapping.children.items():
            cf = next((c for c in field.children if c.id == column), None)
            cc = champ.child(cm.champ)
            cell = row.get(column)
            if cf is None or cc is None or cell in (None, "", []):
                continue
            try:
                cells[f"champ_{cc.id}"] = to_ds(cf, cc, cm, cell)
            except Unconvertible as exc:
                problems.append((i, column, exc.reason))
        if cells:
            out.append(cells)
    return out, problems


def to_ds(field: FieldDef, champ: ChampDescriptor, mapping: ChampMapping, value: Any) -> Any:
    """``value`` (the form field's, or ``{role: value}`` for a ``from`` mapping) as the champ
    takes it in DS's prefill body; ``Unconvertible`` if DS would not take it."""
    if value is None:
        raise Unconvertible("no value")
    kind = champ.type
    if kind in _TEXT_TYPES and field.type == "month":
        try:
            return months.words(_text(value))  # « juin 2026 »: the person reads it
        except ValueError:
            raise Unconvertible("not a YYYY-MM month") from None
    if kind in _TEXT_TYPES:
        return _text(value)
    if kind == "siret":
        digits = _text(value).replace(" ", "")
        if not re.fullmatch(r"\d{14}", digits):
            raise Unconvertible("not a SIRET (14 digits)")
        return digits
    if kind == "integer_number":
        return _integer(value)
    if kind == "decimal_number":
        return _decimal(value)
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if kind in ("yes_no", "checkbox"):
        if isinstance(value, str):
            value = mapping.label(value)
        return "true" if _boolean(value) else "false"
    if kind == "drop_down_list":
        return _option(champ, mapping, value)
    if kind == "multiple_drop_down_list":
        values = value if isinstance(value, list) else [value]
        return [_option(champ, mapping, v) for v in values]
    if kind == "communes":
        return _commune(value)
    if kind == "pays":
        return _country(value)
    if kind == "departements":
        return _departement(value)
    if kind == "civilite":
        return _civilite(mapping, value)
    if kind == "address":
        return _address(value)
    if kind == "repetition":
        rows, _ = convert_rows(field, champ, mapping, value)
        return rows
    raise Unconvertible(f"a {kind} champ is not prefilled")


# --- from DS --------------------------------------------------------------------------------


def _first(node: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if node.get(key) is not None:
            return node[key]
    return None


def _reverse_choice(field: FieldDef, mapping: ChampMapping, label: str) -> str:
    for code in field.choices:
        if mapping.label(code) == label:
            return code
    raise Unconvertible(f"option {label!r} is no choice of the form")


def _raw(field: FieldDef, champ: ChampDescriptor, mapping: ChampMapping, node: Any) -> Any:
    kind = champ.type
    if kind in _TEXT_TYPES or kind == "siret":
        return _first(node, "value", "stringValue")
    if kind == "integer_number":
        raw = _first(node, "integerNumber", "value")
        return None if raw is None else _integer(raw)
    if kind == "decimal_number":
        raw = _first(node, "decimalNumber", "value")
        return None if raw is None else _decimal(raw)
    if kind == "date":
        raw = _first(node, "date", "value")
        return None if raw is None else str(raw)[:10]
    if kind == "datetime":
        return _first(node, "datetime", "value")
    if kind in ("yes_no", "checkbox"):
        raw = _first(node, "selected", "checked", "value")
        if raw is None or field.type == "boolean":
            return raw
        return next((c for c in field.choices if _label_bool(mapping, c) is raw), None)
    if kind == "drop_down_list":
        raw = _first(node, "value", "stringValue")
        return None if raw in (None, "") else _reverse_choice(field, mapping, str(raw))
    if kind == "multiple_drop_down_list":
        labels = node.get("values") or []
        codes = [_reverse_choice(field, mapping, str(v)) for v in labels]
        if field.type == "choice":
            if len(codes) > 1:
                raise Unconvertible("several options for a single choice")
            return codes[0] if codes else None
        return codes
    if kind == "civilite":
        raw = _first(node, "civilite", "value")
        if raw is None:
            return None
        female = raw in ("Mme", "F")
        for code in field.choices:
            if CIVILITE_LABELS.get(mapping.label(code)) == ("Mme" if female else "M."):
                return code
        return "Mme" if female else "M."
    if kind == "communes":
        commune = node.get("commune") or {}
        if not commune:
            return None
        postcode, insee = commune.get("postalCode"), commune.get("code")
        alone = "insee" in mapping.from_fields and "postcode" not in mapping.from_fields
        if alone and isinstance(insee, str):
            # Sent from an INSEE code alone: the arrondissement its postcode tells, if any.
            insee = geo.commune_from_postcode(str(postcode or ""), insee)
        return {"postcode": postcode, "insee": insee, "name": commune.get("name")}
    if kind == "pays":
        iso = (node.get("pays") or {}).get("code")
        if iso is None:
            return None
        insee = geo.countries().to_insee.get(str(iso))
        if insee is None:
            raise Unconvertible(f"ISO country {iso} has no INSEE code")
        return insee
    if kind in WRITTEN_ONLY:
        raise Unconvertible("a département does not give back the form's value")
    if kind == "address":
        return _first(node.get("address") or {}, "label") or node.get("stringValue")
    if kind == "repetition":
        return _rows_back(field, champ, mapping, node.get("rows") or [])
    raise Unconvertible(f"a {kind} champ is not read back")


def _label_bool(mapping: ChampMapping, code: str) -> bool | None:
    return BOOLEAN_LABELS.get(mapping.label(code).lower())


def _rows_back(
    field: FieldDef, champ: ChampDescriptor, mapping: ChampMapping, rows: Sequence[Any]
) -> list[dict[str, Any]]:

    out = []
    for index, row in enumerate(rows):
        by_stable = {
            stable_id(c.get("champDescriptorId") or c.get("id")): c
            for c in (row.get("champs") or [])
            if isinstance(c, Mapping)
        }
        cells: dict[str, Any] = {}
        for column, cm in mapping.children.items():
            cf = next((c for c in field.children if c.id == column), None)
            cc = champ.child(cm.champ)
            node = by_stable.get(stable_id(cm.champ))
            if cf is None or cc is None or node is None:
                continue
            try:
                value = from_ds(cf, cc, cm, node)
            except Unconvertible as error:
                # A cell the person typed that cannot be read: refused naming it, never
                # dropped (the row would then read as confirmed without it).
                raise InvalidValue(
                    f"{field.id}[{index}].{column}", f"cannot be read back: {error}"
                ) from None
            if value is not None:
                cells[column] = value
        out.append(cells)
    return out


def _as_form(field: FieldDef, value: Any) -> Any:
    kind: str = field.type
    if value is None or kind in ("repetition",) or isinstance(value, dict):
        return value
    if kind in ("text", "nir"):
        return str(value)
    if kind == "month":
        month = months.parse(str(value))
        if month is None:
            raise Unconvertible("not a month")
        return month
    if kind == "number":
        return _decimal(value)
    if kind == "money":
        return round(float(_number(value)), 2)
    if kind == "date":
        return _date(str(value)[:10])
    if kind == "boolean":
        return _boolean(value)
    if kind == "choice":
        if isinstance(value, list) or value not in field.choices:
            raise Unconvertible(f"{value!r} is no choice of the form")
        return value
    return value


def from_ds(
    field: FieldDef, champ: ChampDescriptor, mapping: ChampMapping, node: Mapping[str, Any]
) -> Any:
    """The form field's value from a champ of a DS dossier (None when the champ is empty);
    a communes champ gives ``{"postcode", "insee", "name"}``."""
    return _as_form(field, _raw(field, champ, mapping, node))
