"""The auditors' console (``/console/``): agents of the organisations the policy catalogue
lists as auditors sign in with ProConnect, search the access log, open an entry, read the
anomalies and the chain's integrity, and export a search. Every query they make is itself
recorded in the log, in their name."""

from __future__ import annotations

import httpx
from starlette.routing import Route

from gateway.console.access import Clock
from gateway.console.checks import CheckPages
from gateway.console.journal import JournalPages
from gateway.console.signin import SignIn
from runtime.settings import Settings

__all__ = ["console_routes"]


def console_routes(settings: Settings, http: httpx.AsyncClient, clock: Clock) -> list[Route]:
    signin = SignIn(settings, http, clock)
    journal = JournalPages(clock)
    checks = CheckPages(clock)
    return [
        Route("/console", signin.home, methods=["GET"]),
        Route("/console/", signin.home, methods=["GET"]),
        Route("/console/connexion", signin.start, methods=["GET"]),
        Route("/console/connexion/retour", signin.finish, methods=["GET"]),
        Route("/console/deconnexion", signin.sign_out, methods=["POST"]),
        Route("/console/deconnexion/retour", signin.signed_out, methods=["GET"]),
        Route("/console/journal", journal.search, methods=["GET"]),
        Route("/console/journal/personne", journal.person, methods=["POST"]),
        Route("/console/journal/{seq:int}", journal.entry, methods=["GET"]),
        Route("/console/journal/export/{format:str}", journal.export, methods=["GET"]),
        Route("/console/anomalies", checks.anomalies, methods=["GET"]),
        Route("/console/integrite", checks.integrity, methods=["GET"]),
    ]
