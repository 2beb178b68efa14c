"""The démarches-simplifiées sandbox server: DS's prefill API, the person's dossier pages,
the GraphQL API v2 and webhooks, over the procedures of ``procedures.yaml``."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.admin import loopback_only
from sandbox.demarches import entry, graphql_api, pages
from sandbox.demarches.ids import typed_id
from sandbox.demarches.prefill import prefill, rails_params
from sandbox.demarches.procedures import Procedure, load_procedures
from sandbox.demarches.store import BROUILLON, EN_CONSTRUCTION, Dossier, DossierStore
from sandbox.demarches.webhooks import Webhooks
from sandbox.protocol import JSONResponse, bearer

SANDBOX_DS_TOKEN = "sandbox-ds-token"  # noqa: S105 - public sandbox token
_BODY_MAX = 1024 * 1024
Clock = Callable[[], float]


class DemarchesState:
    """What the server holds: procedures, dossiers, webhooks, and its own public URL."""

    def __init__(
        self,
        procedures: Mapping[int, Procedure],
        token: str,
        clock: Clock,
        webhooks: Webhooks,
    ) -> None:
        self.procedures = procedures
        self.by_path = {p.path: p for p in procedures.values()}
        self.store = DossierStore()
        self.token = token
        self.clock = clock
        self.webhooks = webhooks
        self.base_url = ""  # set by the runner to the listening URL; else the request's

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _graphql_error(message: str, code: str, status: int) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}], "data": None}
    return JSONResponse(body, status_code=status)


def _serialize(procedure: Procedure, dossier: Dossier, base: str) -> dict[str, Any]:
    """DS's ``serialize_dossier``: an unclaimed brouillon answers its link, else its state."""
    if dossier.state == BROUILLON:
        url = f"{base}/commencer/{procedure.path}?prefill_token={dossier.prefill_token}"
        head: dict[str, Any] = {"dossier_url": url, "state": "prefilled"}
    else:
        head = {"state": dossier.state}
        if dossier.depose_at is not None:
            head["submitted_at"] = graphql_api.iso(dossier.depose_at)
    return {
        **head,
        "dossier_id": typed_id("Dossier", dossier.number),
        "dossier_number": dossier.number,
        "dossier_prefill_token": dossier.prefill_token,
    }


def build_app(
    token: str = SANDBOX_DS_TOKEN,
    clock: Clock = time.time,
    procedures: Mapping[int, Procedure] | None = None,
    webhooks: Webhooks | None = None,
) -> Starlette:
    """The server; ``app.state.demarches`` is its ``DemarchesState``."""
    state = DemarchesState(procedures or load_procedures(), token, clock, webhooks or Webhooks())

    def base(request: Request) -> str:
        return state.base_url or str(request.base_url).rstrip("/")

    def procedure_of(request: Request) -> Procedure | None:
        raw = request.path_params["number"]
        return state.procedures.get(int(raw)) if raw.isdigit() else None

    async def create(request: Request) -> Response:
        if request.headers.get("content-type") != "application/json":
            return _error("Content-Type should be json", 400)
        procedure = procedure_of(request)
        if procedure is None:
            return _error(f"procedure {request.path_params['number']} is not found", 404)
        body = await request.body()
        if len(body) > _BODY_MAX:
            return _error("the body is too large", 413)
        try:
            params = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            return _error("Error occurred while parsing request parameters", 400)
        params = params if isinstance(params, dict) else {}
        dossier = prefill(state.store, procedure, params, state.now())
        return JSONResponse(_serialize(procedure, dossier, base(request)), status_code=201)

    async def index(request: Request) -> Response:
        procedure = procedure_of(request)
        if procedure is None:
            return _error(f"procedure {request.path_params['number']} is not found", 404)
        tokens = {t for v in request.query_params.getlist("prefill_token") for t in v.split(",")}
        tokens |= {t for v in request.query_params.getlist("prefill_token[]") for t in v.split(",")}
        found = [
            d
            for d in state.store.of_procedure(procedure.number)
            if d.prefill_token in tokens and d.prefilled
        ]
        return JSONResponse([_serialize(procedure, d, base(request)) for d in found])

    def form_page(
        procedure: Procedure, dossier: Dossier, raw: entry.Raw, errors: dict[str, str]
    ) -> Response:
        action = f"/commencer/{procedure.path}?prefill_token={dossier.prefill_token}"
        html = pages.dossier_form(procedure, dossier, raw, errors, action)
        return HTMLResponse(html, status_code=422 if errors else 200)

    def missing(title: str, text: str) -> Response:
        return HTMLResponse(pages.message(title, text), status_code=404)

    async def commencer(request: Request) -> Response:
        procedure = state.by_path.get(request.path_params["path"])
        if procedure is None:
            return missing("Démarche introuvable", "Cette démarche n'existe pas.")
        token = request.query_params.get("prefill_token")
        if token:
            dossier = state.store.by_token(token)
            if dossier is None or dossier.procedure != procedure.number:
                return missing("Dossier introuvable", "Ce lien de dossier n'est pas valide.")
            if dossier.state not in (BROUILLON, EN_CONSTRUCTION):
                return RedirectResponse(f"/dossiers/{dossier.number}/merci", status_code=303)
            # A dossier en construction can still be modified by the person, as on DS.
            return form_page(procedure, dossier, entry.raw_from_dossier(procedure, dossier), {})
        params = rails_params(request.query_params.multi_items())
        if any(k.startswith(("champ_", "identite_")) for k in params):
            dossier = prefill(state.store, procedure, params, state.now())
            return form_page(procedure, dossier, entry.raw_from_dossier(procedure, dossier), {})
        return HTMLResponse(pages.start(procedure, f"/commencer/{procedure.path}"))

    async def submit(request: Request) -> Response:
        procedure = state.by_path.get(request.path_params["path"])
        if procedure is None:
            return missing("Démarche introuvable", "Cette démarche n'existe pas.")
        token = request.query_params.get("prefill_token")
        if not token:  # "Commencer la démarche" without a prefill: an empty dossier
            empty = state.store.create(
                procedure.number, {}, frozenset(), {}, state.now(), prefilled=False
            )
            url = f"/commencer/{procedure.path}?prefill_token={empty.prefill_token}"
            return RedirectResponse(url, status_code=303)
        found = state.store.by_token(token)
        if found is None or found.procedure != procedure.number:
            return missing("Dossier introuvable", "Ce lien de dossier n'est pas valide.")
        dossier = found
        async with request.form(max_files=0, max_fields=2000) as form:
            raw = entry.as_raw({k: [str(v) for v in form.getlist(k)] for k in form})
        action = (raw.pop("_action", None) or ["deposer"])[0]
        if action != "deposer":
            verb, _, rest = action.partition(":")
            champ_id, _, index = rest.partition(":")
            champ = next((c for c in procedure.champs if c.id == champ_id), None)
            if champ is not None and champ.type == "repetition":
                if verb == "ajouter":
                    entry.add_row(raw, champ)
                elif verb == "supprimer" and index.isdigit():
                    entry.remove_row(raw, champ, int(index))
            return form_page(procedure, dossier, raw, {})
        checked = entry.check(procedure, raw)
        if checked.errors:
            return form_page(procedure, dossier, raw, checked.errors)
        now = state.now()
        with dossier.lock:
            if dossier.state == EN_CONSTRUCTION:
                # Modified after its deposit: DS keeps the new values and the date of the
                # change (dateDerniereModification) and calls no webhook — no state changed.
                dossier.values = checked.values
                dossier.identity = checked.identity
                dossier.updated_at = now
                return RedirectResponse(f"/dossiers/{dossier.number}/merci", status_code=303)
            if dossier.state != BROUILLON:
                return RedirectResponse(f"/dossiers/{dossier.number}/merci", status_code=303)
            dossier.values = checked.values
            dossier.identity = checked.identity
            dossier.state = EN_CONSTRUCTION
            dossier.depose_at = dossier.updated_at = now
        state.webhooks.state_changed(procedure.number, dossier.number, dossier.state, now)
        return RedirectResponse(f"/dossiers/{dossier.number}/merci", status_code=303)

    async def merci(request: Request) -> Response:
        raw = request.path_params["number"]
        dossier = state.store.by_number(int(raw)) if raw.isdigit() else None
        if dossier is None or dossier.state == BROUILLON:
            return missing("Dossier introuvable", "Ce dossier n'a pas été déposé.")
        return HTMLResponse(pages.deposited(state.procedures[dossier.procedure], dossier))

    async def preremplir(request: Request) -> Response:
        procedure = state.by_path.get(request.path_params["path"])
        if procedure is None:
            return missing("Démarche introuvable", "Cette démarche n'existe pas.")
        return HTMLResponse(pages.preremplir(procedure, base(request)))

    async def schema(request: Request) -> Response:
        procedure = state.by_path.get(request.path_params["path"])
        if procedure is None:
            return _error(f"procedure {request.path_params['path']} is not found", 404)
        return JSONResponse(graphql_api.demarche_descriptor(procedure))

    async def graphql(request: Request) -> Response:
        given = bearer(request.headers.get("authorization"))
        if given is None or not hmac.compare_digest(given.encode(), state.token.encode()):
            return _graphql_error(
                "Without a token, only persisted queries are allowed", "forbidden", 403
            )
        body = await request.body()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return _graphql_error(str(exc), "graphql_parse_failed", 400)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _graphql_error("query is missing", "bad_request", 400)
        variables = payload.get("variables")
        if isinstance(variables, str):
            variables = orjson.loads(variables) if variables.strip() else {}
        if variables is not None and not isinstance(variables, dict):
            return _graphql_error(f"Unexpected parameter: {variables}", "bad_request", 400)
        result = graphql_api.execute(
            payload["query"], variables, payload.get("operationName"), state.procedures, state.store
        )
        return JSONResponse(result)

    async def put_webhook(request: Request) -> Response:
        procedure = procedure_of(request)
        if procedure is None:
            return _error(f"procedure {request.path_params['number']} is not found", 404)
        try:
            raw = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error('expected a JSON object {"url": ...}', 400)
        url = raw.get("url") if isinstance(raw, dict) else None
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            return _error("url must be an http(s) URL or null", 400)
        state.webhooks.set_url(procedure.number, url)
        return JSONResponse({"url": url})

    async def get_webhook(request: Request) -> Response:
        procedure = procedure_of(request)
        if procedure is None:
            return _error(f"procedure {request.path_params['number']} is not found", 404)
        deliveries = [
            {"url": d.url, "params": d.params, "attempts": d.attempts, "delivered": d.delivered}
            for d in state.webhooks.deliveries(procedure.number)
        ]
        return JSONResponse({"url": state.webhooks.url(procedure.number), "deliveries": deliveries})

    async def list_dossiers(request: Request) -> Response:
        procedure = procedure_of(request)
        if procedure is None:
            return _error(f"procedure {request.path_params['number']} is not found", 404)
        out = [
            {
                "number": d.number,
                "state": d.state,
                "prefill_token": d.prefill_token,
                "prefilled": d.prefilled,
            }
            for d in state.store.of_procedure(procedure.number)
        ]
        return JSONResponse({"data": out})

    routes = [
        Route("/api/public/v1/demarches/{number}/dossiers", create, methods=["POST"]),
        Route("/api/public/v1/demarches/{number}/dossiers", index, methods=["GET"]),
        Route("/commencer/{path}", commencer, methods=["GET"]),
        Route("/commencer/{path}", submit, methods=["POST"]),
        Route("/dossiers/{number}/merci", merci, methods=["GET"]),
        Route("/preremplir/{path}", preremplir, methods=["GET"]),
        Route("/preremplir/{path}/schema", schema, methods=["GET"]),
        Route("/api/v2/graphql", graphql, methods=["POST"]),
        Route("/_sandbox/demarches/{number}/webhook", loopback_only(put_webhook), methods=["PUT"]),
        Route("/_sandbox/demarches/{number}/webhook", loopback_only(get_webhook), methods=["GET"]),
        Route(
            "/_sandbox/demarches/{number}/dossiers", loopback_only(list_dossiers), methods=["GET"]
        ),
    ]
    app = Starlette(routes=routes)
    app.state.demarches = state
    return app
