"""GIP-MDS (dispositif de ressources mutualisées): monthly declared resources per payer, and
a micro-entrepreneur's monthly turnover with its activity category."""

from __future__ import annotations

from typing import Any

from connectors.context import CallContext
from connectors.fields import Malformed, choice, month, number, obj, objects, string, strings
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency, month_window
from connectors.records import MonthlyResources, Payment, Provenance, Resources

AGENCY = "GIP-MDS"
_PAYERS = {
    "employeur": "employer",
    "france_travail": "unemployment",
    "caisse_retraite": "pension",
    "independant": "self_employed",
}
_NATURES = {
    "salaire": "salary",
    "allocation_chomage": "unemployment_benefit",
    "pension": "pension",
    "revenu_independant": "self_employed_income",
}


# A micro-entrepreneur's activity category (``revenu_independant`` only).
_CATEGORIES = {"bic_vente": "sales", "bic_services": "services", "bnc": "non_commercial"}


def _payment(v: dict[str, Any]) -> Payment:
    payer = obj(v, "payeur")
    nature = choice(v, "nature", _NATURES)
    category = None
    if v.get("categorie") is not None:
        if nature != "self_employed_income":
            raise Malformed("categorie")
        category = choice(v, "categorie", _CATEGORIES)
    return Payment(
        payer_siret=string(payer, "siret"),
        payer_kind=choice(payer, "type", _PAYERS),
        nature=nature,
        net_social=number(v, "montant_net_social"),
        net_taxable=number(v, "montant_net_fiscal"),
        activity_category=category,
    )


def parse_resources(
    first: str, last: str, data: dict[str, Any], provenance: Provenance
) -> Resources:
    months: list[MonthlyResources] = []
    for period in objects(data, "periodes"):
        m = month(period, "mois")
        if not first <= m <= last:
            # A month outside the window asked is data we have no purpose for.
            raise Malformed("periodes.mois")
        months.append(
            MonthlyResources(m, tuple(_payment(v) for v in objects(period, "versements")))
        )
    missing = strings(data, "mois_manquants") if data.get("mois_manquants") is not None else ()
    for m in missing:
        if not (len(m) == 7 and first <= m <= last):
            raise Malformed("mois_manquants")
    if len({r.month for r in months}) != len(months) or set(missing) & {r.month for r in months}:
        raise Malformed("periodes")
    months.sort(key=lambda r: r.month)
    return Resources(tuple(months), tuple(sorted(missing)), provenance)


class GipMds(OurAgency):
    agency = AGENCY

    async def resources(
        self, identity: PivotIdentity, ctx: CallContext, first_month: str, last_month: str
    ) -> Resources:
        """Declared resources for ``first_month``..``last_month`` (``YYYY-MM``, ≤ 24 months)."""
        window = month_window(first_month, last_month, AGENCY)

        def parse(data: dict[str, Any], provenance: Provenance) -> Resources:
            return parse_resources(first_month, last_month, data, provenance)

        return await self._api.record(
            ("v1", "ressources", "identite"),
            identity,
            ctx,
            parse,
            source="gip_mds.ressources",
            extra=window,
        )
