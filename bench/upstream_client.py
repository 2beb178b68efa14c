"""``python -m bench.upstream_client``: CPU per upstream call of ``UpstreamClient.get_json``.

Starts a tiny aiohttp server in a subprocess on loopback that answers every GET with one fixed
JSON body, then times ``--calls`` calls with ten query parameters at ``--concurrency``, several
rounds, and prints the CPU this process spent per call (``time.process_time()``: user + system
of the client only; the server runs in its own process). ``--transport`` picks the client's HTTP
transport (``aiohttp``, ``wire``, or ``both`` to compare them on one server). See
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from bench._procs import HOST, machine

# What an agency answers for one benefit status, about the size of API Particulier's bodies.
BODY = (
    b'{"data":{"est_beneficiaire":true,"avec_majoration":false,'
    b'"date_debut_droit":"2024-02-01"},"links":{},"meta":{}}'
)
# Ten parameters like a pivot-identity query, with a repeated key and characters to encode.
PARAMS = (
    ("recipient", "13002526500013"),
    ("nomNaissance", "MARTIN"),
    ("nomUsage", "DE LA FONTAINE"),
    ("prenoms[]", "SAMUEL"),
    ("prenoms[]", "PAUL"),
    ("prenoms[]", "ÉLOÏSE"),
    ("anneeDateNaissance", "1980"),
    ("moisDateNaissance", "9"),
    ("sexeEtatCivil", "M"),
    ("codeCogInseeLieuNaissance", "08480"),
)


def serve() -> None:
    """The server side: print the port once listening, answer until stdin closes."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        await web.SockSite(runner, sock).start()
        print(sock.getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # EOF: the bench is done
        await runner.cleanup()

    asyncio.run(main())


async def measure(
    url: str, calls: int, concurrency: int, rounds: int, transport: str = "aiohttp"
) -> list[float]:
    """µs of CPU per call, one figure per round, after a warm-up round."""
    from connectors import CircuitBreaker, StaticToken, UpstreamClient
    from connectors.registry import open_transport

    client = UpstreamClient(
        "bench",
        url,
        provider="BENCH",
        timeout=5.0,
        pool_size=concurrency,
        breaker=CircuitBreaker(clock=time.monotonic),
        auth=StaticToken("bench-token"),
        transport=open_transport(transport, concurrency),
    )
    segments = ("v3", "dss", "revenu_solidarite_active", "identite")

    async def worker(n: int) -> None:
        for _ in range(n):
            await client.get_json(segments, PARAMS)

    async def one_round(total: int) -> float:
        share = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
        start = time.process_time()
        await asyncio.gather(*(worker(n) for n in share))
        return (time.process_time() - start) / total * 1e6

    try:
        await one_round(max(concurrency * 20, calls // 10))  # connections, caches
        return [await one_round(calls) for _ in range(rounds)]
    finally:
        await client.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream_client")
    parser.add_argument("--calls", type=int, default=3000, help="calls per round")
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--transport", choices=("aiohttp", "wire", "both"), default="both")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return
    if args.calls < 1 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--calls, --concurrency and --rounds must be positive")
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream_client", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the server did not start (exit code {server.poll()})")
        kinds = ("aiohttp", "wire") if args.transport == "both" else (args.transport,)
        figures = {
            kind: asyncio.run(
                measure(f"http://{HOST}:{port}", args.calls, args.concurrency, args.rounds, kind)
            )
            for kind in kinds
        }
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}")
    print(
        f"{args.calls} get_json calls x {args.rounds} rounds, concurrency {args.concurrency}, "
        f"{len(PARAMS)} query parameters"
    )
    for kind, rounds in figures.items():
        print(f"{kind}: µs CPU per call, by round: " + ", ".join(f"{f:.0f}" for f in rounds))
        print(f"{kind}: median {statistics.median(rounds):.0f} µs CPU per call")


if __name__ == "__main__":
    main()
