"""The pages' own errors: an address that leads nowhere, a method a page does not take, a
fault while a page was made — in French, in the site's layout, for the people the pages are
for. The endpoints machines call (GraphQL, OAuth, health, metrics, démarches-simplifiées'
webhook, the static files) keep their short plain-text answers.

The error page shows nothing of the request or of the fault: the fault is logged where the
server logs it (the exception goes on to it once the page is sent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from gateway.web.render import render

log = logging.getLogger(__name__)

# Paths that machines call: their errors stay as the framework answers them.
MACHINE_PREFIXES = (
    "/graphql",
    "/oauth/",
    "/.well-known/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/demarches-simplifiees/",
    "/static/",
)
_HOME = "/"
_TITLES = {
    404: (
        "Page introuvable",
        "Cette adresse ne mène à aucune page. Vérifiez-la, ou repartez de la page d'accueil.",
    ),
    405: (
        "Action impossible",
        "Cette page ne permet pas cette action. Repartez de la page d'accueil.",
    ),
}
_FAULT = (
    "Le service ne répond pas",
    "Le service rencontre un problème et n'a pas pu afficher cette page. Rien de ce que vous "
    "avez fait n'est perdu : réessayez dans quelques minutes.",
)
# When even the layout cannot be made (the fault may be in what the layout needs).
_BARE = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{0}</title></head>'
    "<body><h1>{0}</h1><p>{1}</p></body></html>"
)

Handler = Callable[[Request, Exception], Awaitable[Response]]


def is_page(path: str) -> bool:
    return not path.startswith(MACHINE_PREFIXES)


def _page(
    request: Request, title: str, message: str, status: int, headers: Mapping[str, str]
) -> Response:
    context = {"title": title, "message": message, "back": _HOME}
    try:
        return render(request, "error.html", context, status=status, headers=dict(headers))
    except Exception:
        log.exception("error page could not be rendered")
        return HTMLResponse(_BARE.format(title, message), status_code=status, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """A 404 or 405 from the router (or raised by a page as ``HTTPException``)."""
    assert isinstance(exc, HTTPException)  # registered for HTTP statuses only
    headers = dict(exc.headers or {})
    if not is_page(request.url.path) or exc.status_code not in _TITLES:
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=headers)
    title, message = _TITLES[exc.status_code]
    return _page(request, title, message, exc.status_code, headers)


async def fault(request: Request, exc: Exception) -> Response:
    """Anything a handler did not catch: a 500, as a page on the pages' paths."""
    if not is_page(request.url.path):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return _page(request, *_FAULT, 500, {"Cache-Control": "no-store"})


def handlers() -> dict[int, Handler]:
    return {404: http_error, 405: http_error, 500: fault}
