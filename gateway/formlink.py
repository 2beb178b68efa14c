"""Where a notification's link lands: ``/formulaires/<form>?offre=<token>``.

The page records that the offer was opened (``notified`` → ``opened``), tells the person in
plain words what happens next and sends them on to the form builder, where they sign in with
FranceConnect and find the form filled from the data that served the check (the form builder
reads it through ``prefill``; submitting it through ``submitPrefill`` marks the offer applied).

Opening is a statistic, not a decision, so a mail scanner following the link does no harm
beyond counting an opening. The page shows nothing about the person: whoever holds the link
learns only that a form exists. Nothing about the person is logged.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.offers import StartedOffers
from gateway.optout import page
from prefill import load_forms
from prefill.ds import load_mapping
from prefill.errors import PrefillError
from proactive.links import FORM_PATH, OFFER_PARAM, offer_id, opt_out_url
from store import OfferNotFound

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_READY = """<p>Nous avons préparé votre demande&nbsp;: <strong>{title}</strong>.</p>
<p>Elle est déjà remplie avec les informations que les administrations connaissent.
Il vous reste à les vérifier, à les corriger si besoin, puis à envoyer la demande.</p>
<ol>
<li>Cliquez sur le bouton ci-dessous.</li>
<li>Connectez-vous avec FranceConnect (avec votre compte impots.gouv.fr, ameli.fr,
l'Identité Numérique La Poste…).</li>
<li>Vérifiez chaque information&nbsp;: la source est indiquée à côté.</li>
</ol>
<p><a class="button" href="{start}">Continuer ma demande</a></p>
<p>Ce n'est pas une décision&nbsp;: le montant exact sera calculé après votre demande.</p>
<p><a href="{opt_out}">Ne plus recevoir ces informations</a></p>"""

_UNKNOWN = """<p>Ce lien ne correspond à aucune demande. Vérifiez qu'il a été copié en entier
depuis le courrier, le courriel ou le SMS reçu.</p>"""


class FormLinkPage:
    def __init__(
        self, offers: StartedOffers, form_builder_url: str, public_url: str, clock: Clock
    ) -> None:
        self._offers = offers
        self._builder = form_builder_url.rstrip("/")
        self._public = public_url
        self._clock = clock
        self._forms = load_forms()

    def _start_url(self, form: str) -> str | None:
        try:
            procedure = load_mapping(form).procedure
        except PrefillError:
            return None
        return None if procedure is None else f"{self._builder}/commencer/{procedure}"

    async def show(self, request: Request) -> Response:
        form = self._forms.get(str(request.path_params["form"]))
        found = offer_id(request.query_params.get(OFFER_PARAM, ""))
        if form is None or found is None:
            return page("Lien non valide", _UNKNOWN, 404)
        try:
            offer = await self._offers.get(found)
        except OfferNotFound:
            return page("Lien non valide", _UNKNOWN, 404)
        start = self._start_url(form.id)
        if offer.benefit != form.benefit or start is None:
            return page("Lien non valide", _UNKNOWN, 404)
        await self._offers.opened(offer.id, self._clock())
        log.info("proactive offer opened")
        body = _READY.format(
            title=html.escape(form.title),
            start=html.escape(start, quote=True),
            opt_out=html.escape(opt_out_url(self._public, offer.id), quote=True),
        )
        return page("Votre demande est préparée", body)


def formlink_routes(link: FormLinkPage) -> list[Route]:
    return [Route(FORM_PATH + "/{form}", link.show, methods=["GET"])]
