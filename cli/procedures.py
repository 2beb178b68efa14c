"""``unefois procedure …``: the démarches-simplifiées procedures registered for our forms.

``register FILE…`` checks each mapping file against the policy catalogue, the form and the
procedure as démarches-simplifiées describes it now, then stores it (a procedure registered
again is replaced); ``list`` shows them, ``show NUMBER`` one of them in full (JSON),
``remove NUMBER`` forgets one. ``webhook-url`` prints the address to set as each procedure's
webhook in DS's settings (its secret included). ``sync [--since ISO]`` asks DS for the
dossiers updated since the last sync and processes those the gateway created, as the webhook
would have: what a lost webhook call left behind; a dossier whose deposit the gateway cannot
take as it is (a value refused, a field unsettled) is listed as rejected with the fields
concerned, and is processed again when the person changes it on DS. Exit codes: 0 done, 1
refused or a dossier not processed because something failed (the kind of failure in the
log).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gateway.client_store import LiveClients
from gateway.procedure_sync import SyncCounts, sync_procedures
from gateway.procedures import ProcedureRejected, register_procedure, territory_of, webhook_url
from gateway.sealing import Sealer
from runtime import Parts, Services
from runtime.secret import pseudonym_secret
from runtime.services import ds_webhook_secret
from runtime.settings import Settings
from store import ProcedureNotFound, ProcedureRecord, StoreError

Clock = Callable[[], datetime]
PROG = "unefois procedure"


def utc_now() -> datetime:
    return datetime.now(UTC)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    procedure = sub.add_parser("procedure", help="the démarches-simplifiées procedures")
    psub = procedure.add_subparsers(dest="procedure_command", required=True)
    register = psub.add_parser(
        "register", help="check mapping files against DS and the catalogue, then store them"
    )
    register.add_argument("files", nargs="+", type=Path, metavar="FILE")
    psub.add_parser("list", help="the registered procedures: number, path, form, territory")
    show = psub.add_parser("show", help="one registered procedure, as JSON")
    show.add_argument("number", type=int)
    remove = psub.add_parser("remove", help="forget a registered procedure")
    remove.add_argument("number", type=int)
    psub.add_parser(
        "webhook-url", help="the address to set as the procedures' webhook on DS (secret in it)"
    )
    sync = psub.add_parser(
        "sync", help="process the dossiers submitted since the last sync (lost webhook calls)"
    )
    sync.add_argument(
        "--since",
        type=_moment,
        metavar="ISO",
        help="look from this date-time (ISO 8601, UTC when no offset) instead of the last sync",
    )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _line(record: ProcedureRecord) -> str:
    territory = " ".join(sorted(territory_of(record))) or "-"
    registered = record.registered_at.isoformat() if record.registered_at else "-"
    return f"{record.number}\t{record.path}\t{record.form}\t{territory}\t{registered}"


def _counts(counts: SyncCounts) -> str:
    text = (
        f"processed {counts.processed}, already {counts.already}, not ours {counts.not_ours},"
        f" not submitted {counts.not_submitted}, failed {counts.failed},"
        f" rejected {counts.rejected}"
    )
    return text + (" (démarches-simplifiées could not be asked)" if counts.unreachable else "")


async def _sync(settings: Settings, args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    # The benefit is evaluated again on a processed dossier: the rules run here.
    async with Services.open(settings, clock, Parts(rules=True)) as services:
        clients = LiveClients(
            settings.clients_path, required=settings.clients_file is not None, clock=clock
        )
        registry = await clients.registry(services.clients)
        report = await sync_procedures(
            services, registry, Sealer(services.seal_key), clock, args.since
        )
    for number, counts in report.by_procedure.items():
        print(f"procedure {number}: {_counts(counts)}", file=out)
    total = report.total()
    print(f"total: {_counts(total)}", file=out)
    for number, why in total.rejections:
        # The person is told in their space; what they must change, by the form's field ids.
        fields = ", ".join(why.get("fields") or ()) or "-"
        print(
            f"dossier {number} rejected: {why.get('code')} ({why.get('reason')}: {fields})",
            file=out,
        )
    if not report.ok:
        print(f"{PROG}: some dossiers were not processed (see the log)", file=sys.stderr)
        return 1
    return 0


async def _run(settings: Settings, args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    command = args.procedure_command
    if command == "webhook-url":
        secret = ds_webhook_secret(
            settings, pseudonym_secret(settings.data_dir, settings.pseudonym_secret)
        )
        print(webhook_url(settings.public_url, secret), file=out)
        return 0
    if command == "sync":
        return await _sync(settings, args, out, clock)
    async with Services.open(settings, clock) as services:
        if command == "register":
            code = 0
            for path in args.files:
                try:
                    procedure, warnings = await register_procedure(services, path, clock())
                except ProcedureRejected as exc:
                    print(f"{PROG}: refused: {exc}", file=sys.stderr)
                    code = 1
                    continue
                print(
                    f"procedure {procedure.number} ({procedure.path}) registered"
                    f" for form {procedure.form}",
                    file=out,
                )
                for warning in warnings:
                    print(f"warning: {procedure.source}: {warning}", file=out)
            return code
        if command == "list":
            for record in await services.procedures.all():
                print(_line(record), file=out)
            return 0
        try:
            if command == "show":
                record = await services.procedures.get(args.number)
                document = {
                    "number": record.number,
                    "path": record.path,
                    "form": record.form,
                    "registered_at": record.registered_at.isoformat()
                    if record.registered_at
                    else None,
                    "mapping": record.mapping,
                    "champs": record.champs,
                }
                print(json.dumps(document, ensure_ascii=False, indent=2), file=out)
            else:
                await services.procedures.remove(args.number)
                print(f"procedure {args.number} removed", file=out)
        except ProcedureNotFound:
            print(f"{PROG}: no procedure {args.number} is registered", file=sys.stderr)
            return 1
    return 0


def run(
    settings: Settings, args: argparse.Namespace, out: TextIO | None = None, clock: Clock = utc_now
) -> int:
    out = out or sys.stdout  # read at call time: tests capture it
    try:
        return asyncio.run(_run(settings, args, out, clock))
    except StoreError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
