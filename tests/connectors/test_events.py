from __future__ import annotations

from typing import Any

import pytest

from connectors import EventFeed, InvalidInput, UpstreamInvalid
from connectors.transport import RawResponse
from tests.connectors.conftest import FakeTransport, Request, answer, make_client

EVENT = {
    "id": "e1",
    "type": "move",
    "occurred_on": "2025-01-02",
    "personne": {"nomNaissance": "MARTIN", "prenoms": ["SAMUEL"], "anneeDateNaissance": 1980},
    "details": {"code_cog_insee_commune": "75102", "montant": 12.5},
}


def feed(body: dict[str, Any], seen: list[Request] | None = None) -> EventFeed:
    def handler(request: Request) -> RawResponse:
        if seen is not None:
            seen.append(request)
        return answer(200, json=body)

    http = make_client("https://agency.example/api", transport=FakeTransport(handler))
    return EventFeed(http, "CAF")


async def test_page() -> None:
    seen: list[Request] = []
    body = {"data": [EVENT], "links": {"next": "/events?since=c2"}, "meta": {"cursor": "c2"}}
    page = await feed(body, seen).page("c1", 50)
    assert page.next_cursor == "c2" and page.events[0].subject["anneeDateNaissance"] == "1980"
    assert seen[0].url.path == "/api/events"
    assert dict(seen[0].url.query) == {"since": "c1", "limit": "50"}


@pytest.mark.parametrize(
    "event",
    [
        {**EVENT, "type": "wedding"},
        {**EVENT, "occurred_on": "yesterday"},
        {**EVENT, "details": {"nested": {"x": 1}}},
        {**EVENT, "personne": "MARTIN"},
    ],
)
async def test_malformed_events(event: dict[str, Any]) -> None:
    body = {"data": [event], "links": {}, "meta": {"cursor": "c"}}
    with pytest.raises(UpstreamInvalid):
        await feed(body).page()


async def test_limits() -> None:
    with pytest.raises(InvalidInput):
        await feed({}).page(limit=501)
    with pytest.raises(InvalidInput):
        await feed({}).page(since="")
