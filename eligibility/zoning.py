"""The official housing-aid zone of a commune, as OpenFisca-France itself derives ``zone_apl``.

The zone sets the rent ceilings of the housing aids. OpenFisca derives ``zone_apl`` from
``depcom`` with a table it ships (the ministry's zoning of communes dated 14 September 2011,
arrondissements and associated communes mapped to their commune, "1bis" read as 1, a commune
absent from it read as zone 2). Reading that same table, not a copy, keeps a zone computed
here identical to the one OpenFisca would derive.
"""

from __future__ import annotations

from typing import cast

# OpenFisca's ``zone_apl`` formula reads 2 for a commune absent from its table.
DEFAULT_ZONE = 2

_TABLE: dict[str, int] | None = None


def _table() -> dict[str, int]:
    global _TABLE
    if _TABLE is None:
        # Imported here so that importing ``eligibility`` (the gateway does) stays cheap.
        from openfisca_france.model.prestations import aides_logement

        aides_logement.preload_zone_apl()
        _TABLE = dict(cast(dict[str, int], aides_logement.zone_apl_by_depcom))
    return _TABLE


def official_zone(depcom: str | None) -> int:
    """The zone (1, 2 or 3) OpenFisca gives the commune ``depcom`` (INSEE COG code)."""
    if not depcom:
        return DEFAULT_ZONE
    return _table().get(depcom, DEFAULT_ZONE)
