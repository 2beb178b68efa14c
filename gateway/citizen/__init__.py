"""The citizen space, ``/mon-espace``: FranceConnect sign-in, who read my data, my consents,
the offers made to me and the opt-out, refusing an automatic renewal or grant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from gateway.callers import PersonTokenCheck
from gateway.citizen.grant_refusal import GrantRefusal
from gateway.citizen.pages import SpacePages
from gateway.citizen.refusal import RenewalRefusal
from gateway.citizen.routes import CitizenSpace
from gateway.citizen.signin import SignIn
from runtime.settings import Settings

__all__ = ["CitizenSpace", "citizen_space"]


def citizen_space(
    settings: Settings,
    person_tokens: PersonTokenCheck | None,
    clock: Callable[[], datetime],
    http: httpx.AsyncClient | None = None,
) -> CitizenSpace:
    signin = SignIn(settings, person_tokens, clock, http)
    refusal = RenewalRefusal(signin, clock, settings.campaign_recipient)
    grants = GrantRefusal(signin, clock, settings.campaign_recipient)
    return CitizenSpace(signin, SpacePages(signin, clock), refusal, grants)
