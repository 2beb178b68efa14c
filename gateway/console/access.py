"""What every console page shares: the signed-in agent, and rendering in the console's frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.agent import Agent
from gateway.web.render import render
from gateway.web.sessions import WebSession, web_sessions

Clock = Callable[[], datetime]
KIND = "console"
LOGIN_KIND = "login-console"
HOME = "/console/"
# The console's sections, for the navigation: (path, label, key).
SECTIONS = (
    ("/console/journal", "Journal des accès", "journal"),
    ("/console/anomalies", "Anomalies", "anomalies"),
    ("/console/integrite", "Intégrité du journal", "integrite"),
)


@dataclass(frozen=True)
class SignedIn:
    session: WebSession
    agent: Agent


async def signed_in(request: Request, clock: Clock) -> SignedIn | None:
    """The agent of this request's console session; ``None`` when signed out."""
    session = await web_sessions(request, clock).current(request, KIND)
    if session is None:
        return None
    agent = Agent.from_dict(session.data.get("agent") or {})
    return None if agent is None else SignedIn(session, agent)


def to_sign_in() -> Response:
    return RedirectResponse(HOME, status_code=303)


def page(
    request: Request,
    template: str,
    who: SignedIn | None,
    context: dict[str, Any] | None = None,
    *,
    section: str = "",
    status: int = 200,
) -> Response:
    values = {
        "signed_in": who is not None,
        "agent": who.agent if who else None,
        "sections": SECTIONS if who else (),
        "section": section,
        **(context or {}),
    }
    return render(request, template, values, status=status)


def problem_page(
    request: Request,
    who: SignedIn | None,
    title: str,
    message: str,
    status: int,
    back: str | None = None,
) -> Response:
    context = {"title": title, "message": message, "back": back}
    return page(request, "console/probleme.html", who, context, status=status)
