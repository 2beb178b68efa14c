"""What a dossier's champ holds once typed: one value class per DS champ kind."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Place:
    """A pays or a département: DS keeps its code (``external_id``) and its name."""

    code: str
    name: str


@dataclass(frozen=True)
class CommuneValue:
    postal_code: str
    code: str | None = None  # INSEE code; None when only the postal code was given
    name: str | None = None


@dataclass(frozen=True)
class AddressValue:
    label: str  # what the person or the prefill gave (in DS, a BAN label)
    postal_code: str | None = None  # the rest: what the sandbox recognises in the label
    city_name: str | None = None
    city_code: str | None = None


@dataclass
class Row:
    row_id: int
    values: dict[int, Value] = field(default_factory=dict)  # child stable id → value


# text, textarea, email, phone, date (ISO), datetime (ISO), decimal (DS's string),
# drop_down_list and civilite: str; integer_number: int; yes_no and checkbox: bool;
# multiple_drop_down_list: tuple of options; repetition: list of rows.
Value = str | int | bool | tuple[str, ...] | Place | CommuneValue | AddressValue | list[Row]
