"""``unefois worker`` and ``campaign status``: their arguments, refused before anything starts."""

from __future__ import annotations

import argparse
import io
import uuid
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from cli.main import parser
from cli.worker import check


def parse(*argv: str) -> argparse.Namespace:
    return parser().parse_args(list(argv))


def test_worker_arguments() -> None:
    args = parse("worker", "--processes", "3", "--threads", "4")
    assert (args.processes, args.threads) == (3, 4)
    assert check(args, "amqp://guest:guest@127.0.0.1:5672/%2F") is None
    assert "no broker" in (check(args, None) or "")
    assert "1 or more" in (check(parse("worker", "--threads", "0"), "redis://x") or "")


def test_status_needs_a_campaign() -> None:
    with redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        parse("campaign", "status")
    assert parse("campaign", "status", "--campaign", "rsa-2025-06").campaign == "rsa-2025-06"


def test_run_takes_a_batch_size_and_no_wait() -> None:
    args = parse(
        "campaign",
        "run",
        "--benefit",
        "rsa",
        "--month",
        "2025-06",
        "--population",
        "--batch",
        "25",
        "--no-wait",
    )
    assert args.batch == 25 and args.no_wait is True
    with redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        parse("campaign", "run", "--benefit", "rsa", "--month", "2025-06", "--workers", "2")


def test_status_of_an_unknown_campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.campaign import run
    from runtime.settings import load

    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path)})
    err = io.StringIO()
    with redirect_stderr(err):
        code = run(settings, parse("campaign", "status", "--campaign", uuid.uuid4().hex))
    assert code == 1 and "no campaign" in err.getvalue()
