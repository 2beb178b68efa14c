"""One-click opting out of proactive offers: ``/desinscription?offre=<token>``.

The token names the offer the notification was about (``proactive.links``): a random id only
the person's messages carry, so no login is asked, and it opens nothing but that offer's
person pseudonym — nobody can make one for someone else.

``GET`` only shows a page with one button: mail scanners and link previews follow links, and
must not opt anyone out. The button ``POST``s the token back, which records the opt-out under
the proactive pseudonym, the key offers are filed under. Nothing about the person is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.render import render
from proactive.links import OFFER_PARAM, OPT_OUT_PATH, offer_id
from store import OfferNotFound

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PATH = OPT_OUT_PATH
# The token is a capability: keep it out of caches, referrers and search engines.
HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
INVALID = "Ce lien de désinscription n'est pas valide."


def invalid(request: Request, message: str = INVALID, status: int = 400) -> Response:
    return render(
        request, "offres/lien-invalide.html", {"message": message}, status=status, headers=HEADERS
    )


class OptOutPages:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def _person(self, request: Request, token: str) -> str | None:
        """The proactive pseudonym of the offer behind a token; ``None`` for anything else."""
        found = offer_id(token)
        if found is None:
            return None
        try:
            return (await services_of(request).offers.get(found)).person
        except OfferNotFound:
            return None

    async def ask(self, request: Request) -> Response:
        token = request.query_params.get(OFFER_PARAM, "")
        # Checked now so that a truncated link says so before the click, not after.
        if await self._person(request, token) is None:
            return invalid(request)
        context = {"action": PATH, "param": OFFER_PARAM, "token": token}
        return render(request, "offres/desinscription.html", context, headers=HEADERS)

    async def confirm(self, request: Request) -> Response:
        try:
            form = await checked_form(request)
        except CsrfRejected:
            return invalid(request, "Ce formulaire a expiré : rouvrez le lien reçu.", 403)
        tokens = form.getlist(OFFER_PARAM)
        token = tokens[0] if len(tokens) == 1 else None
        person = await self._person(request, token) if isinstance(token, str) else None
        if person is None:
            return invalid(request)
        # Idempotent: a second click keeps the first time and shows the same page.
        await services_of(request).offers.opt_out(person, self._clock())
        log.info("proactive opt-out recorded")
        return render(request, "offres/desinscription-faite.html", headers=HEADERS)


def optout_routes(pages: OptOutPages) -> list[Route]:
    return [
        Route(PATH, pages.ask, methods=["GET"]),
        Route(PATH, pages.confirm, methods=["POST"]),
    ]
