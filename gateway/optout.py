"""One-click opting out of proactive offers: ``/desinscription?offre=<token>``.

The token names the offer the notification was about (``proactive.links``): a random id only
the person's messages carry, so no login is asked, and it opens nothing but that offer's
person pseudonym — nobody can make one for someone else.

``GET`` only shows a page with one button: mail scanners and link previews follow links, and
must not opt anyone out. The button ``POST``s the token back, which records the opt-out under
the proactive pseudonym, the key offers are filed under. Nothing about the person is logged.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.state import services_of
from proactive.links import OFFER_PARAM, OPT_OUT_PATH, offer_id
from store import OfferNotFound

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PATH = OPT_OUT_PATH
FORM_MAX = 4096  # a token and little else
# The token is a capability: keep it out of caches, referrers and search engines.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – Unefois</title>
<style>body{{font-family:sans-serif;font-size:1.15rem;max-width:36rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5}}button,a.button{{font-size:1.15rem;padding:.6rem 1.2rem}}\
a.button{{display:inline-block;border:2px solid;text-decoration:none}}</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""

_ASK = """<p>Vous ne souhaitez plus être informé(e) des aides auxquelles vous pourriez avoir
droit&nbsp;? Un clic suffit.</p>
<form method="post" action="{action}">
<input type="hidden" name="{param}" value="{token}">
<button type="submit">Ne plus recevoir ces informations</button>
</form>
<p>Cela ne change rien à vos droits ni aux aides que vous recevez déjà.</p>"""

_DONE = """<p>C'est noté&nbsp;: vous ne recevrez plus d'information sur les aides auxquelles
vous pourriez avoir droit.</p>
<p>Cela ne change rien à vos droits ni aux aides que vous recevez déjà. Vous pouvez toujours
en faire la demande vous-même.</p>"""

_BAD = """<p>Ce lien de désinscription n'est pas valide. Vérifiez qu'il a été copié en entier
depuis le courrier, le courriel ou le SMS reçu.</p>"""


def page(title: str, body: str, status: int = 200) -> Response:
    """A small page in the gateway's plain style, with the capability headers."""
    return HTMLResponse(_PAGE.format(title=title, body=body), status_code=status, headers=HEADERS)


def _bad() -> Response:
    return page("Lien non valide", _BAD, 400)


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
            return _bad()
        body = _ASK.format(action=PATH, param=OFFER_PARAM, token=html.escape(token, quote=True))
        return page("Ne plus être informé(e)", body)

    async def confirm(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > FORM_MAX:
            return _bad()
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=4)
        tokens = form.get(OFFER_PARAM, [])
        person = await self._person(request, tokens[0]) if len(tokens) == 1 else None
        if person is None:
            return _bad()
        # Idempotent: a second click keeps the first time and shows the same page.
        await services_of(request).offers.opt_out(person, self._clock())
        log.info("proactive opt-out recorded")
        return page("Désinscription enregistrée", _DONE)


def optout_routes(pages: OptOutPages) -> list[Route]:
    return [
        Route(PATH, pages.ask, methods=["GET"]),
        Route(PATH, pages.confirm, methods=["POST"]),
    ]
