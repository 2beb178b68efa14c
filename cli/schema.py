"""``unefois schema print``: the GraphQL schema the gateway serves, in SDL.

The repository keeps it as ``schema.graphql`` (``make schema`` rewrites it); a test fails
when the file and the code disagree. The schema printed is ``build_schema``'s with the default
limits: limits change validation, never the types.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PUBLISHED = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    """The schema's SDL, as ``schema.graphql`` holds it (one final newline)."""
    from gateway.documents import published_sdl

    return published_sdl()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schema = sub.add_parser("schema", help="the GraphQL schema the gateway serves")
    ssub = schema.add_subparsers(dest="schema_command", required=True)
    printer = ssub.add_parser("print", help="print the schema in SDL")
    printer.add_argument(
        "--output", type=Path, help="write it to this file instead (e.g. schema.graphql)"
    )


def run(args: argparse.Namespace) -> int:
    text = sdl()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0
