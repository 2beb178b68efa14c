"""France Travail through API Particulier: job-seeker status, contact and unemployment payments.

The person is named by their France Travail identifier; an answer whose ``identifiant``
differs from the one asked is about someone else and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from connectors.api_particulier import ApiParticulier
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import InvalidInput
from connectors.fields import (
    Malformed,
    WrongPerson,
    day,
    number,
    objects,
    opt_day,
    opt_integer,
    opt_obj,
    opt_string,
    string,
)
from connectors.http import UpstreamClient
from connectors.records import (
    Contact,
    JobSeekerStatus,
    Provenance,
    UnemploymentPayment,
    UnemploymentPayments,
)
from connectors.source import Fetcher

AGENCY = "France Travail"
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Deliberately narrow: an address a mail server would accept, no display name, no spaces.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_EMAIL_MAX = 254  # RFC 5321's path limit, less the angle brackets
# A French mobile number, national (06…, 07…) or international (+336…, 00336…) form.
_MOBILE = re.compile(r"(?:0|\+33|0033)([67][0-9]{8})")
# Each payment splits into allowances, aids and other sums; one record per non-zero part.
_PARTS = (
    ("montant_allocations", "allowance"),
    ("montant_aides", "aid"),
    ("montant_autres", "other"),
)


def check_identifier(identifier: str) -> None:
    if not _IDENTIFIER.fullmatch(identifier):
        raise InvalidInput("malformed France Travail identifier", provider=AGENCY)


def _same(data: dict[str, Any], identifier: str) -> None:
    if string(data, "identifiant") != identifier:
        raise WrongPerson


def parse_status(
    identifier: str, on: date, data: dict[str, Any], provenance: Provenance
) -> JobSeekerStatus:
    _same(data, identifier)
    registration = opt_obj(data, "inscription") or {}
    since = opt_day(registration, "date_debut")
    until = opt_day(registration, "date_fin")
    if since is not None and until is not None and until < since:
        raise Malformed("inscription.date_fin")
    category = opt_obj(registration, "categorie") or {}
    registered = since is not None and since <= on and (until is None or on <= until)
    return JobSeekerStatus(
        identifier=identifier,
        registered=registered,
        registered_since=since,
        registered_until=until,
        category_code=opt_integer(category, "code"),
        category_label=opt_string(category, "libelle"),
        provenance=provenance,
    )


def email_address(raw: str | None) -> str | None:
    """``raw`` when it is a usable e-mail address, else None."""
    if raw is None:
        return None
    text = raw.strip()
    return text if len(text) <= _EMAIL_MAX and _EMAIL.fullmatch(text) else None


def mobile_number(raw: str | None) -> str | None:
    """A French mobile number in E.164 (``+33612345678``), or None for anything else
    (landlines, foreign or malformed numbers): only mobiles receive text messages."""
    if raw is None:
        return None
    compact = re.sub(r"[\s.()-]", "", raw)
    found = _MOBILE.fullmatch(compact)
    return "+33" + found.group(1) if found else None


def parse_contact(identifier: str, data: dict[str, Any], provenance: Provenance) -> Contact:
    _same(data, identifier)
    contact = opt_obj(data, "contact") or {}
    email = email_address(opt_string(contact, "email"))
    phones = (opt_string(contact, "telephone"), opt_string(contact, "telephone2"))
    mobile = next((m for m in map(mobile_number, phones) if m is not None), None)
    return Contact(email=email, mobile=mobile, provenance=provenance)


def parse_payments(
    identifier: str, data: dict[str, Any], provenance: Provenance
) -> UnemploymentPayments:
    _same(data, identifier)
    payments: list[UnemploymentPayment] = []
    for p in objects(data, "paiements"):
        paid_on = day(p, "date_versement")
        total = number(p, "montant_total")
        parts = [(kind, number(p, key)) for key, kind in _PARTS if p.get(key) is not None]
        parts = [(kind, amount) for kind, amount in parts if amount]
        if not parts and total:
            parts = [("unspecified", total)]
        payments += [UnemploymentPayment(paid_on, amount, kind) for kind, amount in parts]
    payments.sort(key=lambda p: p.date)
    return UnemploymentPayments(identifier, tuple(payments), provenance)


class FranceTravail:
    def __init__(
        self,
        http: UpstreamClient,
        cache: Cache,
        clock: Callable[[], datetime],
        *,
        ttl: float = 300.0,
    ) -> None:
        self._api = ApiParticulier(http)
        self._fetcher = Fetcher(cache, clock, ttl)

    async def status(self, identifier: str, ctx: CallContext) -> JobSeekerStatus:
        check_identifier(identifier)

        def parse(data: dict[str, Any], provenance: Provenance) -> JobSeekerStatus:
            return parse_status(identifier, ctx.on, data, provenance)

        return await self._fetcher.record(
            agency=AGENCY,
            source="api_particulier.france_travail.statut",
            subject_key="ft:" + identifier,
            params=(),
            ctx=ctx,
            fetch=lambda: self._api.france_travail("statut", identifier, ctx),
            parse=parse,
        )

    async def payments(self, identifier: str, ctx: CallContext) -> UnemploymentPayments:
        check_identifier(identifier)

        def parse(data: dict[str, Any], provenance: Provenance) -> UnemploymentPayments:
            return parse_payments(identifier, data, provenance)

        return await self._fetcher.record(
            agency=AGENCY,
            source="api_particulier.france_travail.indemnites",
            subject_key="ft:" + identifier,
            params=(),
            ctx=ctx,
            fetch=lambda: self._api.france_travail("indemnites", identifier, ctx),
            parse=parse,
        )

    async def contact(self, identifier: str, ctx: CallContext) -> Contact:
        """The e-mail address and mobile number of the status answer, as their own record:
        a purpose may be granted the registration without the means to reach the person."""
        check_identifier(identifier)

        def parse(data: dict[str, Any], provenance: Provenance) -> Contact:
            return parse_contact(identifier, data, provenance)

        return await self._fetcher.record(
            agency=AGENCY,
            source="api_particulier.france_travail.statut",
            subject_key="ft:" + identifier,
            params=("contact",),
            ctx=ctx,
            fetch=lambda: self._api.france_travail("statut", identifier, ctx),
            parse=parse,
        )
