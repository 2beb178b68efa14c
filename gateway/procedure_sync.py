"""Catching up with démarches-simplifiées: the dossiers a lost webhook call did not bring back.

For each registered procedure, :func:`sync_procedures` asks DS for the dossiers updated since
the procedure's cursor (all of them the first time), and hands each to
:func:`~gateway.dossiers.process.process_dossier`, which processes those the gateway created
and the person submitted, once (a webhook call and a sync cannot both process one).

The cursor per procedure is DS's own ``dateDerniereModification`` (no clock of ours compared
with DS's), kept in the feed cursors. DS answers the dossiers updated at or after the date
asked, so the last ones come again: each (dossier, modification date) handled is marked and
skipped the next time. A dossier whose processing failed is not marked, and the cursor stays
where it was, so the next sync tries it again. Nothing about the person is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors import ConnectorError
from gateway.clients import ClientRegistry
from gateway.dossiers.process import Result, process_dossier
from gateway.sealing import Sealer
from runtime import Services

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
FEED = "demarches-simplifiees:{number}"


@dataclass
class SyncCounts:
    """What a sync did with the dossiers it found; ``unreachable``: DS could not list them."""

    processed: int = 0
    already: int = 0
    not_ours: int = 0
    not_submitted: int = 0
    failed: int = 0
    rejected: int = 0
    unreachable: bool = False
    # The dossiers rejected: their number, the code and the form's field ids (never a value).
    rejections: list[tuple[int, Mapping[str, Any]]] = field(default_factory=list)

    def add(self, result: Result) -> None:
        setattr(self, result, getattr(self, result) + 1)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreachable


@dataclass
class SyncReport:
    by_procedure: dict[int, SyncCounts] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.by_procedure.values())

    def total(self) -> SyncCounts:
        out = SyncCounts()
        for c in self.by_procedure.values():
            for name in ("processed", "already", "not_ours", "not_submitted", "failed", "rejected"):
                setattr(out, name, getattr(out, name) + getattr(c, name))
            out.rejections += c.rejections
            out.unreachable = out.unreachable or c.unreachable
        return out


def _modified(node: Mapping[str, Any]) -> datetime | None:
    value = node.get("dateDerniereModification") or node.get("dateDepot")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _event(node: Mapping[str, Any]) -> str:
    return f"{node['number']}@{node.get('dateDerniereModification') or node.get('dateDepot')}"


async def sync_procedure(
    services: Services,
    registry: ClientRegistry,
    sealer: Sealer,
    number: int,
    clock: Clock,
    since: datetime | None = None,
) -> SyncCounts:
    """One procedure's dossiers updated since its cursor (or ``since``, when given)."""
    feed = FEED.format(number=number)
    counts = SyncCounts()
    stored_text = await services.cursors.get(feed)
    stored = datetime.fromisoformat(stored_text) if stored_text else None
    read_from = since if since is not None else stored
    try:
        nodes = await services.demarches.dossiers(number, updated_since=read_from)
    except ConnectorError as error:
        log.warning("procedure's dossiers not listed: %s", type(error).__name__)
        counts.unreachable = True
        return counts
    dated = sorted(
        ((_modified(n), n) for n in nodes),
        key=lambda pair: pair[0].timestamp() if pair[0] is not None else float("inf"),
    )
    newest: tuple[datetime, str] | None = None
    for moment, node in dated:
        event = _event(node)
        if moment is not None and (newest is None or moment > newest[0]):
            raw = node.get("dateDerniereModification") or node.get("dateDepot")
            newest = (moment, str(raw))
        if await services.cursors.seen(feed, event):
            continue
        done = await process_dossier(services, registry, sealer, int(node["number"]), clock())
        counts.add(done.result)
        if done.result == "rejected" and done.outcome is not None:
            counts.rejections.append((int(node["number"]), done.outcome["rejected"]))
        if done.result != "failed":
            await services.cursors.mark(feed, [event], clock())
    # Forward only, and not past a window this run did not read (``since`` after the cursor).
    may_move = counts.failed == 0 and (stored is None or read_from is None or read_from <= stored)
    if may_move and newest is not None and (stored is None or newest[0] > stored):
        await services.cursors.advance(feed, newest[1], clock())
    return counts


async def sync_procedures(
    services: Services,
    registry: ClientRegistry,
    sealer: Sealer,
    clock: Clock,
    since: datetime | None = None,
) -> SyncReport:
    """Every registered procedure, one after the other."""
    report = SyncReport()
    for record in sorted(await services.procedures.all(), key=lambda r: r.number):
        report.by_procedure[record.number] = await sync_procedure(
            services, registry, sealer, record.number, clock, since
        )
    return report
