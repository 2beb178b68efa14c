"""The composition root: settings (the only reader of the environment) and the services
built from them, once, for the application and for every command (DESIGN §3)."""

from runtime.errors import ConfigurationError, RuntimeSetupError
from runtime.services import Parts, Services, connector_config
from runtime.settings import Settings, SettingsError, load

__all__ = [
    "ConfigurationError",
    "Parts",
    "RuntimeSetupError",
    "Services",
    "Settings",
    "SettingsError",
    "connector_config",
    "load",
]
