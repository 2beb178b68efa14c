"""The household-level blocks of a scenario: ``logement`` and ``foyer_fiscal``."""

from __future__ import annotations

from typing import cast

from sandbox.gazetteer import COMMUNE_BY_COG, STREETS
from sandbox.person import AidKind, Occupancy
from sandbox.scenario_reader import Fields
from sandbox.scenario_spec import HousingSpec, TaxSpec

_OCCUPANCIES: tuple[Occupancy, ...] = (
    "locataire",
    "locataire_meuble",
    "proprietaire",
    "heberge_gratuit",
    "sans_domicile",
)
_TENANTS = ("locataire", "locataire_meuble")
_AIDS: tuple[AidKind, ...] = ("APL", "ALF", "ALS")


def read_housing(parent: Fields, reference: int) -> HousingSpec:
    f = parent.maybe_mapping("logement")
    if f is None:
        raise parent.error("logement", "required")
    occupancy = cast("Occupancy", f.choice("statut_occupation", _OCCUPANCIES))
    commune = f.text("commune")
    if commune not in COMMUNE_BY_COG:
        # Agencies print the commune's name, postal code and CPAM from the sandbox gazetteer.
        known = ", ".join(sorted(COMMUNE_BY_COG))
        raise f.error("commune", f"{commune!r} is not a sandbox commune ({known})")
    zone = f.integer("zone", COMMUNE_BY_COG[commune].zone, 1, 3)
    if zone != COMMUNE_BY_COG[commune].zone:
        raise f.error("zone", f"commune {commune} is in zone {COMMUNE_BY_COG[commune].zone}")
    rent = f.maybe_number("loyer")
    charges = f.maybe_number("charges")
    if occupancy in _TENANTS:
        if rent is None:
            raise f.error("loyer", f"required when statut_occupation is {occupancy}")
        charges = charges or 0.0
    elif rent is not None or charges is not None:
        raise f.error("loyer" if rent is not None else "charges", "only for tenants")
    # By default the rent was last revised before the window: 24 months at the same amount.
    revised = f.maybe_month("revision_loyer") or reference - 23
    if not reference - 23 <= revised <= reference:
        raise f.error("revision_loyer", "outside the 24 months ending at the reference month")
    aid = f.maybe_mapping("aide_logement")
    aid_kind: AidKind | None = None
    aid_amount: float | None = None
    if aid is not None:
        if occupancy not in _TENANTS:
            raise f.error("aide_logement", "only for tenants in the sandbox's housing model")
        aid_kind = cast("AidKind", aid.choice("type", _AIDS))
        aid_amount = aid.number("montant")
        aid.close()
    numero = f.integer("numero", 1, 1, 9999)
    voie = f.maybe_text("voie") or STREETS[0]
    f.close()
    return HousingSpec(
        occupancy, rent, charges, revised, aid_kind, aid_amount, commune, numero, voie
    )


def read_tax(parent: Fields) -> TaxSpec:
    f = parent.maybe_mapping("foyer_fiscal")
    if f is None:
        return TaxSpec((), None)
    rfr = []
    for year, value in f.entries("rfr"):
        where = f"rfr.{year}"
        if not year.isdigit() or len(year) != 4:
            raise f.error(where, "expected an income year YYYY as the key")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise f.error(where, "expected a whole number of euros")
        rfr.append((int(year), value))
    parts = f.maybe_number("parts", low=1.0)
    f.close()
    return TaxSpec(tuple(rfr), parts)
