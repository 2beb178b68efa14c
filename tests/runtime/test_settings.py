"""The démarches-simplifiées settings: the sandbox by default, each read from its variable."""

from __future__ import annotations

import pytest

from runtime.settings import (
    SANDBOX_DS_API_TOKEN,
    SANDBOX_DS_PORT,
    SANDBOX_DS_URL,
    SANDBOX_PORTS,
    SettingsError,
    load,
)


def test_the_sandbox_by_default() -> None:
    settings = load({})
    assert settings.ds_url == SANDBOX_DS_URL == f"http://127.0.0.1:{SANDBOX_DS_PORT}"
    assert settings.ds_api_token == SANDBOX_DS_API_TOKEN
    assert settings.ds_webhook_secret is None  # derived from the pseudonym secret
    assert SANDBOX_DS_PORT not in SANDBOX_PORTS.values()  # DS is no agency of the exchange
    assert SANDBOX_DS_API_TOKEN not in repr(settings)


def test_each_from_its_variable() -> None:
    secret = "w" * 40
    settings = load(
        {
            "UNEFOIS_DS_URL": "https://www.demarches-simplifiees.fr/",
            "UNEFOIS_DS_API_TOKEN": "instance-token",
            "UNEFOIS_DS_WEBHOOK_SECRET": secret,
            "UNEFOIS_DS_TIMEOUT": "4.5",
        }
    )
    assert settings.ds_url == "https://www.demarches-simplifiees.fr"
    assert settings.ds_api_token == "instance-token"
    assert settings.ds_webhook_secret == secret
    assert settings.ds_timeout == 4.5
    assert secret not in repr(settings)


def test_the_broker_from_its_variables() -> None:
    settings = load(
        {
            "UNEFOIS_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/",
            "UNEFOIS_BROKER_NAMESPACE": "t_1",
        }
    )
    assert settings.broker_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.broker_namespace == "t_1"
    assert "guest:guest" not in repr(settings)
    assert load({}).broker_url is None and load({}).broker_namespace == "unefois"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UNEFOIS_DS_URL": "ds.example"}, "UNEFOIS_DS_URL must be an http(s) URL"),
        ({"UNEFOIS_DS_WEBHOOK_SECRET": "short"}, "UNEFOIS_DS_WEBHOOK_SECRET: 32 to 256"),
        ({"UNEFOIS_DS_WEBHOOK_SECRET": "a/" * 20}, "UNEFOIS_DS_WEBHOOK_SECRET: 32 to 256"),
        ({"UNEFOIS_DS_TIMEOUT": "0"}, "UNEFOIS_DS_TIMEOUT must be positive"),
        (
            {"UNEFOIS_BROKER_URL": "http://guest:a/a/@broker:5672/"},
            "UNEFOIS_BROKER_URL must start with amqp://",
        ),
        ({"UNEFOIS_BROKER_NAMESPACE": "a b"}, "UNEFOIS_BROKER_NAMESPACE is a letter"),
        ({"UNEFOIS_BROKER_NAMESPACE": "-x"}, "UNEFOIS_BROKER_NAMESPACE is a letter"),
    ],
)
def test_unusable_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(env)
    assert message in str(caught.value)
    assert "a/a/" not in str(caught.value)
