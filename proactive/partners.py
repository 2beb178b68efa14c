"""A couple's partner in a campaign: identified by their traits, their resources read.

The CAF file names the partner (birth name, given names, birth date, sex) but not where they
were born, which the other agencies require. The civil registry identifies them from those
traits, then their declared resources are read: two accesses about the partner, each through
the exchange under the campaign's purpose, so each passes the policy and has its own audit
entry naming the partner's pseudonym. Nothing else of the partner is read, and the partner is
never offered anything here: only the examined person is.

Anything short of one certain partner — no birth date or sex on the file, nobody or several
persons with those traits, a partner who died, their resources not released — leaves the
person without their partner's resources, so the rules cannot evaluate them: a guess would
count a stranger's income, or none.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal, cast

from connectors import records
from connectors.civil_registry import Traits
from connectors.errors import ConnectorError, InvalidInput
from eligibility import PersonData
from eligibility.inputs import HISTORY_MONTHS, PARTNER_FIELDS, with_partner
from exchange import Caller, Exchange
from exchange.context import AccessContext
from exchange.errors import ExchangeError
from exchange.reference import PersonReference
from exchange.service import IdentifyRequest, PersonRequest

log = logging.getLogger(__name__)


def traits_of(member: records.HouseholdMember) -> Traits | None:
    """The traits a CAF file gives of a member, when they are enough to search by."""
    if member.birth_date is None or member.sex not in ("M", "F"):
        return None
    names = tuple(member.given_names.split())[:3]
    try:
        return Traits(
            member.birth_name, names, member.birth_date, cast(Literal["M", "F"], member.sex)
        )
    except InvalidInput:
        return None


class PartnerReader:
    """Completes a person's data with their partner's resources, or says it cannot."""

    def __init__(self, exchange: Exchange, caller: Caller) -> None:
        self._exchange = exchange
        self._caller = caller

    async def complete(
        self,
        data: PersonData,
        partner: records.HouseholdMember,
        context: AccessContext,
        on: date,
        period_on: date,
    ) -> PersonData | None:
        traits = traits_of(partner)
        if traits is None:
            return None
        try:
            found = await self._exchange.identify(
                IdentifyRequest(self._caller, traits, context, on)
            )
            if found.death_date is not None:
                # A partner who died is no longer in the household the rules would count.
                return None
            view = await self._exchange.person(
                PersonRequest(
                    caller=self._caller,
                    ref=PersonReference(identity=found.identity),
                    context=context,
                    fields=PARTNER_FIELDS,
                    on=on,
                    months=HISTORY_MONTHS,
                    period_on=period_on,
                )
            )
        except (ExchangeError, ConnectorError) as error:
            # The kind only: the message may describe the partner.
            log.info("campaign partner unresolved: %s", type(error).__name__)
            return None
        return with_partner(data, view.fields)
