"""CNAV: pensions paid and ASPA (minimum old-age allowance) status."""

from __future__ import annotations

from typing import Any

from connectors.context import CallContext
from connectors.fields import (
    boolean,
    choice,
    day,
    number,
    obj,
    objects,
    opt_day,
    opt_number,
    string,
)
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency
from connectors.records import Pension, Provenance, Retirement

AGENCY = "CNAV"
_KINDS = {"droit_propre": "own_right", "reversion": "survivor"}


def _pension(p: dict[str, Any]) -> Pension:
    return Pension(
        scheme=string(p, "regime"),
        kind=choice(p, "type", _KINDS),
        monthly_gross=number(p, "montant_mensuel_brut"),
        monthly_net=number(p, "montant_mensuel_net"),
        since=day(p, "date_effet"),
    )


def parse_retirement(data: dict[str, Any], provenance: Provenance) -> Retirement:
    aspa = obj(data, "aspa")
    return Retirement(
        pensions=tuple(_pension(p) for p in objects(data, "pensions")),
        aspa_receiving=boolean(aspa, "est_beneficiaire"),
        aspa_monthly=opt_number(aspa, "montant_mensuel"),
        aspa_since=opt_day(aspa, "date_debut_droit"),
        provenance=provenance,
    )


class Cnav(OurAgency):
    agency = AGENCY

    async def retirement(self, identity: PivotIdentity, ctx: CallContext) -> Retirement:
        return await self._api.record(
            ("v1", "retraite", "identite"),
            identity,
            ctx,
            parse_retirement,
            source="cnav.retraite",
        )
