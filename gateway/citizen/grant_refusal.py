"""A citizen refusing a right granted automatically:
``/mon-espace/droits-automatiques/{id}/refus``.

The GET page says what refusing does (the CNAM withdraws the free CSS, and it will not be
granted automatically again) and asks to confirm; the POST, CSRF-checked, undoes the grant
exactly as ``unefois campaign revert-grant`` does (:meth:`GrantRunner.revert`): withdrawn at
the CNAM, then an ``automatic_act`` entry whose object, ``citizen-refusal``, says the person
asked, then marked reverted. Nothing is marked when the CNAM or the log fails: the person is
told and may try again (the CNAM takes a repeated withdrawal as done).

Only grants filed under the signed-in person's proactive pseudonym are found: anyone else's
id is answered as an unknown one. Without ``UNEFOIS_CAMPAIGN_RECIPIENT`` the CNAM cannot be
called: the page gives the reference to quote instead.
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
from proactive.grants import GrantRunner
from runtime import Services
from store import Grant, GrantStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# The audit entry's object: the undoing was asked by the person, not decided by an operator.
CAMPAIGN = "citizen-refusal"
TEMPLATE = "mon-espace/attribution.html"
ANCHOR = "#droits-automatiques"


class GrantRefusal:
    def __init__(self, signin: SignIn, clock: Clock, recipient: str | None) -> None:
        self._signin = signin
        self._clock = clock
        self._recipient = recipient

    async def confirm(self, request: Request) -> Response:
        signed = await self._signin.current(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        services = services_of(request)
        grant = await self._mine(services, proactive_pseudonym(services, signed.citizen), request)
        if grant is None:
            return _unknown(request)
        return self._page(request, grant)

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
        grant = await self._mine(services, proactive_pseudonym(services, signed.citizen), request)
        if grant is None:
            return _unknown(request)
        if grant.status != "granted":
            return RedirectResponse(JOURNAL + "?fait=attribution-deja-annulee" + ANCHOR, 303)
        if self._recipient is None:
            return self._page(request, grant, status=503)
        try:
            await self._runner(services, self._recipient).revert(grant.id, CAMPAIGN)
        except ConnectorError as error:
            # The kind only: nothing about the person.
            log.warning("citizen grant refusal failed at the agency: %s", type(error).__name__)
            return self._page(
                request,
                grant,
                error=(
                    "L'Assurance maladie (CNAM) n'a pas pu annuler ce droit pour le moment. "
                    "Rien n'a changé : réessayez plus tard."
                ),
                status=502,
            )
        except ExchangeError as error:
            log.warning("citizen grant refusal not recorded: %s", type(error).__name__)
            return self._page(
                request,
                grant,
                error="Votre refus n'a pas pu être enregistré pour le moment. Réessayez plus tard.",
                status=503,
            )
        log.info("automatic grant refused by the person")
        return RedirectResponse(JOURNAL + "?fait=attribution-refusee" + ANCHOR, 303)

    async def _mine(self, services: Services, person: str, request: Request) -> Grant | None:
        wanted = request.path_params.get("grant")
        # Looked up among this person's grants only: another's id is as unknown as a wrong one.
        mine = {g.id: g for g in await GrantStore(services.database).for_person(person)}
        return mine.get(wanted) if isinstance(wanted, str) else None

    def _runner(self, services: Services, recipient: str) -> GrantRunner:
        # Built as ``unefois campaign revert-grant`` builds it, from the same services.
        return GrantRunner(
            services.exchange,
            services.connectors.cnam,
            GrantStore(services.database),
            services.offers,
            services.outbox,
            services.pseudonyms,
            services.auditor,
            services.catalogue,
            self._clock,
            recipient=recipient,
        )

    def _page(
        self, request: Request, grant: Grant, error: str | None = None, status: int = 200
    ) -> Response:
        context: dict[str, Any] = {
            "signed_in": True,
            "current": "consultations",
            "done": None,
            "error": error,
            "benefit": wording.BENEFITS.get(grant.benefit, grant.benefit),
            "reference": grant.id,
            "start": wording.day(grant.start),
            "end": wording.day(grant.end),
            "when": wording.day(grant.granted_at.astimezone(wording.PARIS).date()),
            "ended": grant.status != "granted",
            "online": self._recipient is not None,
            "action": request.url.path,
            "back": JOURNAL + ANCHOR,
        }
        return render(request, TEMPLATE, context, status=status)


def _unknown(request: Request) -> Response:
    return error_page(request, "Droit introuvable", "Ce droit n'est pas le vôtre.", 404)
