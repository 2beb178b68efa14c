"""``unefois procedure …``: the démarches-simplifiées procedures registered for our forms.

``register FILE…`` checks each mapping file against the policy catalogue, the form and the
procedure as démarches-simplifiées describes it now, then stores it (a procedure registered
again is replaced); ``list`` shows them, ``show NUMBER`` one of them in full (JSON),
``remove NUMBER`` forgets one. Exit codes: 0 done, 1 refused (the reason on standard error).
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

from gateway.procedures import ProcedureRejected, register_procedure, territory_of
from runtime import Services
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


def _line(record: ProcedureRecord) -> str:
    territory = " ".join(sorted(territory_of(record))) or "-"
    registered = record.registered_at.isoformat() if record.registered_at else "-"
    return f"{record.number}\t{record.path}\t{record.form}\t{territory}\t{registered}"


async def _run(settings: Settings, args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    command = args.procedure_command
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
