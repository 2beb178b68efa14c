"""Housing (CAF): occupancy, rent history and housing aid."""

from __future__ import annotations

from typing import Any

from connectors.context import CallContext
from connectors.fields import (
    Malformed,
    boolean,
    choice,
    month,
    number,
    obj,
    objects,
    opt_integer,
    opt_number,
    opt_string,
)
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency, month_window
from connectors.records import Housing, MonthlyRent, Provenance

AGENCY = "CAF"
_OCCUPANCY = {
    "locataire": "tenant",
    "locataire_meuble": "tenant_furnished",
    "proprietaire": "owner",
    "heberge_gratuit": "free_lodging",
    "sans_domicile": "homeless",
}
_AIDS = frozenset({"APL", "ALF", "ALS"})


def parse_housing(first: str, last: str, data: dict[str, Any], provenance: Provenance) -> Housing:
    zone = opt_integer(data, "zone")
    if zone is not None and zone not in (1, 2, 3):
        raise Malformed("zone")
    history: list[MonthlyRent] = []
    for h in objects(data, "historique_loyers"):
        m = month(h, "mois")
        if not first <= m <= last:
            raise Malformed("historique_loyers.mois")
        history.append(MonthlyRent(m, number(h, "loyer"), number(h, "charges")))
    history.sort(key=lambda r: r.month)
    aid = obj(data, "aide_logement")
    kind = opt_string(aid, "type")
    if kind is not None and kind not in _AIDS:
        raise Malformed("aide_logement.type")
    return Housing(
        occupancy=choice(data, "statut_occupation", _OCCUPANCY),
        monthly_rent=opt_number(data, "loyer_mensuel"),
        monthly_charges=opt_number(data, "charges_mensuelles"),
        cog_commune=opt_string(data, "code_cog_insee_commune"),
        zone=zone,
        rent_history=tuple(history),
        aid_receiving=boolean(aid, "est_beneficiaire"),
        aid_kind=kind,
        aid_monthly=opt_number(aid, "montant_mensuel"),
        provenance=provenance,
    )


class HousingAgency(OurAgency):
    agency = AGENCY

    async def housing(
        self, identity: PivotIdentity, ctx: CallContext, first_month: str, last_month: str
    ) -> Housing:
        window = month_window(first_month, last_month, AGENCY)

        def parse(data: dict[str, Any], provenance: Provenance) -> Housing:
            return parse_housing(first_month, last_month, data, provenance)

        return await self._api.record(
            ("v1", "logement", "identite"),
            identity,
            ctx,
            parse,
            source="housing.logement",
            extra=window,
        )
