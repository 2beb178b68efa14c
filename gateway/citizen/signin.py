"""Signing a citizen in and out of their space with FranceConnect.

``/mon-espace/connexion`` starts an authorization-code flow (its state, nonce in a short
``login-citizen`` session); the return, ``/mon-espace/connexion/retour``, finishes it: the
access token and the id_token stay in the ``citizen`` session in the database, and the person
is identified exactly as a GraphQL call with that token would be (the gateway's person-token
check: the signed userinfo, opened at the provider). The session keeps the pivot identity it
gave, so that the space keeps working after FranceConnect's short-lived token has expired;
the browser holds only the session's random id.

Signing out (``POST /mon-espace/deconnexion``) deletes the session row, then sends the browser
to FranceConnect's end-session endpoint with the id_token as hint; FranceConnect sends it back
to ``/mon-espace/deconnexion/retour``. Nothing about the person is ever logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from connectors import ConnectorError, FranceConnectToken, PivotIdentity
from exchange import Citizen
from exchange.errors import PersonTokenRefused
from gateway.callers import CITIZEN_SECTOR, PersonTokenCheck
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.oidc import LoginState, OidcError, ProviderConfig, RelyingParty
from gateway.web.render import render
from gateway.web.sessions import WebSession, web_sessions
from runtime.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PREFIX = "/mon-espace"
HOME = PREFIX + "/"
LOGIN = PREFIX + "/connexion"
CALLBACK = LOGIN + "/retour"
LOGOUT = PREFIX + "/deconnexion"
LOGGED_OUT = LOGOUT + "/retour"
SESSION = "citizen"
LOGIN_SESSION = "login-citizen"
RETURN = "retour"  # ?retour=<path>: where a sign-in started from a gateway page goes back
# Only the space's own pages may be returned to: never another site (an open redirect).
RETURN_PREFIXES = (PREFIX + "/",)
SCOPE = "openid identite_pivot"  # FranceConnect's pivot identity, which identifies a person
ACR = "eidas1"


def provider_config(settings: Settings) -> ProviderConfig:
    public = settings.public_url.rstrip("/")
    return ProviderConfig(
        issuer=settings.franceconnect_issuer,
        client_id=settings.franceconnect_client_id,
        client_secret=settings.franceconnect_client_secret,
        scope=SCOPE,
        redirect_uri=public + CALLBACK,
        post_logout_redirect_uri=public + LOGGED_OUT,
        pkce=False,  # FranceConnect v2 takes no code challenge
        acr_values=ACR,
    )


def identity_data(identity: PivotIdentity) -> dict[str, Any]:
    return {
        "birth_name": identity.birth_name,
        "given_names": list(identity.given_names),
        "birth_date": identity.birth_date.isoformat(),
        "sex": identity.sex,
        "birth_country": identity.birth_country,
        "birth_place": identity.birth_place,
        "usage_name": identity.usage_name,
    }


def identity_from(data: Any) -> PivotIdentity | None:
    """The identity a session holds; ``None`` when the row is not one this module wrote."""
    try:
        return PivotIdentity(
            birth_name=data["birth_name"],
            given_names=tuple(data["given_names"]),
            birth_date=date.fromisoformat(data["birth_date"]),
            sex=data["sex"],
            birth_country=data["birth_country"],
            birth_place=data["birth_place"],
            usage_name=data["usage_name"],
        )
    except (KeyError, TypeError, ValueError, ConnectorError):
        return None


def return_path(value: object) -> str | None:
    """``value`` when it is a path of the gateway's pages a sign-in may go back to."""
    if not isinstance(value, str) or len(value) > 500 or not value.startswith(RETURN_PREFIXES):
        return None
    if "//" in value or "\\" in value or any(ord(c) < 0x20 for c in value):
        return None
    return value


def login_url(back: str) -> str:
    """The sign-in that comes back to ``back`` (a path :func:`return_path` accepts)."""
    return f"{LOGIN}?{urlencode({RETURN: back})}"


@dataclass(frozen=True)
class SignedCitizen:
    """The person of this request's ``citizen`` session, as the exchange's caller."""

    session: WebSession
    citizen: Citizen


def error_page(request: Request, title: str, message: str, status: int) -> Response:
    context = {"title": title, "message": message, "back": HOME}
    return render(request, "error.html", context, status=status)


class SignIn:
    """The FranceConnect relying party of the citizen space, and the space's sessions."""

    def __init__(
        self,
        settings: Settings,
        person_tokens: PersonTokenCheck | None,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=settings.franceconnect_timeout)
        self.party = RelyingParty(provider_config(settings), self._http, clock)
        self._persons = person_tokens
        self._clock = clock

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def current(self, request: Request) -> SignedCitizen | None:
        session = await web_sessions(request, self._clock).current(request, SESSION)
        if session is None:
            return None
        identity = identity_from(session.data.get("identity"))
        token = session.data.get("access_token")
        if identity is None or not isinstance(token, str):
            return None
        try:
            fc = FranceConnectToken(token)
        except ConnectorError:
            return None
        pseudonym = services_of(request).pseudonyms.pseudonym(identity, CITIZEN_SECTOR)
        citizen = Citizen(identity=identity, token=fc, id="citizen:" + pseudonym)
        return SignedCitizen(session, citizen)

    async def start(self, request: Request) -> Response:
        """``GET /mon-espace/connexion``: off to FranceConnect, the sign-in's state kept here."""
        try:
            login, url = await self.party.begin()
        except OidcError as exc:
            log.warning("citizen sign-in could not start", extra={"reason": exc.reason})
            return self._unavailable(request)
        response = RedirectResponse(url, status_code=303)
        data = login.to_dict()
        back = return_path(request.query_params.get(RETURN))
        if back is not None:
            data[RETURN] = back
        await web_sessions(request, self._clock).start(response, LOGIN_SESSION, data)
        return response

    async def finish(self, request: Request) -> Response:
        """``GET /mon-espace/connexion/retour``: FranceConnect's answer → a citizen session."""
        sessions = web_sessions(request, self._clock)
        pending = await sessions.current(request, LOGIN_SESSION)
        if pending is None:
            return error_page(
                request,
                "Connexion interrompue",
                "Cette connexion a expiré ou a déjà été utilisée. Recommencez depuis votre espace.",
                400,
            )
        try:
            signed = await self.party.finish(
                LoginState.from_dict(pending.data), dict(request.query_params)
            )
            if self._persons is None:
                raise PersonTokenRefused("no person-token check")
            identity = await self._persons.identity(FranceConnectToken(signed.access_token))
        except OidcError as exc:
            log.info("citizen sign-in refused", extra={"reason": exc.reason})
            response = self._refused(request, exc.reason)
            await sessions.end(request, response, LOGIN_SESSION)
            return response
        except (PersonTokenRefused, ConnectorError):
            log.info("citizen sign-in refused", extra={"reason": "person_token_refused"})
            response = self._refused(request, "person_token_refused")
            await sessions.end(request, response, LOGIN_SESSION)
            return response
        response = RedirectResponse(return_path(pending.data.get(RETURN)) or HOME, 303)
        await sessions.end(request, response, LOGIN_SESSION)
        # A sign-in replaces any session this browser had: never two people in one cookie.
        previous = await sessions.current(request, SESSION)
        if previous is not None:
            await services_of(request).web_sessions.delete(previous.id)
        data = {
            "access_token": signed.access_token,
            "id_token": signed.id_token,
            "expires_at": signed.expires_at.isoformat(),
            "identity": identity_data(identity),
        }
        await sessions.start(response, SESSION, data)
        log.info("citizen signed in")
        return response

    async def logout(self, request: Request) -> Response:
        """``POST /mon-espace/deconnexion``: the session ends here, then at FranceConnect."""
        try:
            await checked_form(request)
        except CsrfRejected:
            return error_page(
                request,
                "Formulaire expiré",
                "Ce formulaire a expiré. Rechargez la page puis recommencez.",
                403,
            )
        sessions = web_sessions(request, self._clock)
        session = await sessions.current(request, SESSION)
        id_token = session.data.get("id_token") if session is not None else None
        target = LOGGED_OUT
        if isinstance(id_token, str):
            try:
                target = await self.party.logout_url(id_token, secrets.token_urlsafe(16))
            except OidcError as exc:
                # Our session ends all the same; FranceConnect's ends with the browser.
                reason = {"reason": exc.reason}
                log.warning("citizen sign-out at FranceConnect skipped", extra=reason)
        response = RedirectResponse(target, status_code=303)
        await sessions.end(request, response, SESSION)
        log.info("citizen signed out")
        return response

    async def logged_out(self, request: Request) -> Response:
        """``GET /mon-espace/deconnexion/retour``: where FranceConnect sends the browser back."""
        signed = await self.current(request)
        return render(request, "mon-espace/deconnecte.html", {"signed_in": signed is not None})

    def _unavailable(self, request: Request) -> Response:
        return error_page(
            request,
            "FranceConnect est indisponible",
            "La connexion avec FranceConnect n'a pas pu commencer. Réessayez dans quelques "
            "minutes.",
            503,
        )

    def _refused(self, request: Request, reason: str) -> Response:
        if reason == "provider_error":
            return error_page(
                request,
                "Connexion annulée",
                "La connexion avec FranceConnect n'a pas abouti. Vous pouvez recommencer.",
                400,
            )
        if reason == "provider_unavailable":
            return self._unavailable(request)
        return error_page(
            request,
            "Connexion refusée",
            "Nous n'avons pas pu vérifier votre identité auprès de FranceConnect. Recommencez "
            "depuis votre espace.",
            400,
        )
