"""``unefois clients …``: the API clients of the registry in the database.

``add`` and ``rotate-secret`` print the new secret once: only its hash is stored. A change
holds at the next request of every gateway sharing the database, without a restart.
``import`` adds the clients of a clients file whose ids are not registered yet (the file
named by ``UNEFOIS_CLIENTS_FILE`` is also imported by itself while the registry is new).
``hash-secret`` prints the hash of a secret read on standard input, for a clients file.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gateway.client_store import (
    SCOPES,
    add_client,
    file_clients,
    import_file,
    import_once,
    rotate_secret,
)
from gateway.clients import hash_secret, load_clients
from runtime.errors import ConfigurationError
from runtime.production import DEMO_PREFIX
from runtime.services import client_policy_name
from runtime.settings import Settings
from store import (
    ClientExists,
    ClientNotFound,
    ClientStore,
    StoreError,
    connect,
    database_url_for,
    migrate,
)

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class UsageError(Exception):
    """A wrong argument: the message says which."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clients = sub.add_parser("clients", help="manage the API clients")
    csub = clients.add_subparsers(dest="clients_command", required=True)
    add = csub.add_parser("add", help="register a client; prints its secret once")
    add.add_argument("id", help="the client id (letters, digits, '.', '_', '-')")
    add.add_argument("--name", help="the organisation (default: its name in the policy catalogue)")
    add.add_argument(
        "--scopes",
        required=True,
        help=f"comma-separated, among: {', '.join(SCOPES)}",
    )
    add.add_argument("--sector", default="default", help="the sector of its person handles")
    add.add_argument("--audience", help="the audience of its tokens (default: the gateway's)")
    csub.add_parser("list", help="the clients: id, organisation, scopes, sector, status")
    disable = csub.add_parser("disable", help="refuse the client's tokens from the next request")
    disable.add_argument("id")
    rotate = csub.add_parser(
        "rotate-secret", help="a new secret, printed once; the old one and its tokens stop"
    )
    rotate.add_argument("id")
    imported = csub.add_parser("import", help="add the clients of a clients file not yet known")
    imported.add_argument("file", type=Path)
    csub.add_parser("hash-secret", help="hash a client secret read on stdin")


def _scopes(text: str) -> list[str]:
    scopes = sorted({s.strip() for s in text.split(",") if s.strip()})
    if not scopes:
        raise UsageError("--scopes: give at least one scope")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise UsageError(f"--scopes: unknown scope {unknown[0]!r} (known: {', '.join(SCOPES)})")
    return scopes


def _name(settings: Settings, client_id: str, given: str | None) -> tuple[str, bool]:
    """The organisation's name, and whether the catalogue has a policy for the client."""
    known = client_policy_name(settings, client_id)
    name = given or known
    if not name or not name.strip():
        raise UsageError("--name: the client has no entry in the policy catalogue: name it")
    return name.strip(), known is not None


async def _run(settings: Settings, args: argparse.Namespace, out: TextIO, now: datetime) -> int:
    command = args.clients_command
    if command == "add":
        if not _ID.match(args.id):
            raise UsageError("id: letters, digits, '.', '_' or '-' (at most 64)")
        if settings.environment == "production" and args.id.startswith(DEMO_PREFIX):
            raise UsageError(f"id: {DEMO_PREFIX}… names demo clients, refused in production")
        scopes = _scopes(args.scopes)
        name, in_catalogue = _name(settings, args.id, args.name)
    database = await connect(
        database_url_for(settings.data_dir, settings.database_url),
        schema=settings.database_schema,
    )
    try:
        await migrate(database)
        store = ClientStore(database)
        # The configured clients file, while the registry is new: as a gateway's start does.
        configured = file_clients(settings.clients_path, required=settings.clients_file is not None)
        await import_once(store, configured, now)
        if command == "add":
            secret = await add_client(store, args.id, name, scopes, args.sector, now, args.audience)
            print(f"client {args.id} added; its secret (shown once): {secret}", file=out)
            if not in_catalogue:
                print(
                    f"note: {args.id} has no entry in the policy catalogue's clients.yaml: "
                    "it may use no purpose until one names it or its group",
                    file=sys.stderr,
                )
        elif command == "rotate-secret":
            secret = await rotate_secret(store, args.id, now)
            print(f"client {args.id}: new secret (shown once): {secret}", file=out)
        elif command == "disable":
            await store.set_status(args.id, "disabled", now)
            print(f"client {args.id} disabled", file=out)
        elif command == "import":
            added, kept = await import_file(store, load_clients(args.file).clients(), now)
            print(f"imported: {', '.join(added) or 'none'}", file=out)
            if kept:
                print(f"already registered, kept as they are: {', '.join(kept)}", file=out)
        else:
            for record in await store.all():
                print(
                    f"{record.id}\t{record.name}\t{' '.join(sorted(record.scopes))}"
                    f"\t{record.sector}\t{record.status}",
                    file=out,
                )
    finally:
        await database.aclose()
    return 0


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # read at call time: tests capture it
    if args.clients_command == "hash-secret":
        secret = sys.stdin.readline().rstrip("\n")
        if not secret:
            print("give the secret on standard input", file=sys.stderr)
            return 2
        print(hash_secret(secret), file=out)
        return 0
    try:
        return asyncio.run(_run(settings, args, out, datetime.now(UTC)))
    except (UsageError, ConfigurationError) as exc:
        print(f"unefois clients: {exc}", file=sys.stderr)
        return 2
    except ClientExists:
        print(f"unefois clients: a client {args.id!r} already exists", file=sys.stderr)
        return 2
    except ClientNotFound:
        print(f"unefois clients: no client {args.id!r}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"unefois clients: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # an unusable database URL or schema name
        print(f"unefois clients: UNEFOIS_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
