"""Where a notification's link lands: ``/formulaires/<form>?offre=<token>``.

The page records that the offer was opened (``notified`` → ``opened``), tells the person in
plain words what happens next and sends them on to the form builder, where they sign in with
FranceConnect and find the form filled from the data that served the check (the form builder
reads it through ``prefill``; submitting it through ``submitPrefill`` marks the offer applied).

A button lets the person say the benefit is not for them (``POST …/refus``, the offer then
``declined``): a click, not a link, for the reason the opt-out page gives.

Opening is a statistic, not a decision, so a mail scanner following the link does no harm
beyond counting an opening. The page shows nothing about the person: whoever holds the link
learns only that a form exists. Nothing about the person is logged.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.optout import FORM_MAX, page
from gateway.state import services_of
from prefill import load_forms
from prefill.ds import load_mapping
from prefill.errors import PrefillError
from proactive.links import FORM_PATH, OFFER_PARAM, offer_id, offer_token, opt_out_url
from store import OfferNotFound

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DECLINE = "refus"  # POST <form link path>/refus: "this benefit is not for me"

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
<form method="post" action="{decline}">
<input type="hidden" name="{param}" value="{token}">
<button type="submit">Cette aide ne me concerne pas</button>
</form>
<p><a href="{opt_out}">Ne plus recevoir aucune information de ce type</a></p>"""

_DECLINED = """<p>C'est noté&nbsp;: nous ne vous relancerons pas pour cette aide.</p>
<p>Si votre situation change, vous pourrez toujours en faire la demande vous-même.</p>"""

_UNKNOWN = """<p>Ce lien ne correspond à aucune demande. Vérifiez qu'il a été copié en entier
depuis le courrier, le courriel ou le SMS reçu.</p>"""


class FormLinkPage:
    def __init__(self, form_builder_url: str, public_url: str, clock: Clock) -> None:
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
            offer = await services_of(request).offers.get(found)
        except OfferNotFound:
            return page("Lien non valide", _UNKNOWN, 404)
        start = self._start_url(form.id)
        if offer.benefit != form.benefit or start is None:
            return page("Lien non valide", _UNKNOWN, 404)
        await services_of(request).offers.opened(offer.id, self._clock())
        log.info("proactive offer opened")
        body = _READY.format(
            title=html.escape(form.title),
            start=html.escape(start, quote=True),
            decline=html.escape(f"{FORM_PATH}/{form.id}/{DECLINE}", quote=True),
            param=OFFER_PARAM,
            token=html.escape(offer_token(offer.id), quote=True),
            opt_out=html.escape(opt_out_url(self._public, offer.id), quote=True),
        )
        return page("Votre demande est préparée", body)

    async def decline(self, request: Request) -> Response:
        """The person says the offer is not for them: it is closed as declined (they may
        still be told of other benefits; opting out of everything is the other link)."""
        form = self._forms.get(str(request.path_params["form"]))
        raw = await request.body()
        fields = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=4)
        tokens = fields.get(OFFER_PARAM, [])
        found = offer_id(tokens[0]) if len(tokens) == 1 and len(raw) <= FORM_MAX else None
        if form is None or found is None:
            return page("Lien non valide", _UNKNOWN, 404)
        try:
            offer = await services_of(request).offers.get(found)
        except OfferNotFound:
            return page("Lien non valide", _UNKNOWN, 404)
        if offer.benefit != form.benefit:
            return page("Lien non valide", _UNKNOWN, 404)
        await services_of(request).offers.declined(offer.id, self._clock())
        log.info("proactive offer declined")
        return page("C'est noté", _DECLINED)


def formlink_routes(link: FormLinkPage) -> list[Route]:
    return [
        Route(FORM_PATH + "/{form}", link.show, methods=["GET"]),
        Route(FORM_PATH + "/{form}/" + DECLINE, link.decline, methods=["POST"]),
    ]
