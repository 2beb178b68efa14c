"""Civil registry (INSEE/RNIPP-like): the registry's own record of a person, and death."""

from __future__ import annotations

from typing import Any

from connectors.context import CallContext
from connectors.fields import Malformed, day, obj, opt_day, opt_string, string, strings
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency
from connectors.records import CivilStatus, Provenance

AGENCY = "INSEE"


def parse_civil_status(data: dict[str, Any], provenance: Provenance) -> CivilStatus:
    # The ``identite`` echo is the registry's record itself (already checked to be the person).
    echo = obj(data, "identite")
    born = day(echo, "date_naissance")
    died = opt_day(data, "date_deces")
    if died is not None and died < born:
        raise Malformed("date_deces")
    return CivilStatus(
        birth_name=string(echo, "nom_naissance"),
        usage_name=opt_string(data, "nom_usage"),
        given_names=strings(echo, "prenoms"),
        sex=string(echo, "sexe"),
        birth_date=born,
        birth_place=opt_string(data, "code_cog_insee_commune_naissance"),
        birth_country=string(data, "code_cog_insee_pays_naissance"),
        death_date=died,
        provenance=provenance,
    )


class CivilRegistry(OurAgency):
    agency = AGENCY

    async def civil_status(self, identity: PivotIdentity, ctx: CallContext) -> CivilStatus:
        return await self._api.record(
            ("v1", "etat-civil", "identite"),
            identity,
            ctx,
            parse_civil_status,
            source="civil_registry.etat_civil",
        )
