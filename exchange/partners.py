"""The partner of a person whose rights are examined: identified by their traits, then read.

The CAF file (or the tax household) names the partner — birth name, given names, birth date,
sex — but not where they were born, which the other agencies require. The civil registry
identifies them from those traits, then the fields asked are read: two accesses about the
partner, each through the exchange under the same request (caller, purpose, recipient,
object), each decided by the purpose's ``partner`` section and audited under the partner's
pseudonym as an access about a household member (``exchange.auditing.member_details``).

Anything short of one certain partner — no birth date or sex on the file, nobody or several
persons with those traits, a partner who died, a purpose that does not allow it, the fields
not released — reads nothing more and says what is missing and why: a guess would count a
stranger's income, or none.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

from connectors import records
from connectors.civil_registry import Traits
from connectors.errors import AGENCY_FAILURES, Ambiguous, ConnectorError, InvalidInput, NotFound
from exchange.caller import Caller
from exchange.context import AccessContext
from exchange.errors import AccessRefused, ExchangeError
from exchange.reference import PersonReference
from exchange.service import IDENTIFICATION_FIELD, Exchange, IdentifyRequest, PersonRequest

log = logging.getLogger(__name__)

NOT_ALLOWED = "not allowed by the purpose"
# Why a field was not released, by its failure code, in the words of a "missing" item.
_FAILED = {
    "FORBIDDEN": NOT_ALLOWED,
    "CONSENT_REQUIRED": NOT_ALLOWED,
    "NOT_FOUND": "unknown to the agency",
    "UPSTREAM_TIMEOUT": "the agency did not answer in time",
    "UPSTREAM_UNAVAILABLE": "the agency is unavailable",
    "UPSTREAM_INVALID": "the agency's answer was invalid",
    "RATE_LIMITED": "the agency asked to slow down",
}


@dataclass(frozen=True)
class PartnerRequest:
    """Read ``fields`` about ``member``, the partner of the person examined in ``household_of``
    (that examination's access id), under the same caller and context; and ``optional``
    with them when the purpose's partner section allows them (else they are left out, and
    the caller does without them). ``tax_year``: the income year of the partner's tax
    household, when it is read."""

    caller: Caller
    member: records.HouseholdMember
    context: AccessContext
    fields: frozenset[str]
    on: date
    household_of: str
    months: int = 12
    period_on: date | None = None
    optional: frozenset[str] = frozenset()
    tax_year: int | None = None


@dataclass(frozen=True)
class PartnerRead:
    """The records released about the partner, by field; or, when they could not all be
    read, ``missing``: what is missing and why (``partner identification (several persons
    match)``, ``partner resources (not allowed by the purpose)``)."""

    fields: Mapping[str, object]
    missing: str | None = None
    # An agency failed to answer (``connectors.errors.AGENCY_FAILURES``): asked again later,
    # the partner may be read; otherwise what is missing is what the agencies answered.
    agency_failed: bool = False


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


def _unresolved(why: str, agency_failed: bool = False) -> PartnerRead:
    return PartnerRead({}, f"partner identification ({why})", agency_failed)


class PartnerReader:
    """Reads what a purpose may read about a person's partner, or says why it cannot."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def refusal(self, request: PartnerRequest) -> str | None:
        """Why the purpose may not read these fields about a partner (None: it may). Pure:
        checked first, so that nobody is searched for when nothing could be read."""
        asked = request.fields | {IDENTIFICATION_FIELD}
        verdict = self._exchange.partner_verdict(request.caller, request.context, asked, request.on)
        denied = {f for f, d in verdict.fields.items() if d.effect != "allow"}
        if denied & request.fields:
            return f"{_names(sorted(denied & request.fields))} ({NOT_ALLOWED})"
        if denied or verdict.request.effect != "allow":
            return f"partner identification ({NOT_ALLOWED})"
        return None

    def _allowed_optional(self, request: PartnerRequest) -> frozenset[str]:
        if not request.optional:
            return frozenset()
        asked = request.optional | {IDENTIFICATION_FIELD}
        verdict = self._exchange.partner_verdict(request.caller, request.context, asked, request.on)
        return frozenset(f for f in request.optional if verdict.fields[f].effect == "allow")

    async def read(self, request: PartnerRequest) -> PartnerRead:
        refused = self.refusal(request)
        if refused is not None:
            return PartnerRead({}, refused)
        fields = request.fields | self._allowed_optional(request)
        traits = traits_of(request.member)
        if traits is None:
            return _unresolved("no birth date or sex on the household's file")
        try:
            found = await self._exchange.identify(
                IdentifyRequest(
                    request.caller,
                    traits,
                    request.context,
                    request.on,
                    household_of=request.household_of,
                )
            )
        except Ambiguous:
            return _unresolved("several persons match")
        except NotFound:
            return _unresolved("nobody matches")
        except AccessRefused:
            return _unresolved(NOT_ALLOWED)
        except (ExchangeError, ConnectorError) as error:
            # The kind only: the message may describe the partner.
            log.info("partner identification failed: %s", type(error).__name__)
            code = getattr(error, "code", "")
            return _unresolved(_FAILED.get(code, "not completed"), code in AGENCY_FAILURES)
        if found.death_date is not None:
            # A partner who died is no longer in the household the rules would count.
            return _unresolved("the person found is deceased")
        try:
            view = await self._exchange.person(
                PersonRequest(
                    caller=request.caller,
                    ref=PersonReference(identity=found.identity),
                    context=request.context,
                    fields=fields,
                    on=request.on,
                    months=request.months,
                    period_on=request.period_on,
                    tax_year=request.tax_year,
                    household_of=request.household_of,
                )
            )
        except (ExchangeError, ConnectorError) as error:
            log.info("partner read failed: %s", type(error).__name__)
            why = NOT_ALLOWED if isinstance(error, AccessRefused) else "not completed"
            failed = getattr(error, "code", "") in AGENCY_FAILURES
            return PartnerRead({}, f"{_names(sorted(request.fields))} ({why})", failed)
        if view.failures:
            # A field the caller needs is named first, before an optional one.
            field, failure = min(
                view.failures.items(), key=lambda item: (item[0] not in request.fields, item[0])
            )
            why = _FAILED.get(failure.code, "not released")
            failed = bool(view.agency_failures())
            return PartnerRead(view.fields, f"{_names([field])} ({why})", failed)
        return PartnerRead(view.fields)


def _names(fields: list[str]) -> str:
    return ", ".join(f"partner {f}" for f in fields)
