"""A couple's partner in a campaign: the exchange's partner reading, fed to the rules.

The identification and the read are ``exchange.partners``' (shared with the interactive
queries): both accesses under the campaign's purpose, decided by its partner section, each
audited under the partner's pseudonym as an access about a household member. The partner is
never offered anything here: only the examined person is. Anything short of one certain
partner leaves the person without their partner's resources, so the rules cannot evaluate
them; an agency failing to answer is told apart (``Completion.agency_failed``): the person is
then left unread rather than counted as unevaluable. The fields read are the interactive
queries' (``eligibility.inputs.PARTNER_FIELDS``: the resources and the AAH status; and, when
the purpose allows them, for an ASPA campaign the CNAV record of a partner of its age, for the
RSA, the PPA and the CSS the tax household of a partner filing apart:
``optional_partner_fields``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from connectors import records
from eligibility import PersonData
from eligibility.inputs import (
    HISTORY_MONTHS,
    PARTNER_FIELDS,
    optional_partner_fields,
    tax_year,
    with_partner,
)
from exchange import Caller, Exchange, PartnerRequest
from exchange import PartnerReader as ExchangePartnerReader
from exchange.context import AccessContext


@dataclass(frozen=True)
class Completion:
    """The person's data with their partner's records, or None when the rules cannot have
    them; ``agency_failed`` when an agency did not answer (asked again later, it may)."""

    data: PersonData | None
    agency_failed: bool = False


class PartnerReader:
    """Completes a person's data with their partner's records, or says it cannot."""

    def __init__(self, exchange: Exchange, caller: Caller) -> None:
        self._reader = ExchangePartnerReader(exchange)
        self._caller = caller

    async def complete(
        self,
        data: PersonData,
        partner: records.HouseholdMember,
        context: AccessContext,
        on: date,
        period_on: date,
        household_of: str,
        benefit: str,
    ) -> Completion:
        month = period_on.isoformat()[:7]
        read = await self._reader.read(
            PartnerRequest(
                self._caller,
                partner,
                context,
                PARTNER_FIELDS,
                on,
                household_of,
                months=HISTORY_MONTHS,
                period_on=period_on,
                optional=optional_partner_fields((benefit,), partner, month, data),
                tax_year=tax_year(month),
            )
        )
        # The partner's resources are required; their AAH status, when it alone was not
        # released, is taken at its bounds by the rules (``with_partner``).
        return Completion(with_partner(data, read.fields), read.agency_failed)
