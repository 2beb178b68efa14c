"""Making a sandbox agency fail from a test (``PUT /_sandbox/faults``), and undoing it."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox import RunningSandbox


async def set_faults(sandbox: RunningSandbox, agency: str, faults: dict[str, Any]) -> None:
    """``faults`` as ``sandbox.faults.FaultConfig`` takes them; ``{}`` for none."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        answer = await client.put(sandbox.urls[agency] + "/_sandbox/faults", json=faults)
        assert answer.status_code == 200, answer.text


def clear_faults(sandbox: RunningSandbox) -> None:
    """Every agency of the sandbox answering again (for a fixture's teardown)."""
    with httpx.Client(timeout=5.0) as client:
        for url in sandbox.urls.values():
            client.put(url + "/_sandbox/faults", json={})
