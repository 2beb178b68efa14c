"""``unefois keys …``: the signing keys of the access tokens.

``rotate`` appends a new key, which signs from the next token on (running gateways reload
their file when it changes); the previous keys keep verifying the tokens they signed until
those expire. The file rotated is ``--file``, else ``UNEFOIS_SIGNING_KEYS_FILE``, else the
data directory's. ``--file`` naming a missing file writes a new set there: the configured set
(``UNEFOIS_SIGNING_KEYS``) plus the new key, or the new key alone, how a deployment makes its
first set. ``list`` shows the keys in use, oldest first, and which one signs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from gateway.keys import SIGNING_ALGORITHMS, SigningKeys, configured, load, rotate, rotate_file
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
    rotate_parser.add_argument(
        "--file",
        type=Path,
        help="the key set file to write, replaced atomically (default: UNEFOIS_SIGNING_KEYS_FILE,"
        " else the data directory's)",
    )
    ksub.add_parser("list", help="the keys, oldest first, and the one that signs")


def _rotate(settings: Settings, args: argparse.Namespace) -> tuple[SigningKeys, Path]:
    alg = args.alg or settings.signing_alg
    target: Path | None = args.file or settings.signing_keys_file
    if target is not None:
        return rotate_file(target, alg, base=configured(settings)), target
    if settings.signing_keys is not None:
        raise ConfigurationError(
            "UNEFOIS_SIGNING_KEYS holds the keys: give --file <path> to write the rotated set,"
            " then publish it to every replica"
        )
    return rotate(settings.data_dir, alg), settings.data_dir


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # read at call time: tests capture it
    try:
        if args.keys_command == "rotate":
            rotated, where = _rotate(settings, args)
            count = len(rotated.verification_keys())
            print(f"{where}: {count} key{'s' if count > 1 else ''}, the newest signs", file=out)
            print(f"new signing key {rotated.current.alg} {rotated.current.kid}", file=out)
            return 0
        keys = configured(settings) or load(settings.data_dir)
    except ConfigurationError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    signing = keys.current.kid
    for kid, key in keys.verification_keys().items():
        print(f"{kid} {key.alg}{' signing' if kid == signing else ''}", file=out)
    return 0
