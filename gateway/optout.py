"""One-click opting out of proactive offers: ``/desinscription?jeton=<token>``.

The token is the person's sealed proactive handle, put in every notification by the campaign:
only the gateway can open it, and nobody can make one for someone else, so no login is asked.

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

from exchange import Pseudonyms
from exchange.errors import InvalidRequest
from proactive.campaign import SECTOR
from store import Database, OfferStore, StoreUnavailable, connect

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PATH = "/desinscription"
FORM_MAX = 4096  # a token and little else: a handle is well under 1 KiB
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
padding:0 1rem;line-height:1.5}}button{{font-size:1.15rem;padding:.6rem 1.2rem}}</style>
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
<input type="hidden" name="jeton" value="{token}">
<button type="submit">Ne plus recevoir ces informations</button>
</form>
<p>Cela ne change rien à vos droits ni aux aides que vous recevez déjà.</p>"""

_DONE = """<p>C'est noté&nbsp;: vous ne recevrez plus d'information sur les aides auxquelles
vous pourriez avoir droit.</p>
<p>Cela ne change rien à vos droits ni aux aides que vous recevez déjà. Vous pouvez toujours
en faire la demande vous-même.</p>"""

_BAD = """<p>Ce lien de désinscription n'est pas valide. Vérifiez qu'il a été copié en entier
depuis le courrier, le courriel ou le SMS reçu.</p>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return HTMLResponse(_PAGE.format(title=title, body=body), status_code=status, headers=HEADERS)


def _bad() -> Response:
    return _page("Lien non valide", _BAD, 400)


class StartedOptOuts:
    """The offer store for opting out, opened in the application's lifespan (after the
    consent store has migrated the database)."""

    def __init__(self, url: str, schema: str | None) -> None:
        self._url, self._schema = url, schema
        self._database: Database | None = None
        self._store: OfferStore | None = None

    async def start(self) -> None:
        self._database = await connect(self._url, schema=self._schema)
        self._store = OfferStore(self._database)

    async def aclose(self) -> None:
        if self._database is not None:
            await self._database.aclose()

    async def opt_out(self, person: str, at: datetime) -> None:
        if self._store is None:
            raise StoreUnavailable("the offer store is not started")
        await self._store.opt_out(person, at)


class OptOutPages:
    def __init__(self, pseudonyms: Pseudonyms, opt_outs: StartedOptOuts, clock: Clock) -> None:
        self._pseudonyms = pseudonyms
        self._opt_outs = opt_outs
        self._clock = clock

    def _person(self, token: str) -> str | None:
        """The proactive pseudonym behind a token; ``None`` for anything else."""
        try:
            identity = self._pseudonyms.open(token, SECTOR)
        except InvalidRequest:
            return None
        return self._pseudonyms.pseudonym(identity, SECTOR)

    async def ask(self, request: Request) -> Response:
        token = request.query_params.get("jeton", "")
        # Checked now so that a truncated link says so before the click, not after.
        if self._person(token) is None:
            return _bad()
        body = _ASK.format(action=PATH, token=html.escape(token, quote=True))
        return _page("Ne plus être informé(e)", body)

    async def confirm(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > FORM_MAX:
            return _bad()
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=4)
        tokens = form.get("jeton", [])
        person = self._person(tokens[0]) if len(tokens) == 1 else None
        if person is None:
            return _bad()
        # Idempotent: a second click keeps the first time and shows the same page.
        await self._opt_outs.opt_out(person, self._clock())
        log.info("proactive opt-out recorded")
        return _page("Désinscription enregistrée", _DONE)


def optout_routes(pages: OptOutPages) -> list[Route]:
    return [
        Route(PATH, pages.ask, methods=["GET"]),
        Route(PATH, pages.confirm, methods=["POST"]),
    ]
