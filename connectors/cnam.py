"""CNAM: health-insurance fund and CSS status with its renewal date; CSS renewals and
attributions of the free CSS.

A renewal is a write: the POST carries an idempotency key, so that it can be retried (and a
rerun after a crash can send it again) without renewing twice; the DELETE that reverts it is
idempotent by itself. Anything else than the documented answer is ``UpstreamInvalid``; the
agency refusing the renewal (no CSS, another end date) is :class:`RenewalRefused`. An
attribution is the same kind of write, refused (:class:`AttributionRefused`) when the person
already has the CSS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.api_particulier import check_recipient, envelope
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import InvalidInput, UpstreamInvalid
from connectors.fields import Malformed, boolean, day, obj, opt_boolean, opt_day, string
from connectors.http import UpstreamClient
from connectors.identity import PivotIdentity
from connectors.ours import OurAgency
from connectors.records import CssRenewal, HealthInsurance, Provenance

AGENCY = "CNAM"
RENEWALS = ("v1", "complementaire-sante-solidaire", "renouvellements")
ATTRIBUTIONS = ("v1", "complementaire-sante-solidaire", "attributions")
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_KEY = re.compile(r"[!-~]{1,200}")  # printable ASCII, as a header value can carry


class RenewalRefused(InvalidInput):
    """The CNAM refused the renewal: the person has no CSS, or its end date is another."""


class AttributionRefused(InvalidInput):
    """The CNAM refused the attribution: the person already has the CSS (or is unknown)."""


@dataclass(frozen=True)
class CssAttribution:
    """The free CSS the CNAM attributed: from ``start`` to ``end``, no participation."""

    id: str
    start: date
    end: date


def parse_attribution(body: dict[str, Any], start: date) -> CssAttribution:
    data = envelope(body, AGENCY).data
    try:
        attribution = CssAttribution(
            id=string(data, "id"), start=day(data, "date_debut"), end=day(data, "date_fin")
        )
        free = not boolean(data, "avec_participation")
    except Malformed as exc:
        raise UpstreamInvalid(
            f"{AGENCY}: malformed attribution ({exc.field})", provider=AGENCY
        ) from None
    if not _ID.fullmatch(attribution.id):
        raise UpstreamInvalid(f"{AGENCY}: malformed attribution id", provider=AGENCY)
    if not free or attribution.start != start or attribution.end <= attribution.start:
        # Not the free CSS from the day asked: not the attribution asked for.
        raise UpstreamInvalid(f"{AGENCY}: the attribution is inconsistent", provider=AGENCY)
    return attribution


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


def parse_renewal(body: dict[str, Any], current_end: date) -> CssRenewal:
    data = envelope(body, AGENCY).data
    try:
        renewal = CssRenewal(
            id=string(data, "id"),
            start=day(data, "date_debut"),
            end=day(data, "date_fin"),
            with_participation=boolean(data, "avec_participation"),
        )
    except Malformed as exc:
        raise UpstreamInvalid(
            f"{AGENCY}: malformed renewal ({exc.field})", provider=AGENCY
        ) from None
    if not _ID.fullmatch(renewal.id):
        raise UpstreamInvalid(f"{AGENCY}: malformed renewal id", provider=AGENCY)
    if renewal.start != current_end or renewal.end <= renewal.start:
        # A period that does not follow the right renewed is not the renewal asked for.
        raise UpstreamInvalid(f"{AGENCY}: the renewal's period is inconsistent", provider=AGENCY)
    return renewal


class Cnam(OurAgency):
    agency = AGENCY

    def __init__(
        self,
        http: UpstreamClient,
        cache: Cache,
        clock: Callable[[], datetime],
        *,
        ttl: float = 300.0,
    ) -> None:
        super().__init__(http, cache, clock, ttl=ttl)
        self._http = http

    async def health_insurance(self, identity: PivotIdentity, ctx: CallContext) -> HealthInsurance:
        return await self._api.record(
            ("v1", "assurance-maladie", "identite"),
            identity,
            ctx,
            parse_health_insurance,
            source="cnam.assurance_maladie",
        )

    async def renew_css(
        self, identity: PivotIdentity, current_end: date, idempotency_key: str, ctx: CallContext
    ) -> CssRenewal:
        """Renew the person's CSS that ends on ``current_end``; the same key always answers
        the same renewal, so the call is retried (and may be replayed) safely."""
        check_recipient(ctx, AGENCY)
        if not _KEY.fullmatch(idempotency_key):
            raise InvalidInput("malformed idempotency key", provider=AGENCY)
        body: dict[str, Any] = {"recipient": ctx.recipient}
        for name, value in identity.query_params():
            if name == "prenoms[]":
                body.setdefault(name, []).append(value)
            else:
                body[name] = value
        body["date_fin_actuelle"] = current_end.isoformat()
        try:
            answer = await self._http.send_json(
                "POST",
                RENEWALS,
                body,
                headers={"Idempotency-Key": idempotency_key},
                idempotent=True,
            )
        except InvalidInput:
            raise RenewalRefused(f"{AGENCY}: renewal refused", provider=AGENCY) from None
        if answer is None:
            raise UpstreamInvalid(f"{AGENCY}: empty renewal answer", provider=AGENCY)
        return parse_renewal(answer, current_end)

    async def attribute_css(
        self, identity: PivotIdentity, start: date, idempotency_key: str, ctx: CallContext
    ) -> CssAttribution:
        """Attribute the free CSS from ``start`` to a person who has none; the same key always
        answers the same attribution, so the call is retried (and replayed) safely."""
        check_recipient(ctx, AGENCY)
        if not _KEY.fullmatch(idempotency_key):
            raise InvalidInput("malformed idempotency key", provider=AGENCY)
        body: dict[str, Any] = {"recipient": ctx.recipient}
        for name, value in identity.query_params():
            if name == "prenoms[]":
                body.setdefault(name, []).append(value)
            else:
                body[name] = value
        body["date_debut"] = start.isoformat()
        try:
            answer = await self._http.send_json(
                "POST",
                ATTRIBUTIONS,
                body,
                headers={"Idempotency-Key": idempotency_key},
                idempotent=True,
            )
        except InvalidInput:
            raise AttributionRefused(f"{AGENCY}: attribution refused", provider=AGENCY) from None
        if answer is None:
            raise UpstreamInvalid(f"{AGENCY}: empty attribution answer", provider=AGENCY)
        return parse_attribution(answer, start)

    async def withdraw_css_attribution(self, attribution_id: str, ctx: CallContext) -> None:
        """Withdraw an attribution; withdrawing one already withdrawn is not an error."""
        check_recipient(ctx, AGENCY)
        if not _ID.fullmatch(attribution_id):
            raise InvalidInput("malformed attribution id", provider=AGENCY)
        await self._http.send_json("DELETE", (*ATTRIBUTIONS, attribution_id), None, idempotent=True)

    async def cancel_css_renewal(self, renewal_id: str, ctx: CallContext) -> None:
        """Revert a renewal; reverting one already reverted is not an error."""
        check_recipient(ctx, AGENCY)
        if not _ID.fullmatch(renewal_id):
            raise InvalidInput("malformed renewal id", provider=AGENCY)
        await self._http.send_json("DELETE", (*RENEWALS, renewal_id), None, idempotent=True)
