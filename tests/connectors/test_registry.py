from __future__ import annotations

import pytest

from connectors import UPSTREAMS, ClientCredentials, ConnectorConfig, Connectors, UpstreamConfig
from connectors.http import StaticToken
from tests.connectors.conftest import fixed_clock


def config(**kwargs: object) -> ConnectorConfig:
    upstreams = {
        name: UpstreamConfig(
            name,
            f"https://{name.replace('_', '-')}.example/base",
            timeout=2.0,
            pool_size=8,
            token="api-token" if name == "api_particulier" else None,
            client_id=None if name == "api_particulier" else "client",
            client_secret=None if name == "api_particulier" else "secret",
        )
        for name in UPSTREAMS
    }
    return ConnectorConfig(upstreams=upstreams, **kwargs)  # type: ignore[arg-type]


async def test_from_config_wires_every_agency() -> None:
    connectors = Connectors.from_config(config(), fixed_clock)
    try:
        assert connectors.circuits() == dict.fromkeys(UPSTREAMS, "closed")
        clients = connectors._clients
        assert isinstance(clients["api_particulier"].auth, StaticToken)
        assert isinstance(clients["dgfip"].auth, ClientCredentials)
        assert set(connectors.feeds) == set(UPSTREAMS)
    finally:
        await connectors.aclose()


def test_missing_upstream_is_refused() -> None:
    cfg = config()
    partial = ConnectorConfig(upstreams={"api_particulier": cfg.upstreams["api_particulier"]})
    with pytest.raises(ValueError, match="gip_mds"):
        Connectors.from_config(partial, fixed_clock)


def test_secrets_stay_out_of_repr() -> None:
    text = repr(config())
    assert "api-token" not in text and "secret" not in text
