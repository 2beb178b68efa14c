"""Agency event feeds (births, moves, job loss and job found, resource drops, right
expiries, RSA rights opened, deaths).

``GET /events?since=<cursor>&limit=<n>`` on any upstream, with its usual authentication.
Events are about many persons, so there is no identity check and nothing is cached; each
event is validated, and an unknown event type makes the page ``UpstreamInvalid`` rather
than being silently dropped (a dropped event is a missed proactive offer).
"""

from __future__ import annotations

from typing import Any

from connectors.errors import InvalidInput, UpstreamInvalid
from connectors.fields import Malformed, day, obj, objects, string
from connectors.http import UpstreamClient
from connectors.records import AgencyEvent, EventPage

MAX_LIMIT = 500
MAX_CURSOR = 512
EVENT_TYPES = frozenset(
    {
        "birth",
        "move",
        "job_loss",
        "job_found",
        "resource_drop",
        "right_expiry",
        "rsa_granted",
        "death",
    }
)


def _subject(d: dict[str, Any]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key, value in d.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # birth year/month/day may come as numbers
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            out[key] = value
        elif value is not None:
            raise Malformed("personne")
    return out


def _details(d: dict[str, Any]) -> dict[str, str | float | int | None]:
    out: dict[str, str | float | int | None] = {}
    for key, value in d.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
            raise Malformed("details")
        out[key] = value
    return out


def _event(e: dict[str, Any]) -> AgencyEvent:
    kind = string(e, "type")
    if kind not in EVENT_TYPES:
        raise Malformed("type")
    details = e.get("details") or {}
    if not isinstance(details, dict):
        raise Malformed("details")
    return AgencyEvent(
        id=string(e, "id"),
        type=kind,
        occurred_on=day(e, "occurred_on"),
        subject=_subject(obj(e, "personne")),
        details=_details(details),
    )


def parse_page(body: dict[str, Any]) -> EventPage:
    events = tuple(_event(e) for e in objects(body, "data"))
    cursor = string(obj(body, "meta"), "cursor")
    if len(cursor) > MAX_CURSOR or not cursor.isprintable():
        raise Malformed("meta.cursor")
    return EventPage(events, cursor)


class EventFeed:
    def __init__(self, http: UpstreamClient, agency: str) -> None:
        self._http = http
        self.agency = agency

    async def page(self, since: str | None = None, limit: int = 100) -> EventPage:
        """Events after ``since`` (an opaque cursor from a previous page; None: the start)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", provider=self.agency)
        params = [("limit", str(limit))]
        if since is not None:
            if not since or len(since) > MAX_CURSOR or not since.isprintable():
                raise InvalidInput("malformed event cursor", provider=self.agency)
            params.insert(0, ("since", since))
        body = await self._http.get_json(("events",), params, provider=self.agency)
        try:
            return parse_page(body)
        except Malformed as exc:
            raise UpstreamInvalid(
                f"{self.agency}: malformed event page (field {exc.field})", provider=self.agency
            ) from None
