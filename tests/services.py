"""The rule for tests that need a running service (PostgreSQL, Redis, the staging cases).

Missing, such a test is skipped on a developer's machine, and fails under ``CI=true``: CI
must test what those services carry, never skip it silently.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI must test it")
    pytest.skip(message)
