"""How DS types a prefilled value, champ kind by champ kind.

DS reads each ``champ_<id>`` value through the champ kind's ``PrefillTypeDeChamp`` class and,
for the kinds it lists in ``PrefillChamps::PrefillValue::NEED_VALIDATION_TYPES_DE_CHAMPS``, the
champ's own validations in the ``:prefill`` context. A value it would not accept is dropped
without a word: the champ stays empty for the person, and the answer is the same 201.
``prefill_value`` returns the typed value, or None when DS would leave the champ empty.

A JSON number reaches DS's string column as Ruby writes it (``10012.0`` → "10012.0", so an
integer champ drops it); JSON ``true`` becomes "t" (so a yes_no champ drops it too).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.demarches import geo
from sandbox.demarches.ids import stable_id_of
from sandbox.demarches.procedures import ChampDef
from sandbox.demarches.values import AddressValue, CommuneValue, Place, Row, Value

PARIS = ZoneInfo("Europe/Paris")  # DS's time zone
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+([.,][0-9]{1,3})?")
_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{2})[-/]([0-9]{2})")
_FR_DATETIME = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}):([0-9]{2})")
_LABEL_CITY = re.compile(r"\b([0-9]{5})\s+(.+)$")
_SPACES = re.compile(r"\s+")


def ds_string(raw: object) -> str | None:
    """A scalar as DS's string column stores it; None for lists and objects."""
    if isinstance(raw, bool):
        return "t" if raw else "f"
    if isinstance(raw, int | float):
        return repr(raw) if isinstance(raw, float) else str(raw)
    if isinstance(raw, str):
        return raw
    return None


def blank(raw: object) -> bool:
    """Ruby's ``blank?``: None, False, whitespace-only strings, empty lists and objects."""
    if raw is None or raw is False:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | dict | tuple):
        return not raw
    return False


def _text(champ: ChampDef, raw: object) -> Value | None:
    return ds_string(raw)


def _integer(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    if text is None:
        return None
    text = _SPACES.sub("", text)
    return int(text) if _INTEGER.fullmatch(text) else None


def _decimal(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    if text is None:
        return None
    text = _SPACES.sub("", text.replace(",", "."))
    return text if _DECIMAL.fullmatch(text) else None


def iso_date(text: str) -> str | None:
    """DS's ``parsable_iso8601_date?``: YYYY-MM-DD (or YYYY/MM/DD), no time part."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def _date(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    return None if text is None else iso_date(text)


def iso_datetime(text: str) -> str | None:
    """DS's ``convert_to_iso8601_datetime``: ISO 8601 (Paris time when no offset is given),
    or ``DD/MM/YYYY HH:MM`` and ``YYYY-MM-DD HH:MM``; answered with its offset, to the second."""
    text = text.strip()
    try:
        fr = _FR_DATETIME.fullmatch(text)
        if fr is not None:
            moment = datetime(int(fr[3]), int(fr[2]), int(fr[1]), int(fr[4]), int(fr[5]))
        elif _DATE.fullmatch(text) and "/" not in text:
            moment = datetime.combine(date.fromisoformat(text), time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS).replace(microsecond=0).isoformat()


def _datetime(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    return None if text is None else iso_datetime(text)


def _boolean(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    return {"true": True, "false": False}.get(text or "")


def _civilite(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    return text if text in ("M.", "Mme") else None


def _drop_down(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    return text if text in champ.options else None


def _multiple(champ: ChampDef, raw: object) -> Value | None:
    if isinstance(raw, list):
        values = [ds_string(v) for v in raw]
    else:
        values = [ds_string(raw)]
    chosen = [v for v in dict.fromkeys(values) if v != ""]
    if not chosen or any(v not in champ.options for v in chosen):
        return None
    return tuple(v for v in chosen if v is not None)


def _communes(champ: ChampDef, raw: object) -> Value | None:
    if not isinstance(raw, list) or blank(raw):
        return None
    postal_code = ds_string(raw[0])
    if postal_code is None or blank(postal_code):
        return None
    candidates = geo.communes_by_postal_code(postal_code)
    if not candidates:
        return None
    if len(raw) == 1:
        return CommuneValue(postal_code)
    code = ds_string(raw[1])
    found = next((c for c in candidates if c.code == code), None)
    return None if found is None else CommuneValue(postal_code, found.code, found.name)


def _pays(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    if text is None:
        return None
    code = text if len(text) == 2 else geo.country_code(text)
    if code is None or code not in geo.COUNTRIES:
        return None
    return Place(code, geo.COUNTRIES[code])


def _departements(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    if text is None:
        return None
    code = text if len(text) in (2, 3) else geo.departement_code(text)
    if code is None or code not in geo.DEPARTEMENTS:
        return None
    return Place(code, geo.DEPARTEMENTS[code])


def address(label: str) -> AddressValue:
    """An address from its label; its commune when the label ends with a known one."""
    label = label.strip()
    match = _LABEL_CITY.search(label)
    if match is not None:
        city = match[2].strip().casefold()
        for commune in geo.communes_by_postal_code(match[1]):
            if commune.name.casefold() == city:
                return AddressValue(label, match[1], commune.name, commune.code)
    return AddressValue(label)


def _address(champ: ChampDef, raw: object) -> Value | None:
    text = ds_string(raw)
    return None if text is None or blank(text) else address(text)


def _repetition(champ: ChampDef, raw: object) -> Value | None:
    if not isinstance(raw, list):
        return None
    children = {c.stable_id: c for c in champ.children}
    rows: list[Row] = []
    for given in raw:
        if not isinstance(given, dict):
            continue  # DS adds no row for it
        row = Row(len(rows) + 1)
        for key, value in given.items():
            stable = stable_id_of(key) if isinstance(key, str) else None
            child = children.get(stable) if stable is not None else None
            if child is None or blank(value):
                continue
            typed = prefill_value(child, value)
            if typed is not None:
                row.values[child.stable_id] = typed
        rows.append(row)
    return rows or None


_RULES: Mapping[str, Callable[[ChampDef, object], Value | None]] = {
    "text": _text,
    "textarea": _text,
    "email": _text,  # DS does not validate them when prefilling
    "phone": _text,
    "integer_number": _integer,
    "decimal_number": _decimal,
    "date": _date,
    "datetime": _datetime,
    "yes_no": _boolean,
    "checkbox": _boolean,
    "civilite": _civilite,
    "drop_down_list": _drop_down,
    "multiple_drop_down_list": _multiple,
    "communes": _communes,
    "pays": _pays,
    "departements": _departements,
    "address": _address,
    "repetition": _repetition,
}


def prefill_value(champ: ChampDef, raw: object) -> Value | None:
    """The value DS keeps for ``champ`` given ``raw`` (a JSON value or a query string's), or
    None when DS drops it."""
    if not champ.prefillable or blank(raw):
        return None
    return _RULES[champ.type](champ, raw)


def identity(params: Mapping[str, Any]) -> dict[str, str]:
    """DS's ``PrefillIdentity`` for a procedure for individuals: nom, prénom, and the genre
    when it is "M." or "Mme"."""
    out: dict[str, str] = {}
    for key, name in (("identite_nom", "nom"), ("identite_prenom", "prenom")):
        value = ds_string(params.get(key))
        if value is not None and not blank(value):
            out[name] = value
    genre = params.get("identite_genre")
    if genre in ("M.", "Mme"):
        out["genre"] = str(genre)
    return out
