"""The procedures ("démarches") the DS sandbox publishes, read from ``procedures.yaml``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox.demarches.ids import stable_id_of

SHIPPED = Path(__file__).resolve().parent / "procedures.yaml"
# DS's type_champ names the sandbox knows, each with its GraphQL descriptor's type name.
DESCRIPTOR_TYPENAMES: Mapping[str, str] = {
    "header_section": "HeaderSectionChampDescriptor",
    "text": "TextChampDescriptor",
    "textarea": "TextareaChampDescriptor",
    "integer_number": "IntegerNumberChampDescriptor",
    "decimal_number": "DecimalNumberChampDescriptor",
    "date": "DateChampDescriptor",
    "datetime": "DatetimeChampDescriptor",
    "yes_no": "YesNoChampDescriptor",
    "checkbox": "CheckboxChampDescriptor",
    "drop_down_list": "DropDownListChampDescriptor",
    "multiple_drop_down_list": "MultipleDropDownListChampDescriptor",
    "communes": "CommuneChampDescriptor",
    "pays": "PaysChampDescriptor",
    "departements": "DepartementChampDescriptor",
    "civilite": "CiviliteChampDescriptor",
    "address": "AddressChampDescriptor",
    "email": "EmailChampDescriptor",
    "phone": "PhoneChampDescriptor",
    "repetition": "RepetitionChampDescriptor",
}


class ProcedureFileError(ValueError):
    """The procedures file is malformed; the message names the procedure and champ."""


@dataclass(frozen=True)
class ChampDef:
    id: str  # DS's typed id, unpadded
    stable_id: int
    type: str  # DS's type_champ
    label: str
    required: bool = False
    description: str | None = None
    options: tuple[str, ...] = ()
    children: tuple[ChampDef, ...] = ()

    @property
    def prefillable(self) -> bool:
        return self.type != "header_section"

    @property
    def key(self) -> str:
        """The prefill key DS reads: ``champ_<id>``."""
        return "champ_" + self.id


@dataclass(frozen=True)
class Procedure:
    number: int
    path: str
    title: str
    organisation: str
    champs: tuple[ChampDef, ...]

    def all_champs(self) -> Iterator[ChampDef]:
        """Every champ, a repetition's children right after it."""
        for champ in self.champs:
            yield champ
            yield from champ.children

    def champ(self, stable_id: int) -> ChampDef | None:
        return next((c for c in self.all_champs() if c.stable_id == stable_id), None)


def _champ(where: str, raw: Any, nested: bool) -> ChampDef:
    if not isinstance(raw, dict):
        raise ProcedureFileError(f"{where}: a champ is a mapping")
    cid, kind, label = raw.get("id"), raw.get("type"), raw.get("label")
    stable = stable_id_of("champ_" + cid) if isinstance(cid, str) else None
    if stable is None or not isinstance(cid, str) or cid.endswith("="):
        raise ProcedureFileError(f"{where}: id must be base64 of 'Champ-<n>' without padding")
    where = f"{where} {cid}"
    if kind not in DESCRIPTOR_TYPENAMES:
        raise ProcedureFileError(f"{where}: unknown type {kind!r}")
    if not isinstance(label, str) or not label:
        raise ProcedureFileError(f"{where}: label is required")
    options = tuple(raw.get("options") or ())
    if kind in ("drop_down_list", "multiple_drop_down_list") and not options:
        raise ProcedureFileError(f"{where}: a {kind} needs options")
    children = tuple(_champ(where, c, True) for c in raw.get("children") or ())
    if (kind == "repetition") != bool(children) or (nested and kind == "repetition"):
        raise ProcedureFileError(f"{where}: only a top-level repetition has children")
    return ChampDef(
        cid,
        stable,
        str(kind),
        label,
        bool(raw.get("required", False)),
        raw.get("description"),
        tuple(str(o) for o in options),
        children,
    )


def load_procedures(path: Path = SHIPPED) -> dict[int, Procedure]:
    """The procedures by number; ids must be unique across all of them."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    procedures: dict[int, Procedure] = {}
    seen: set[int] = set()
    for raw in data.get("procedures") or ():
        number, where = raw.get("number"), f"procedure {raw.get('number')}"
        if not isinstance(number, int) or number in procedures:
            raise ProcedureFileError(f"{where}: number must be a unique integer")
        champs = tuple(_champ(where, c, False) for c in raw.get("champs") or ())
        procedure = Procedure(
            number, str(raw["path"]), str(raw["title"]), str(raw.get("organisation", "")), champs
        )
        for champ in procedure.all_champs():
            if champ.stable_id in seen:
                raise ProcedureFileError(f"{where}: champ id {champ.id} is used twice")
            seen.add(champ.stable_id)
        procedures[number] = procedure
    return procedures
