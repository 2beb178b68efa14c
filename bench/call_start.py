"""``python -m bench.call_start``: how soon an access's agency requests are on their way.

Starts the sandbox agencies (every agency answering after ``--latency-ms``), builds the
gateway's connectors as the product does (settings → :class:`connectors.Connectors`, the wire
transport, the in-process cache), and reads one person after another through
:func:`exchange.fetch.fetch_all`, every source of the person view planned (the France Travail
ones for persons registered there), each person new so that every agency is called. For each
access it notes when the fan-out started, when each agency call started and when each request
was written on its socket (the bench wraps :meth:`connectors.pool.Connection.exchange`, whose
first step is that write), then prints medians and tenth percentiles over the accesses, and the
CPU this process spent per access.

No gateway, no HTTP server of ours, no load generator: only the connectors' own work competes
with the sandbox for the cores, so the figures move less than a whole request's. For
instruction counts, which do not move at all, run it twice under
``valgrind --tool=callgrind`` with two ``--accesses`` and divide the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Generator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import aiohttp

import exchange.fetch as fetch_module
from bench._procs import Stack, machine
from bench.fanout import usable_persons
from connectors import CallContext, Connectors
from connectors.pool import Connection
from exchange.catalogue import SOURCES
from exchange.fetch import fetch_all
from exchange.reference import Subjects
from exchange.window import Window
from proactive.population import identity_from_params
from runtime.services import connector_config
from runtime.settings import load

WARMUP = 50
RECIPIENT = "13002526500013"
TODAY = date(2025, 7, 10)

_writes: list[float] = []
_starts: list[float] = []


def _noting_writes(exchange: Any) -> Any:
    def wrapped(conn: Connection, *args: Any) -> Awaitable[None]:
        return _Noted(exchange(conn, *args))

    return wrapped


class _Noted:
    """An exchange whose first step (the request's write) is timed."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __await__(self) -> Generator[Any, Any, None]:
        steps = self._inner.__await__()
        try:
            sent = steps.send(None)
        except StopIteration:
            _writes.append(time.perf_counter())
            return
        _writes.append(time.perf_counter())
        while True:
            try:
                received = yield sent
            except BaseException as exc:  # handed on to the exchange
                try:
                    sent = steps.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    sent = steps.send(received)
                except StopIteration:
                    return


def _noting_starts(one: Any) -> Any:
    async def wrapped(*args: Any) -> object:
        _starts.append(time.perf_counter())
        return await one(*args)

    return wrapped


def _ms(values: list[float]) -> str:
    tenth = statistics.quantiles(values, n=10)[0]
    return f"{tenth * 1000:.3f} | {statistics.median(values) * 1000:.3f}"


async def measure(stack: Stack, accesses: int) -> tuple[dict[str, list[float]], float]:
    """The figures over the accesses (seconds), and the CPU per access (seconds)."""
    env = {f"UNEFOIS_{name.upper()}_URL": url for name, url in stack.urls.items()}
    env["UNEFOIS_DATA_DIR"] = str(stack.workdir / "data")
    connectors = Connectors.from_config(
        connector_config(load(env)), lambda: datetime(2025, 7, 10, tzinfo=UTC)
    )
    async with aiohttp.ClientSession() as session:
        persons = [
            entry for _, entry in await usable_persons(session, stack.urls["civil_registry"])
        ]
    if len(persons) < WARMUP + accesses:
        raise SystemExit(f"{len(persons)} usable persons for {WARMUP + accesses}: raise --persons")
    every = tuple(SOURCES.values())
    window = Window("2025-04", "2025-06", 2024)
    ctx = CallContext(RECIPIENT, TODAY)
    figures: dict[str, list[float]] = {k: [] for k in ("first", "prefix", "each", "last")}
    cpu = 0.0
    try:
        for number, entry in enumerate(persons[: WARMUP + accesses]):
            identity = identity_from_params(entry["personne"])
            subjects = Subjects(identity, None, entry.get("identifiant_france_travail"))
            sources = (
                every
                if subjects.france_travail_id
                else tuple(s for s in every if s.needs != "france_travail")
            )
            _writes.clear()
            _starts.clear()
            began, cpu_began = time.perf_counter(), time.process_time()
            await fetch_all(sources, connectors, subjects, ctx, window)
            if number >= WARMUP:
                cpu += time.process_time() - cpu_began
                writes = sorted(_writes)
                figures["first"].append(min(_starts) - began)
                figures["prefix"].append(writes[0] - min(_starts))
                figures["each"].append((writes[-1] - writes[0]) / (len(writes) - 1))
                figures["last"].append(writes[-1] - began)
            await asyncio.sleep(0.002)  # the sandbox's last answers, as between two requests
    finally:
        await connectors.aclose()
    return figures, cpu / accesses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.call_start", description=__doc__)
    parser.add_argument("--accesses", type=int, default=400, help="accesses measured")
    parser.add_argument("--persons", type=int, default=3000, help="sandbox population size")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="agencies' latency")
    args = parser.parse_args(argv)
    Connection.exchange = _noting_writes(Connection.exchange)  # type: ignore[method-assign]
    fetch_module._one = _noting_starts(fetch_module._one)  # type: ignore[attr-defined]
    stack = Stack(size=args.persons, month="2025-06", latency_ms=args.latency_ms, today="")
    stack._start_sandbox()
    try:
        figures, cpu = asyncio.run(measure(stack, args.accesses))
    finally:
        stack.stop()
    about = machine()
    print(f"{args.accesses} accesses, agencies at {args.latency_ms:g} ms; {about['cpu']}")
    print("| from the fan-out's start (ms) | p10 | median |")
    print("|---|---:|---:|")
    print(f"| first agency call started | {_ms(figures['first'])} |")
    print(f"| its request written, after its start | {_ms(figures['prefix'])} |")
    print(f"| each later request, after the one before | {_ms(figures['each'])} |")
    print(f"| last request written | {_ms(figures['last'])} |")
    print(f"CPU per access: {cpu * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(ImportError):  # the product's event loop, where there is one
        import uvloop

        uvloop.install()
    raise SystemExit(main())
