"""Where a notification's link lands: ``/formulaires/<form>?offre=<token>``.

The page records that the offer was opened (``notified`` → ``opened``), tells the person in
plain words what happens next and sends them on to ``/mon-espace/demandes/<form>``
(:mod:`gateway.dossiers.start`): signed in with FranceConnect, they get a dossier on
démarches-simplifiées filled from the data that served the check; submitting it there marks
the offer applied (:mod:`gateway.dossiers.process`).

A button lets the person say the benefit is not for them (``POST …/refus``, the offer then
``declined``): a click, not a link, for the reason the opt-out page gives.

Opening is a statistic, not a decision, so a mail scanner following the link does no harm
beyond counting an opening. The page shows nothing about the person: whoever holds the link
learns only that a form exists. Nothing about the person is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.dossiers.start import dossier_path
from gateway.offer_link import linked_offer
from gateway.optout import HEADERS, invalid
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.render import render
from prefill import load_forms
from proactive.links import FORM_PATH, OFFER_PARAM, offer_token, opt_out_url

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DECLINE = "refus"  # POST <form link path>/refus: "this benefit is not for me"


class FormLinkPage:
    def __init__(self, public_url: str, clock: Clock) -> None:
        self._public = public_url
        self._clock = clock
        self._forms = load_forms()

    async def show(self, request: Request) -> Response:
        found = await linked_offer(request, self._forms, request.query_params.get(OFFER_PARAM))
        if isinstance(found, Response):
            return found
        form, offer = found
        await services_of(request).offers.opened(offer.id, self._clock())
        log.info("proactive offer opened")
        context = {
            "title": form.title,
            "start": f"{dossier_path(form.id)}?{OFFER_PARAM}={offer_token(offer.id)}",
            "decline": f"{FORM_PATH}/{form.id}/{DECLINE}",
            "param": OFFER_PARAM,
            "token": offer_token(offer.id),
            "opt_out": opt_out_url(self._public, offer.id),
        }
        return render(request, "offres/demande-preparee.html", context, headers=HEADERS)

    async def decline(self, request: Request) -> Response:
        """The person says the offer is not for them: it is closed as declined (they may
        still be told of other benefits; opting out of everything is the other link)."""
        try:
            fields = await checked_form(request)
        except CsrfRejected:
            return invalid(request, "Ce formulaire a expiré : rouvrez le lien reçu.", 403)
        tokens = fields.getlist(OFFER_PARAM)
        found = await linked_offer(request, self._forms, tokens[0] if len(tokens) == 1 else None)
        if isinstance(found, Response):
            return found
        _, offer = found
        await services_of(request).offers.declined(offer.id, self._clock())
        log.info("proactive offer declined")
        return render(request, "offres/refus.html", headers=HEADERS)


def formlink_routes(link: FormLinkPage) -> list[Route]:
    return [
        Route(FORM_PATH + "/{form}", link.show, methods=["GET"]),
        Route(FORM_PATH + "/{form}/" + DECLINE, link.decline, methods=["POST"]),
    ]
