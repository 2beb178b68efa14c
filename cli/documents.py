"""``unefois documents …``: the trusted documents (persisted operations) of each client.

``register --client ID FILE…`` reads GraphQL documents — each ``.graphql`` (or ``.gql``) file
is one document; a ``.json`` file is a manifest ``{"<hash or id>": "<document>"}`` as GraphQL
Codegen's client preset writes ``persisted-documents.json`` — parses and validates each
against the gateway's schema under its limits, then registers them all, or none when one is
refused. The identifier stored is always computed again from the text (``sha256:<hex>``).
``list --client ID`` shows a client's documents, revoked ones included; ``revoke --client ID
HASH`` stops one. The citizens' documents are registered under ``--client @citizens``.
A change holds at the next request of every gateway sharing the database.
Exit codes: 0 done, 1 a document refused, 2 a wrong argument.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gateway.client_store import file_clients, import_once
from gateway.documents import (
    CITIZENS,
    DOCUMENT_ID,
    DocumentChecker,
    DocumentRejected,
)
from runtime.errors import ConfigurationError
from runtime.settings import Settings
from store import (
    ClientNotFound,
    ClientStore,
    DocumentNotFound,
    DocumentStore,
    StoreError,
    TrustedDocument,
    connect,
    database_url_for,
    migrate,
)

PROG = "unefois documents"
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A manifest's key that is a SHA-256 (GraphQL Codegen writes the bare hex).
_SHA256_KEY = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")


class UsageError(Exception):
    """A wrong argument or an unreadable file: the message says which."""


@dataclass(frozen=True)
class Offered:
    """A document read from a file: where it came from and the name it was given there."""

    source: str
    text: str
    key: str | None = None  # a manifest's key


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    documents = sub.add_parser("documents", help="the trusted documents (persisted operations)")
    dsub = documents.add_subparsers(dest="documents_command", required=True)
    register = dsub.add_parser(
        "register", help="validate GraphQL documents against the schema, then register them"
    )
    register.add_argument("--client", required=True, help=f"the client id, or {CITIZENS}")
    register.add_argument("files", nargs="+", type=Path, metavar="FILE")
    listed = dsub.add_parser("list", help="a client's documents: hash, name, registered, state")
    listed.add_argument("--client", required=True)
    revoke = dsub.add_parser("revoke", help="stop a document from the next request")
    revoke.add_argument("--client", required=True)
    revoke.add_argument("hash", metavar="HASH", help="sha256:<hex>, as list shows it")


def _client_id(value: str) -> str:
    if value != CITIZENS and not _ID.match(value):
        raise UsageError(f"--client: a client id (letters, digits, '.', '_', '-') or {CITIZENS}")
    return value


def read_documents(path: Path) -> list[Offered]:
    """The documents of one file: a manifest's entries, or the file's text as one document."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({type(exc).__name__})") from None
    if path.suffix.lower() != ".json":
        return [Offered(str(path), text)]
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(manifest, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in manifest.items()
    ):
        raise UsageError(f'{path}: a manifest is one object {{"<hash or id>": "<document>"}}')
    return [Offered(f"{path}[{key}]", value, key) for key, value in manifest.items()]


def _checked(
    client_id: str, offered: list[Offered], settings: Settings, at: datetime
) -> tuple[list[TrustedDocument], list[str], list[str]]:
    """(documents to register, refusals, notes)."""
    check = DocumentChecker(settings)
    documents: list[TrustedDocument] = []
    refusals: list[str] = []
    notes: list[str] = []
    for item in offered:
        try:
            checked = check(item.text)
        except DocumentRejected as exc:
            refusals.append(f"{item.source}: {exc}")
            continue
        name = ", ".join(n for n in checked.operations if n) or None
        if item.key is not None:
            found = _SHA256_KEY.match(item.key)
            if found and "sha256:" + found.group(1).lower() != checked.hash:
                refusals.append(f"{item.source}: the key is not the SHA-256 of the document's text")
                continue
            if not found:
                name = name or item.key
                notes.append(f"{item.source}: the application must send {checked.hash}")
        documents.append(TrustedDocument(client_id, item.text, checked.hash, at, name=name))
    return documents, refusals, notes


def _line(document: TrustedDocument) -> str:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    revoked = document.revoked_at
    state = "active" if revoked is None else f"revoked {revoked.strftime(stamp)}"
    registered = document.registered_at.strftime(stamp)
    return f"{document.hash}\t{document.name or '-'}\t{registered}\t{state}"


async def _run(settings: Settings, args: argparse.Namespace, out: TextIO, now: datetime) -> int:
    client_id = _client_id(args.client)
    command = args.documents_command
    documents: list[TrustedDocument] = []
    if command == "register":
        offered = [item for path in args.files for item in read_documents(path)]
        if not offered:
            raise UsageError("the files hold no document")
        documents, refusals, notes = _checked(client_id, offered, settings, now)
        for note in notes:
            print(f"note: {note}", file=out)
        if refusals:
            for refusal in refusals:
                print(f"{PROG}: refused: {refusal}", file=sys.stderr)
            print(f"{PROG}: nothing registered", file=sys.stderr)
            return 1
    if command == "revoke" and not DOCUMENT_ID.fullmatch(args.hash):
        raise UsageError("HASH: sha256: and 64 lower-case hex digits")
    database = await connect(
        database_url_for(settings.data_dir, settings.database_url),
        schema=settings.database_schema,
    )
    try:
        await migrate(database)
        # The configured clients file, while the registry is new, as a gateway's start does:
        # a document registered first would move the registry's version past its import.
        clients = ClientStore(database)
        configured = file_clients(settings.clients_path, required=settings.clients_file is not None)
        await import_once(clients, configured, now)
        store = DocumentStore(database)
        if command == "register":
            if client_id != CITIZENS:
                try:
                    await clients.get(client_id)
                except ClientNotFound:
                    print(
                        f"note: no client {client_id} in the registry (a client of the trusted"
                        " issuer?): its documents wait for its tokens",
                        file=sys.stderr,
                    )
            added, kept = await store.register(documents)
            for document in documents:
                done = "registered" if document.hash in added else "already registered"
                print(f"{document.hash}\t{document.name or '-'}\t{done}", file=out)
            print(f"client {client_id}: {len(added)} registered, {len(kept)} already", file=out)
        elif command == "revoke":
            await store.revoke(client_id, args.hash, now)
            print(f"client {client_id}: {args.hash} revoked", file=out)
        else:
            for document in await store.of_client(client_id):
                print(_line(document), file=out)
    finally:
        await database.aclose()
    return 0


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # read at call time: tests capture it
    try:
        return asyncio.run(_run(settings, args, out, datetime.now(UTC)))
    except (UsageError, ConfigurationError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except DocumentNotFound:
        print(f"{PROG}: client {args.client} has no active document {args.hash}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # an unusable database URL or schema name
        print(f"{PROG}: UNEFOIS_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
