"""Signing in to the console with the agents' identity provider (ProConnect), and out.

``/console/connexion`` starts an authorization-code flow and keeps its state in a short
pre-login session; ``/console/connexion/retour`` finishes it, admits the agent only if the
catalogue lets their organisation audit (:mod:`.agent`), and starts the console session.
Signing out (a POST with the page's token) deletes the session server-side, so a copied
cookie opens nothing after it, then ends the session at the provider too. Refusals are logged
with their reason only: never a subject, a name, an e-mail or a token.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.access import HOME, KIND, LOGIN_KIND, Clock, page, problem_page, signed_in
from gateway.console.agent import authorised
from gateway.console.words import PARIS
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.oidc import LoginState, OidcError, ProviderConfig, RelyingParty
from gateway.web.sessions import web_sessions
from runtime.settings import Settings

log = logging.getLogger(__name__)

CALLBACK = "/console/connexion/retour"
LOGGED_OUT = "/console/deconnexion/retour"
# ProConnect's scopes: the organisation (siret) decides who may audit; the names greet.
SCOPE = "openid email given_name usual_name siret uid idp_id"

EXPIRED = (
    "La connexion a pris trop de temps ou a déjà été utilisée. Recommencez depuis la page "
    "d'accueil de la console."
)
CANCELLED = "La connexion a été annulée ou refusée par le fournisseur d'identité."
UNAVAILABLE = (
    "Le fournisseur d'identité ne répond pas pour le moment. Réessayez dans quelques minutes."
)
UNVERIFIED = (
    "La réponse du fournisseur d'identité n'a pas pu être vérifiée. Recommencez la connexion ; "
    "si le problème continue, prévenez l'équipe qui exploite Unefois."
)
NOT_AUDITOR = (
    "Votre organisme n'est pas habilité à contrôler les accès aux données dans Unefois. "
    "Si vous pensez devoir l'être, demandez à l'équipe qui exploite Unefois de l'ajouter au "
    "catalogue des auditeurs."
)


def provider_of(settings: Settings) -> ProviderConfig:
    base = settings.public_url.rstrip("/")
    return ProviderConfig(
        issuer=settings.agent_connect_issuer,
        client_id=settings.agent_connect_client_id,
        client_secret=settings.agent_connect_client_secret,
        scope=SCOPE,
        redirect_uri=base + CALLBACK,
        post_logout_redirect_uri=base + LOGGED_OUT,
    )


class SignIn:
    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Clock) -> None:
        self._clock = clock
        self._party = RelyingParty(provider_of(settings), http, clock)

    async def home(self, request: Request) -> Response:
        who = await signed_in(request, self._clock)
        if who is None:
            return page(request, "console/connexion.html", None)
        return page(request, "console/accueil.html", who)

    async def start(self, request: Request) -> Response:
        try:
            login, url = await self._party.begin()
        except OidcError as exc:
            log.warning("console sign-in not started", extra={"reason": exc.reason})
            return problem_page(request, None, "Connexion impossible", UNAVAILABLE, 503, HOME)
        response = RedirectResponse(url, status_code=303)
        await web_sessions(request, self._clock).start(response, LOGIN_KIND, login.to_dict())
        return response

    async def finish(self, request: Request) -> Response:
        sessions = web_sessions(request, self._clock)
        pending = await sessions.current(request, LOGIN_KIND)
        if pending is None:
            return self._refused(request, "login_expired", "Connexion expirée", EXPIRED, 400)
        params = {k: v for k, v in request.query_params.items()}
        try:
            signed = await self._party.finish(LoginState.from_dict(pending.data), params)
        except OidcError as exc:
            title, message, status = _refusal(exc)
            response = self._refused(request, exc.reason, title, message, status)
            await sessions.end(request, response, LOGIN_KIND)
            return response
        agent = authorised(services_of(request), signed.claims, self._today())
        if agent is None:
            response = self._refused(
                request, "not_auditor", "Accès réservé aux auditeurs", NOT_AUDITOR, 403
            )
            await sessions.end(request, response, LOGIN_KIND)
            return response
        response = RedirectResponse(HOME, status_code=303)
        await sessions.end(request, response, LOGIN_KIND)
        data = {"agent": agent.to_dict(), "id_token": signed.id_token, "person": None}
        await sessions.start(response, KIND, data)
        log.info("console sign-in")
        return response

    async def sign_out(self, request: Request) -> Response:
        try:
            await checked_form(request)
        except CsrfRejected:
            message = "Ce formulaire a expiré : rechargez la page puis recommencez."
            return problem_page(request, None, "Formulaire expiré", message, 403, HOME)
        sessions = web_sessions(request, self._clock)
        current = await sessions.current(request, KIND)
        id_token = current.data.get("id_token") if current is not None else None
        target = LOGGED_OUT
        if isinstance(id_token, str) and id_token:
            try:
                target = await self._party.logout_url(id_token, secrets.token_urlsafe(16))
            except OidcError as exc:  # signed out here all the same
                log.warning(
                    "console sign-out at the provider skipped", extra={"reason": exc.reason}
                )
        response = RedirectResponse(target, status_code=303)
        await sessions.end(request, response, KIND)
        return response

    async def signed_out(self, request: Request) -> Response:
        return page(request, "console/deconnecte.html", None)

    def _refused(
        self, request: Request, reason: str, title: str, message: str, status: int
    ) -> Response:
        log.info("console sign-in refused", extra={"reason": reason})
        return problem_page(request, None, title, message, status, HOME)

    def _today(self) -> date:
        return self._clock().astimezone(PARIS).date()


def _refusal(exc: OidcError) -> tuple[str, str, int]:
    if exc.reason in ("login_expired", "state_mismatch", "token_refused", "missing_code"):
        return "Connexion expirée", EXPIRED, 400
    if exc.reason == "provider_error":
        return "Connexion annulée", CANCELLED, 400
    if exc.reason == "provider_unavailable":
        return "Connexion impossible", UNAVAILABLE, 503
    return "Connexion refusée", UNVERIFIED, 400
