"""CNAM: health-insurance fund and CSS status with its renewal date; CSS renewals.

A renewal is a write: the POST carries an idempotency key, so that it can be retried (and a
rerun after a crash can send it again) without renewing twice; the DELETE that reverts it is
idempotent by itself. Anything else than the documented answer is ``UpstreamInvalid``; the
agency refusing the renewal (no CSS, another end date) is :class:`RenewalRefused`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_KEY = re.compile(r"[!-~]{1,200}")  # printable ASCII, as a header value can carry


class RenewalRefused(InvalidInput):
    """The CNAM refused the renewal: the person has no CSS, or its end date is another."""


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

    async def cancel_css_renewal(self, renewal_id: str, ctx: CallContext) -> None:
        """Revert a renewal; reverting one already reverted is not an error."""
        check_recipient(ctx, AGENCY)
        if not _ID.fullmatch(renewal_id):
            raise InvalidInput("malformed renewal id", provider=AGENCY)
        await self._http.send_json("DELETE", (*RENEWALS, renewal_id), None, idempotent=True)
