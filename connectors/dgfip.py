"""DGFiP: the tax household of a person for an income year."""

from __future__ import annotations

from typing import Any

from connectors.context import CallContext
from connectors.errors import InvalidInput
from connectors.fields import (
    Malformed,
    choice,
    integer,
    number,
    obj,
    objects,
    opt_day,
    opt_string,
    string,
    strings,
)
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency
from connectors.records import HouseholdMember, PostalAddress, Provenance, TaxHousehold

AGENCY = "DGFIP"
_STATUSES = {s: s for s in ("celibataire", "marie", "pacse", "divorce", "veuf")}


def _declarant(d: dict[str, Any]) -> HouseholdMember:
    names = d.get("prenoms")
    given = " ".join(strings(d, "prenoms")) if isinstance(names, list) else string(d, "prenoms")
    return HouseholdMember(
        birth_name=string(d, "nom_naissance"),
        usage_name=opt_string(d, "nom_usage"),
        given_names=given,
        birth_date=opt_day(d, "date_naissance"),
        sex=opt_string(d, "sexe"),
    )


def _address(d: dict[str, Any]) -> PostalAddress:
    return PostalAddress(
        lines=strings(d, "lignes"),
        postal_code=opt_string(d, "code_postal"),
        city=opt_string(d, "localite"),
        cog_commune=opt_string(d, "code_cog_insee_commune"),
        country=opt_string(d, "pays"),
    )


def parse_tax_household(
    income_year: int, data: dict[str, Any], provenance: Provenance
) -> TaxHousehold:
    if integer(data, "annee_revenus") != income_year:
        raise Malformed("annee_revenus")
    shares = number(data, "nombre_parts")
    dependants = integer(data, "nombre_personnes_a_charge")
    if shares <= 0 or dependants < 0:
        raise Malformed("nombre_parts")
    return TaxHousehold(
        income_year=income_year,
        reference_tax_income=integer(data, "revenu_fiscal_reference"),
        tax_shares=shares,
        marital_status=choice(data, "situation_familiale", _STATUSES),
        dependants=dependants,
        declarants=tuple(_declarant(d) for d in objects(data, "declarants")),
        address=_address(obj(data, "adresse_fiscale")),
        provenance=provenance,
    )


class Dgfip(OurAgency):
    agency = AGENCY

    async def tax_household(
        self, identity: PivotIdentity, ctx: CallContext, income_year: int
    ) -> TaxHousehold:
        if not 1900 <= income_year <= 2200:
            raise InvalidInput("income year out of range", provider=AGENCY)

        def parse(data: dict[str, Any], provenance: Provenance) -> TaxHousehold:
            return parse_tax_household(income_year, data, provenance)

        return await self._api.record(
            ("v1", "foyer-fiscal", "identite"),
            identity,
            ctx,
            parse,
            source="dgfip.foyer_fiscal",
            extra=[("anneeRevenus", str(income_year))],
        )
