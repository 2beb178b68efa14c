"""The in-process gateway and sandbox of the request-path tests, for the entity tests here."""

from tests.e2e.conftest import (  # noqa: F401 - pytest finds fixtures by name
    gateway,
    persons,
    reset_faults,
    rules,
    sandbox,
)
