"""A field's value as a person reads it, where the form holds a code.

The prefill API returns values in the forms' own shapes (``heberge_gratuit``, ``2026-06``,
``99100``, ``69123``), which clients store and send back; a form shows the person words
instead. One place says which: a choice's label, a month in words, a birth country's or
birth commune's name.
"""

from __future__ import annotations

from typing import Any

from prefill import choices, geo, months
from prefill.model import FieldDef

# Sources holding an INSEE country code (the civil registry's ``99xxx`` codes).
COUNTRY_SOURCES = frozenset({"identity.birth_country"})
# Sources holding an INSEE commune code.
COMMUNE_SOURCES = frozenset({"identity.birth_place"})


def value_label(field: FieldDef, value: Any) -> str | None:
    """The value in words, or None where it is already words (or there is none)."""
    if not isinstance(value, str) or not value:
        return None
    if field.type == "choice":
        return choices.LABELS.get(value)
    if field.type == "month":
        try:
            return months.words(value)
        except ValueError:
            return None
    if field.source in COUNTRY_SOURCES:
        return geo.countries().names.get(value)
    if field.source in COMMUNE_SOURCES:
        return geo.commune_label(value)
    return None
