"""DS's webhook: when a dossier changes state, a POST to the procedure's webhook URL.

DS's ``WebHookJob`` posts a form-encoded body (``application/x-www-form-urlencoded``) with
``procedure_id``, ``dossier_id`` (the dossier's number), ``state`` and ``updated_at`` (Ruby's
``Time#to_s`` in Paris time: ``2026-12-04 17:11:56 +0100``) and a 10-second timeout. DS
sends it once; the sandbox retries a failed call a few times with a short backoff. Calls run
in the background: a person's page never waits for them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from sandbox.demarches.typing import PARIS

TIMEOUT = 10.0
BACKOFF: tuple[float, ...] = (0.2, 1.0, 3.0)  # waits before the 2nd, 3rd and 4th attempts


def ruby_time(moment: datetime) -> str:
    """A time as Ruby's ``Time#to_s`` writes it, in Paris time."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S %z")


@dataclass
class Delivery:
    url: str
    params: dict[str, str]
    attempts: list[str] = field(default_factory=list)  # each attempt's status code or error
    delivered: bool = False


class Webhooks:
    """The procedures' webhook URLs and what was sent to them."""

    def __init__(self, backoff: Sequence[float] = BACKOFF) -> None:
        self._lock = threading.Lock()
        self._urls: dict[int, str] = {}
        self._deliveries: dict[int, list[Delivery]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._backoff = tuple(backoff)

    def set_url(self, procedure: int, url: str | None) -> None:
        with self._lock:
            if url:
                self._urls[procedure] = url
            else:
                self._urls.pop(procedure, None)

    def url(self, procedure: int) -> str | None:
        with self._lock:
            return self._urls.get(procedure)

    def deliveries(self, procedure: int) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries.get(procedure, []))

    def state_changed(self, procedure: int, dossier: int, state: str, updated_at: datetime) -> None:
        """Schedule the call if the procedure has a webhook (from the server's event loop)."""
        url = self.url(procedure)
        if url is None:
            return
        params = {
            "procedure_id": str(procedure),
            "dossier_id": str(dossier),
            "state": state,
            "updated_at": ruby_time(updated_at),
        }
        delivery = Delivery(url, params)
        with self._lock:
            self._deliveries.setdefault(procedure, []).append(delivery)
        task = asyncio.get_running_loop().create_task(self._send(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, delivery: Delivery) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            for wait in (0.0, *self._backoff):
                await asyncio.sleep(wait)
                try:
                    answer = await client.post(delivery.url, data=delivery.params)
                except httpx.HTTPError as exc:
                    delivery.attempts.append(type(exc).__name__)
                    continue
                delivery.attempts.append(str(answer.status_code))
                if answer.is_success:
                    delivery.delivered = True
                    return
