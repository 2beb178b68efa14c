"""The offer a link names: ``<path>/<form>?offre=<token>`` read back into the form and the offer.

A link's form must be one we have, its token an offer's, and the offer one for that form's
benefit; anything else is answered as a link to nothing (404), the same page whatever was
wrong, so that the answer tells nothing about which offers exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from gateway.optout import invalid
from gateway.state import services_of
from prefill import FormDef
from proactive.links import offer_id
from store import Offer, OfferNotFound

UNKNOWN = "Ce lien ne correspond à aucune demande."


async def linked_offer(
    request: Request, forms: Mapping[str, FormDef], token: object
) -> tuple[FormDef, Offer] | Response:
    """The form of the path and the offer of ``token``, or the page to answer."""
    form = forms.get(str(request.path_params["form"]))
    found = offer_id(token) if isinstance(token, str) else None
    if form is None or found is None:
        return invalid(request, UNKNOWN, 404)
    try:
        offer = await services_of(request).offers.get(found)
    except OfferNotFound:
        return invalid(request, UNKNOWN, 404)
    if offer.benefit != form.benefit:
        return invalid(request, UNKNOWN, 404)
    return form, offer
