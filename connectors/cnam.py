"""CNAM: health-insurance fund and CSS status with its renewal date."""

from __future__ import annotations

from typing import Any

from connectors.context import CallContext
from connectors.fields import boolean, obj, opt_boolean, opt_day, string
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency
from connectors.records import HealthInsurance, Provenance

AGENCY = "CNAM"


def parse_health_insurance(data: dict[str, Any], provenance: Provenance) -> HealthInsurance:
    fund = obj(data, "organisme")
    css = obj(data, "css")
    return HealthInsurance(
        fund_code=string(fund, "code"),
        fund_label=string(fund, "libelle"),
        css_receiving=boolean(css, "est_beneficiaire"),
        css_with_participation=opt_boolean(css, "avec_participation"),
        css_since=opt_day(css, "date_debut_droit"),
        css_renewal_date=opt_day(css, "date_renouvellement"),
        provenance=provenance,
    )


class Cnam(OurAgency):
    agency = AGENCY

    async def health_insurance(self, identity: PivotIdentity, ctx: CallContext) -> HealthInsurance:
        return await self._api.record(
            ("v1", "assurance-maladie", "identite"),
            identity,
            ctx,
            parse_health_insurance,
            source="cnam.assurance_maladie",
        )
