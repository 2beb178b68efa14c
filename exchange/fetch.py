"""The "fetch" step: call the planned sources concurrently; one failure never sinks the rest."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connectors import CallContext, ConnectorError, Connectors
from exchange.catalogue import Source
from exchange.reference import Subjects
from exchange.window import Window

log = logging.getLogger(__name__)

# (source name, upstream, outcome code or "ok", seconds) — metrics hang here, outside this package.
CallObserver = Callable[[str, str, str, float], None]
# (source name, its record or ``SourceFailure``), told as soon as the source has answered.
AnswerObserver = Callable[[str, object], None]


@dataclass(frozen=True)
class SourceFailure:
    code: str
    message: str
    provider: str | None = None
    retry_in: float | None = None


async def _one(
    source: Source,
    connectors: Connectors,
    subjects: Subjects,
    ctx: CallContext,
    window: Window,
    observe: CallObserver | None,
    answered: AnswerObserver | None,
) -> object:
    started = time.perf_counter()
    outcome = "ok"
    result: object
    try:
        result = await source.call(connectors, subjects, ctx, window)
    except ConnectorError as exc:
        outcome = exc.code
        result = SourceFailure(exc.code, exc.message, exc.provider, exc.retry_in)
    except Exception:
        # A defect, not an upstream fault: keep the process and the other fields alive,
        # and say nothing of it to the client.
        outcome = "INTERNAL"
        log.exception("source call failed unexpectedly", extra={"source": source.name})
        result = SourceFailure("INTERNAL", "internal error", None, None)
    finally:
        if observe is not None:
            observe(source.name, source.upstream, outcome, time.perf_counter() - started)
    if answered is not None:
        answered(source.name, result)
    return result


async def fetch_all(
    sources: tuple[Source, ...],
    connectors: Connectors,
    subjects: Subjects,
    ctx: CallContext,
    window: Window,
    observe: CallObserver | None = None,
    answered: AnswerObserver | None = None,
) -> Mapping[str, object]:
    """Source name → record, or ``SourceFailure``; each told to ``answered`` as it comes."""
    if not sources:
        return {}
    results = await asyncio.gather(
        *(_one(s, connectors, subjects, ctx, window, observe, answered) for s in sources)
    )
    return {s.name: r for s, r in zip(sources, results, strict=True)}
