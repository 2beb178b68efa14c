"""The citizen space's routes, under ``/mon-espace``."""

from __future__ import annotations

from starlette.routing import Route

from gateway.citizen.grant_refusal import GrantRefusal
from gateway.citizen.pages import (
    CONSENTS,
    DECLINE,
    GRANT_REFUSAL,
    JOURNAL,
    OFFERS,
    OPT_OUT,
    REFUSAL,
    REVOKE,
    SpacePages,
)
from gateway.citizen.refusal import RenewalRefusal
from gateway.citizen.signin import CALLBACK, HOME, LOGGED_OUT, LOGIN, LOGOUT, PREFIX, SignIn


class CitizenSpace:
    """Sign-in and pages of the space; :meth:`aclose` when the application stops."""

    def __init__(
        self,
        signin: SignIn,
        pages: SpacePages,
        refusal: RenewalRefusal,
        grant_refusal: GrantRefusal | None = None,
    ) -> None:
        self.signin = signin
        self.pages = pages
        self.refusal = refusal
        self.grant_refusal = grant_refusal

    async def aclose(self) -> None:
        await self.signin.aclose()

    def routes(self) -> list[Route]:
        signin, pages, refusal = self.signin, self.pages, self.refusal
        grants = (
            []
            if self.grant_refusal is None
            else [
                Route(GRANT_REFUSAL, self.grant_refusal.confirm, methods=["GET"]),
                Route(GRANT_REFUSAL, self.grant_refusal.refuse, methods=["POST"]),
            ]
        )
        return [
            Route(PREFIX, pages.home, methods=["GET"]),
            Route(HOME, pages.home, methods=["GET"]),
            Route(LOGIN, signin.start, methods=["GET"]),
            Route(CALLBACK, signin.finish, methods=["GET"]),
            Route(LOGOUT, signin.logout, methods=["POST"]),
            Route(LOGGED_OUT, signin.logged_out, methods=["GET"]),
            Route(JOURNAL, pages.journal, methods=["GET"]),
            Route(CONSENTS, pages.consents, methods=["GET"]),
            Route(CONSENTS, pages.grant, methods=["POST"]),
            Route(REVOKE, pages.revoke, methods=["POST"]),
            Route(OFFERS, pages.offers, methods=["GET"]),
            Route(DECLINE, pages.decline, methods=["POST"]),
            Route(OPT_OUT, pages.opt_out, methods=["POST"]),
            Route(REFUSAL, refusal.confirm, methods=["GET"]),
            Route(REFUSAL, refusal.refuse, methods=["POST"]),
            *grants,
        ]
