"""``python -m sandbox``: serve the simulated agencies and the identity providers."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from sandbox.faults import load_faults
from sandbox.france_connect import FranceConnectConfig
from sandbox.population import DEFAULT_MONTH, DEFAULT_SEED
from sandbox.runner import GATEWAY_URLS_ENV, SandboxConfig, serve
from sandbox.scenarios import SHIPPED, load_scenarios


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="number of persons")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--month", default=DEFAULT_MONTH, help="reference month YYYY-MM")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-base", type=int, default=8701, help="first port; 0 for ephemeral")
    parser.add_argument(
        "--france-connect-issuer",
        help="the provider's public URL when not reached at its listening address",
    )
    parser.add_argument(
        "--gateway-url",
        action="append",
        default=[],
        metavar="URL",
        help="a gateway the identity providers send browsers back to (its /mon-espace/ and"
        " /console/ pages), besides http://127.0.0.1:8000, the first one also the gateway whose"
        " tokens the case subgraph takes; repeatable, also "
        + GATEWAY_URLS_ENV
        + " (comma-separated)",
    )
    parser.add_argument("--faults", type=Path, help="YAML file: {agency or '*': {rate: value}}")
    parser.add_argument(
        "--scenarios",
        default=str(SHIPPED),
        help="scenario households served after the generated persons (YAML file), or 'none'",
    )
    return parser


def gateway_urls(given: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """The ``--gateway-url`` values, then the environment's, without trailing slashes."""
    listed = [*given, *env.get(GATEWAY_URLS_ENV, "").split(",")]
    urls: list[str] = []
    for raw in listed:
        url = raw.strip().rstrip("/")
        if not url:
            continue
        if not url.startswith(("http://", "https://")) or "?" in url or "#" in url:
            raise ValueError(f"not a gateway base URL: {url!r}")
        if url not in urls:
            urls.append(url)
    return tuple(urls)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        gateways = gateway_urls(args.gateway_url, os.environ)
        faults = load_faults(args.faults) if args.faults else {}
        scenarios = None if args.scenarios == "none" else Path(args.scenarios)
        if scenarios is not None:
            load_scenarios(scenarios)  # a bad file stops here, before any port is taken
    except (OSError, ValueError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    config = SandboxConfig(
        host=args.host,
        port_base=args.port_base,
        size=args.size,
        seed=args.seed,
        reference_month=args.month,
        faults=faults,
        france_connect=FranceConnectConfig(issuer=args.france_connect_issuer),
        scenarios=scenarios,
        gateway_urls=gateways,
    )

    def ready(urls: dict[str, str]) -> None:
        for name, url in urls.items():
            print(f"{name:16} {url}", flush=True)

    asyncio.run(serve(config, ready))
    return 0


if __name__ == "__main__":
    sys.exit(main())
