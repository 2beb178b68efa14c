"""``unefois keys …``: the signing keys of the access tokens, in the data directory.

``rotate`` appends a new key, which signs from the next token on (running gateways reload
the file when it changes); the previous keys keep verifying the tokens they signed until
those expire. ``list`` shows the keys, oldest first, and which one signs.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from gateway.keys import SIGNING_ALGORITHMS, load, rotate
from runtime.errors import ConfigurationError
from runtime.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="manage the access tokens' signing keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    rotate_parser = ksub.add_parser(
        "rotate", help="add a signing key; the previous ones keep verifying"
    )
    rotate_parser.add_argument(
        "--alg", choices=SIGNING_ALGORITHMS, help="the new key's algorithm (UNEFOIS_SIGNING_ALG)"
    )
    ksub.add_parser("list", help="the keys, oldest first, and the one that signs")


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # read at call time: tests capture it
    try:
        if args.keys_command == "rotate":
            rotated = rotate(settings.data_dir, args.alg or settings.signing_alg)
            print(f"new signing key {rotated.current.alg} {rotated.current.kid}", file=out)
            return 0
        keys = load(settings.data_dir)
    except ConfigurationError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    signing = keys.current.kid
    for kid, key in keys.verification_keys().items():
        print(f"{kid} {key.alg}{' signing' if kid == signing else ''}", file=out)
    return 0
