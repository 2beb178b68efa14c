"""DS's webhook: ``POST /demarches-simplifiees/notifications/<secret>``.

A procedure's administrator sets this URL as the procedure's webhook on démarches-simplifiées;
DS then posts ``procedure_id``, ``dossier_id`` (the dossier's number), ``state`` and
``updated_at`` whenever a dossier changes state. The secret path segment
(``UNEFOIS_DS_WEBHOOK_SECRET``) is what tells DS's calls from anyone else's: DS signs nothing.
The call carries no data about the person; the gateway reads the dossier through DS's API.

Answers: 200 when handled (processed, or not one of ours, or already processed), 404 for a
wrong secret, 400 for a call without a dossier number, 503 when processing failed (DS tries
again later; ``unefois procedure sync`` catches up too).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.client_store import ClientSource
from gateway.dossiers.process import process_dossier
from gateway.sealing import Sealer
from gateway.state import services_of
from store import StoreError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PATH = "/demarches-simplifiees/notifications/{secret}"
MAX_BODY = 4096  # four short parameters


class DossierWebhook:
    def __init__(self, clients: ClientSource, clock: Clock) -> None:
        self._clients = clients
        self._clock = clock

    async def receive(self, request: Request) -> Response:
        services = services_of(request)
        given = str(request.path_params.get("secret", "")).encode()
        expected = services.ds_webhook_secret.encode()
        if not expected or not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "not found"}, status_code=404)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        params = await _params(request, body)
        number = params.get("dossier_id", "")
        # ASCII digits only: str.isdigit() takes '²', which int() refuses.
        if not (number.isascii() and number.isdigit()) or len(number) > 12:
            return JSONResponse({"error": "dossier_id must be a dossier number"}, status_code=400)
        sealer = Sealer(services.seal_key)
        try:
            registry = await self._clients.current(request)
        except StoreError:
            return JSONResponse({"result": "failed"}, status_code=503)
        done = await process_dossier(services, registry, sealer, int(number), self._clock())
        if done.result == "failed":
            return JSONResponse({"result": done.result}, status_code=503)
        if done.result == "rejected" and done.outcome is not None:
            # Received, and refused for good as it is: no retry would change it.
            return JSONResponse({"result": done.result, **done.outcome["rejected"]})
        return JSONResponse({"result": done.result})


async def _params(request: Request, body: bytes) -> dict[str, str]:
    """DS posts its parameters form-encoded; a JSON body is taken too."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def webhook_routes(webhook: DossierWebhook) -> list[Route]:
    return [Route(PATH, webhook.receive, methods=["POST"])]
