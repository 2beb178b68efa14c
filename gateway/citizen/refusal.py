"""A citizen refusing an automatic renewal: ``/mon-espace/renouvellements/{id}/refus``.

The GET page says what refusing does (the right goes back to the end date it had before the
renewal) and asks to confirm; the POST, CSRF-checked, undoes the renewal exactly as
``unefois campaign revert-renewal`` does (:meth:`RenewalRunner.revert`): cancelled at the
CNAM, then an ``automatic_act`` entry in the audit log whose object, ``citizen-refusal``,
says the person asked, then marked reverted. Nothing is marked when the CNAM or the log
fails: the person is told, and may try again (the CNAM takes a repeated cancel as done).

Only renewals filed under the signed-in person's proactive pseudonym are found: anyone
else's id is answered as an unknown one. Without the SIRET of the body running the
renewals (``UNEFOIS_CAMPAIGN_RECIPIENT``) the CNAM cannot be called: the page says the
refusal cannot be recorded online and gives the reference to quote instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from connectors.errors import ConnectorError
from exchange.errors import ExchangeError
from gateway.citizen import wording
from gateway.citizen.pages import JOURNAL, form_expired, proactive_pseudonym
from gateway.citizen.signin import HOME, SignIn, error_page
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.render import render
from proactive.renewal import RenewalRunner
from runtime import Services
from store import Renewal

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# The audit entry's object: the undoing was asked by the person, not decided by an operator.
CAMPAIGN = "citizen-refusal"
TEMPLATE = "mon-espace/renouvellement.html"


class RenewalRefusal:
    def __init__(self, signin: SignIn, clock: Clock, recipient: str | None) -> None:
        self._signin = signin
        self._clock = clock
        self._recipient = recipient

    async def confirm(self, request: Request) -> Response:
        signed = await self._signin.current(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        services = services_of(request)
        renewal = await self._mine(services, proactive_pseudonym(services, signed.citizen), request)
        if renewal is None:
            return _unknown(request)
        return self._page(request, renewal)

    async def refuse(self, request: Request) -> Response:
        signed = await self._signin.current(request)
        try:
            await checked_form(request)
        except CsrfRejected as exc:
            log.info("citizen form refused", extra={"reason": exc.reason})
            return form_expired(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        services = services_of(request)
        renewal = await self._mine(services, proactive_pseudonym(services, signed.citizen), request)
        if renewal is None:
            return _unknown(request)
        if renewal.status == "reverted":
            return RedirectResponse(JOURNAL + "?fait=deja-annule#renouvellements", status_code=303)
        if self._recipient is None:
            return self._page(request, renewal, status=503)
        try:
            await self._runner(services, self._recipient).revert(renewal.id, CAMPAIGN)
        except ConnectorError as error:
            # The kind only: nothing about the person.
            log.warning("citizen renewal refusal failed at the agency: %s", type(error).__name__)
            return self._page(
                request,
                renewal,
                error=(
                    "L'Assurance maladie (CNAM) n'a pas pu annuler ce renouvellement pour le "
                    "moment. Rien n'a changé : réessayez plus tard."
                ),
                status=502,
            )
        except ExchangeError as error:
            log.warning("citizen renewal refusal not recorded: %s", type(error).__name__)
            return self._page(
                request,
                renewal,
                error=(
                    "Votre refus n'a pas pu être enregistré pour le moment. Réessayez plus tard."
                ),
                status=503,
            )
        log.info("automatic renewal refused by the person")
        return RedirectResponse(JOURNAL + "?fait=renouvellement-refuse#renouvellements", 303)

    async def _mine(self, services: Services, person: str, request: Request) -> Renewal | None:
        wanted = request.path_params.get("renewal")
        # Looked up among this person's renewals only: another's id is as unknown as a wrong one.
        mine = {r.id: r for r in await services.renewals.for_person(person)}
        return mine.get(wanted) if isinstance(wanted, str) else None

    def _runner(self, services: Services, recipient: str) -> RenewalRunner:
        # Built as ``unefois campaign revert-renewal`` builds it, from the same services.
        return RenewalRunner(
            services.exchange,
            services.connectors.cnam,
            services.renewals,
            services.offers,
            services.outbox,
            services.pseudonyms,
            services.auditor,
            services.catalogue,
            self._clock,
            recipient=recipient,
        )

    def _page(
        self, request: Request, renewal: Renewal, error: str | None = None, status: int = 200
    ) -> Response:
        reverted = renewal.reverted_at
        context: dict[str, Any] = {
            "signed_in": True,
            "current": "consultations",
            "done": None,
            "error": error,
            "benefit": wording.BENEFITS.get(renewal.benefit, renewal.benefit),
            "reference": renewal.id,
            "previous_end": wording.day(renewal.previous_end),
            "new_end": wording.day(renewal.new_end),
            "when": wording.day(renewal.renewed_at.astimezone(wording.PARIS).date()),
            "reverted": None
            if reverted is None
            else wording.day(reverted.astimezone(wording.PARIS).date()),
            "online": self._recipient is not None,
            "action": request.url.path,
            "back": JOURNAL + "#renouvellements",
        }
        return render(request, TEMPLATE, context, status=status)


def _unknown(request: Request) -> Response:
    return error_page(
        request, "Renouvellement introuvable", "Ce renouvellement n'est pas le vôtre.", 404
    )
