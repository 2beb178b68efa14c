"""UNEFOIS_UPSTREAM_TRANSPORT: which HTTP client every agency call goes through."""

from __future__ import annotations

import pytest

from connectors import Connectors
from connectors.transport import AiohttpTransport
from connectors.wire import WireTransport
from runtime.services import connector_config
from runtime.settings import SettingsError, load
from tests.connectors.conftest import fixed_clock


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, WireTransport), ("aiohttp", AiohttpTransport), ("wire", WireTransport)],
)
async def test_every_upstream_gets_the_transport_chosen(value: str | None, kind: type) -> None:
    settings = load({} if value is None else {"UNEFOIS_UPSTREAM_TRANSPORT": value})
    connectors = Connectors.from_config(connector_config(settings), fixed_clock)
    try:
        transports = [client._transport for client in connectors._clients.values()]
        assert transports and all(type(t) is kind for t in transports)
    finally:
        await connectors.aclose()


@pytest.mark.parametrize("value", ["httpx", "Wire", " wire"])
def test_an_unknown_transport_is_refused_at_load(value: str) -> None:
    with pytest.raises(
        SettingsError, match="UNEFOIS_UPSTREAM_TRANSPORT must be one of aiohttp, wire"
    ):
        load({"UNEFOIS_UPSTREAM_TRANSPORT": value})
