"""The sandbox démarches-simplifiées made ready for the embedded product (``unefois run``).

The sandbox serves a few published procedures and ships, beside them, the mapping file of
each (``sandbox/demarches/mappings/*.yaml``). At every start of the embedded product, once
the sandbox is up and before the gateway serves: each mapping file is registered as an
administration would register it (``unefois procedure register``, checked against the
catalogue and DS's descriptors), and each procedure's webhook is pointed at this gateway's
notifications endpoint through the sandbox's loopback-only admin endpoint
(``PUT /_sandbox/demarches/<number>/webhook``). Both steps replace what an earlier start did.

Nothing here runs against any other instance: :func:`is_sandbox` says whether the configured
address is the sandbox's own (a real DS has no ``/_sandbox`` and is never called there). The
mapping files are located without importing the sandbox, which the product never imports.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from gateway.procedures import ProcedureRejected, register_procedure, webhook_url
from runtime import Services
from runtime.settings import SANDBOX_DS_PORT, Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SANDBOX_PACKAGE = "sandbox"
MAPPINGS = ("demarches", "mappings")  # inside the sandbox package
ADMIN_WEBHOOK = "/_sandbox/demarches/{number}/webhook"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
ADMIN_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReadyProcedure:
    number: int
    path: str
    form: str


@dataclass(frozen=True)
class SandboxDs:
    """What the start made ready: the sandbox's address, the procedures registered with
    their webhook set, and what could not be done (a file refused, a webhook not set)."""

    url: str
    procedures: tuple[ReadyProcedure, ...]
    problems: tuple[str, ...] = ()


def is_sandbox(settings: Settings) -> bool:
    """Whether ``UNEFOIS_DS_URL`` is the local sandbox's (``unefois run`` starts it there)."""
    parts = urlsplit(settings.ds_url)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in LOOPBACK
        and port == SANDBOX_DS_PORT
        and parts.path.strip("/") == ""
    )


def mapping_files() -> list[Path]:
    """The sandbox procedures' mapping files, found where the sandbox package is installed
    (located, not imported); none when the package is not there."""
    spec = importlib.util.find_spec(SANDBOX_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location, *MAPPINGS)
        if folder.is_dir():
            return sorted(folder.glob("*.yaml"))
    return []


async def set_webhook(http: httpx.AsyncClient, ds_url: str, number: int, url: str) -> None:
    """Point procedure ``number``'s webhook at ``url`` (the sandbox's admin endpoint);
    :class:`httpx.HTTPError` when the sandbox does not take it."""
    answer = await http.put(
        ds_url.rstrip("/") + ADMIN_WEBHOOK.format(number=number),
        json={"url": url},
        timeout=ADMIN_TIMEOUT,
    )
    answer.raise_for_status()


async def prepare(
    services: Services, now: datetime, http: httpx.AsyncClient, files: list[Path] | None = None
) -> SandboxDs:
    """Register the sandbox's procedures and set their webhooks to this gateway; what fails
    is reported in :attr:`SandboxDs.problems`, the rest still done."""
    settings = services.settings
    hook = webhook_url(settings.public_url, services.ds_webhook_secret)
    ready: list[ReadyProcedure] = []
    problems: list[str] = []
    for path in mapping_files() if files is None else files:
        try:
            procedure, _ = await register_procedure(services, path, now)
        except ProcedureRejected as exc:
            problems.append(f"refused: {exc}")
            continue
        try:
            await set_webhook(http, settings.ds_url, procedure.number, hook)
        except httpx.HTTPError as exc:
            problems.append(f"procedure {procedure.number}: webhook not set ({type(exc).__name__})")
            continue
        ready.append(ReadyProcedure(procedure.number, procedure.path, procedure.form))
    if not ready and not problems:
        problems.append("no procedure mapping file found in the sandbox package")
    log.info("sandbox démarches-simplifiées ready: %d procedures", len(ready))
    return SandboxDs(settings.ds_url.rstrip("/"), tuple(ready), tuple(problems))


async def prepare_sandbox(settings: Settings, clock: Clock) -> SandboxDs:
    """:func:`prepare` on services of its own, opened and closed here (before serving)."""
    async with (
        Services.open(settings, clock) as services,
        httpx.AsyncClient(follow_redirects=False) as http,
    ):
        return await prepare(services, clock(), http)
