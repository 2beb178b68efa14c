"""System tests: the sandbox and the gateway as real processes, killed and restarted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.catalogue import with_everything
from tests.system._stack import Sandbox, running_sandbox

SANDBOX_SIZE = 2000
PURPOSE = "system_everything"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "system: starts the sandbox and gateways as subprocesses (tests/system)"
    )


def system_catalogue(directory: Path) -> Path:
    """A copy of the shipped catalogue with the :data:`PURPOSE` purpose added."""
    return with_everything(directory, PURPOSE)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), SANDBOX_SIZE) as running:
        yield running


@pytest.fixture(scope="session")
def persons(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every sandbox person, in index order (the tests take disjoint slices)."""
    out: list[dict[str, Any]] = []
    with httpx.Client(timeout=10.0) as http:
        while len(out) < SANDBOX_SIZE:
            answer = http.get(
                sandbox.urls["civil_registry"] + "/_sandbox/persons",
                params={"offset": len(out), "limit": 1000},
            )
            answer.raise_for_status()
            page = answer.json()["data"]
            if not page:
                break
            out.extend(page)
    assert len(out) == SANDBOX_SIZE
    return out


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return system_catalogue(tmp_path_factory.mktemp("catalogue"))
