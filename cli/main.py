"""The ``unefois`` command: run the embedded product, serve the gateway, start the sandbox."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from runtime import settings as settings_module

EMBEDDED_RECIPIENT = "13002526500013"  # the DINUM's SIRET, as in the banner's example query


def _previous_month(now: datetime) -> str:
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _sandbox_command(extra: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "sandbox", *extra]


def cmd_sandbox(args: argparse.Namespace) -> int:
    extra = list(args.sandbox_args)
    if "--month" not in extra:
        extra += ["--month", _previous_month(datetime.now(UTC))]
    return subprocess.call(_sandbox_command(extra))  # noqa: S603


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.server import serve
    from runtime.errors import RuntimeSetupError

    try:
        serve(settings_module.load(), announce=None)
    except (settings_module.SettingsError, RuntimeSetupError) as exc:
        print(f"unefois serve: {exc}", file=sys.stderr)
        return 2
    return 0


class _Stop(Exception):
    """SIGTERM or SIGINT: stop the gateway, then the sandbox."""


class _StopOnSignal:
    """A signal handler raising :class:`_Stop` once: a second signal does not cut the
    clean-up short."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise _Stop


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: the child gets SIGTERM if ``unefois run`` dies without stopping it (SIGKILL)."""
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _stop_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop ``process`` and whatever it started: SIGTERM to its process group, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def cmd_run(args: argparse.Namespace) -> int:
    from gateway.server import run_embedded

    env = dict(os.environ)
    env.setdefault("UNEFOIS_INTROSPECTION", "true")
    # The sandbox agencies take any valid SIRET as recipient: the embedded product acts as the
    # DINUM, so that a citizen can refuse an automatic renewal from their space out of the box.
    env.setdefault(settings_module.RECIPIENT_ENV, EMBEDDED_RECIPIENT)
    settings = settings_module.load(env)
    month = _previous_month(datetime.now(UTC))
    # The sandbox runs in a process group of its own, stopped as a whole below: a supervisor's
    # SIGTERM (or Ctrl-C) reaches this process, which stops the gateway, then the group.
    handler = _StopOnSignal()
    previous: dict[signal.Signals, Any] = {}
    sandbox: subprocess.Popen[bytes] | None = None
    try:
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            previous[stop_signal] = signal.signal(stop_signal, handler)
        sandbox = subprocess.Popen(  # noqa: S603
            # The identity providers send browsers back to this gateway's pages.
            _sandbox_command(
                ["--month", month, "--size", str(args.size), "--gateway-url", settings.public_url]
            ),
            process_group=0,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        return run_embedded(settings, sandbox_month=month)
    except _Stop:
        return 0
    finally:
        handler.stopping = True
        if sandbox is not None:
            _stop_group(sandbox)
        for stop_signal, previous_handler in previous.items():
            signal.signal(stop_signal, previous_handler)


def cmd_clients(args: argparse.Namespace) -> int:
    from cli.clients import run

    return run(settings_module.load(), args)


def cmd_documents(args: argparse.Namespace) -> int:
    from cli.documents import run

    return run(settings_module.load(), args)


def cmd_audit(args: argparse.Namespace) -> int:
    from cli.audit import run

    return run(settings_module.load(), args)


def cmd_campaign(args: argparse.Namespace) -> int:
    from cli.campaign import run

    return run(settings_module.load(), args)


def cmd_keys(args: argparse.Namespace) -> int:
    from cli.keys import run

    return run(settings_module.load(), args)


def cmd_worker(args: argparse.Namespace) -> int:
    from cli.worker import run

    return run(args)


def cmd_schema(args: argparse.Namespace) -> int:
    from cli.schema import run

    return run(args)


def cmd_procedure(args: argparse.Namespace) -> int:
    from cli.procedures import run

    return run(settings_module.load(), args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unefois", description="Tell us once: the data gateway.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the sandbox agencies and the gateway (embedded)")
    run.add_argument("--size", type=int, default=10_000, help="sandbox population size")
    run.set_defaults(func=cmd_run)
    sub.add_parser("serve", help="start the gateway only").set_defaults(func=cmd_serve)
    sandbox = sub.add_parser("sandbox", help="start the simulated agencies")
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    sandbox.set_defaults(func=cmd_sandbox)
    from cli.audit import add_parser

    add_parser(sub)
    sub.choices["audit"].set_defaults(func=cmd_audit)
    from cli.campaign import add_parser as add_campaign_parser

    add_campaign_parser(sub)
    sub.choices["campaign"].set_defaults(func=cmd_campaign)
    from cli.clients import add_parser as add_clients_parser

    add_clients_parser(sub)
    sub.choices["clients"].set_defaults(func=cmd_clients)
    from cli.documents import add_parser as add_documents_parser

    add_documents_parser(sub)
    sub.choices["documents"].set_defaults(func=cmd_documents)
    from cli.keys import add_parser as add_keys_parser

    add_keys_parser(sub)
    sub.choices["keys"].set_defaults(func=cmd_keys)
    from cli.procedures import add_parser as add_procedure_parser

    add_procedure_parser(sub)
    sub.choices["procedure"].set_defaults(func=cmd_procedure)
    from cli.schema import add_parser as add_schema_parser

    add_schema_parser(sub)
    sub.choices["schema"].set_defaults(func=cmd_schema)
    from cli.worker import add_parser as add_worker_parser

    add_worker_parser(sub)
    sub.choices["worker"].set_defaults(func=cmd_worker)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from runtime.errors import ConfigurationError

    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (settings_module.SettingsError, ConfigurationError) as exc:
        # A setting or an operator's file the product cannot use: say which, no traceback.
        print(f"unefois: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
