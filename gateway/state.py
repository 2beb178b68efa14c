"""The services a request is served with: opened by the application's lifespan.

Handlers are built with the application, before the lifespan runs; they find the services the
lifespan opened on ``app.state``, as Starlette intends.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from runtime import Services


class NotStarted(RuntimeError):
    """A request reached the application before its lifespan opened the services."""


def services_of(connection: HTTPConnection) -> Services:
    services = getattr(connection.app.state, "services", None)
    if not isinstance(services, Services):
        raise NotStarted("the application's services are not open (lifespan not run)")
    return services
