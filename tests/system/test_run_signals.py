"""``unefois run`` stopped as a supervisor stops it (SIGTERM): the gateway and its sandbox
child both end, and the sandbox's ports are free again.

``unefois run`` starts the sandbox on its default ports (8701-8713): the test needs them free,
and waits a bounded time for another run to release them before it fails. Once up, the run
has made the sandbox démarches-simplifiées ready: its procedures' webhooks lead to this
gateway.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.system._stack import HOST, free_port, tail

pytestmark = pytest.mark.system
linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

# Seven agencies, FranceConnect, SMS, mail, witness, agents, démarches-simplifiées.
SANDBOX_PORTS = range(8701, 8714)
DS_URL = f"http://{HOST}:8713"
PORTS_WAIT = 120.0
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0


def _busy_ports() -> list[int]:
    busy = []
    for port in SANDBOX_PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # The same option a server binds with: a port in TIME_WAIT counts as free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                busy.append(port)
    return busy


def _wait_ports_free(timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    busy = _busy_ports()
    while busy and time.monotonic() < deadline:
        time.sleep(0.5)
        busy = _busy_ports()
    return busy


def _session_members(session: int) -> list[int]:
    """Processes of the session ``session`` (from /proc): the run and all it started,
    whatever their process group, even once reparented."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces, split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            members.append(int(entry.name))
    return members


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text(encoding="ascii").split()]


def _start_run(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """``unefois run --size 200`` on a data folder of its own, answering ``/healthz``."""
    busy = _wait_ports_free(PORTS_WAIT)
    assert not busy, f"the sandbox ports {busy} are taken: stop what holds them"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNEFOIS_")}
    env.update(
        {
            "UNEFOIS_HOST": HOST,
            "UNEFOIS_PORT": str(port),
            "UNEFOIS_DATA_DIR": str(tmp_path / "data"),
            "UNEFOIS_ELIGIBILITY_WORKERS": "1",
            "UNEFOIS_LOG_LEVEL": "WARNING",
        }
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        # A session of its own: every process it starts is found, and cleaned up, by session.
        run = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", "--size", "200"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    healthy = False
    while not healthy and time.monotonic() < deadline:
        if run.poll() is not None:
            raise AssertionError(f"run exited with {run.returncode}\n{tail(log)}")
        try:
            healthy = httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            time.sleep(0.2)
    if not healthy:
        _kill_session(run)
        raise AssertionError(f"run did not become healthy\n{tail(log)}")
    return run, port, log


def _kill_session(run: subprocess.Popen[bytes]) -> None:
    for pid in [run.pid, *_session_members(run.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        run.wait(timeout=10)


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


@linux_only
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_stops_the_gateway_and_the_sandbox(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    """SIGTERM (a supervisor, ``kill``) or SIGINT (Ctrl-C): a clean stop, exit code 0."""
    run, _, log = _start_run(tmp_path)
    try:
        assert _children(run.pid), "the sandbox runs as a child of unefois run"
        assert sorted(_busy_ports()) == list(SANDBOX_PORTS)

        run.send_signal(stop_signal)
        assert run.wait(timeout=STOP_TIMEOUT) == 0, tail(log)

        _wait_until(lambda: not _session_members(run.pid), STOP_TIMEOUT)
        assert _session_members(run.pid) == [], "a process of unefois run outlived it"
        assert _busy_ports() == []
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
    finally:
        _kill_session(run)


@linux_only
def test_run_points_the_sandbox_ds_webhooks_at_the_gateway(tmp_path: Path) -> None:
    """Every sandbox procedure's webhook is this gateway's, its secret the one the gateway
    answers; the banner says where démarches-simplifiées is."""
    run, port, log = _start_run(tmp_path)
    try:
        gateway = f"http://{HOST}:{port}"
        assert _wait_until(lambda: b"D\xc3\xa9marches:" in log.read_bytes(), START_TIMEOUT)
        text = log.read_text(encoding="utf-8")
        assert f"  Démarches:  {DS_URL}/   (sandbox démarches-simplifiées" in text
        assert "procedures: " in text and "not ready" not in text, tail(log)
        hooks = {
            number: httpx.get(f"{DS_URL}/_sandbox/demarches/{number}/webhook", timeout=5).json()[
                "url"
            ]
            for number in (101, 102, 103, 104, 105)
        }
        [hook] = set(hooks.values())
        assert hook.startswith(f"{gateway}/demarches-simplifiees/notifications/")
        # DS's call to it reaches the gateway, which knows the secret: a dossier not its own.
        answer = httpx.post(hook, data={"dossier_id": "999999", "state": "en_construction"})
        assert answer.status_code == 200 and answer.json() == {"result": "not_ours"}

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=STOP_TIMEOUT) == 0, tail(log)
    finally:
        _kill_session(run)


@linux_only
def test_the_sandbox_stops_when_run_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves ``unefois run`` no chance to clean up: the system tells the sandbox."""
    run, _, log = _start_run(tmp_path)
    try:
        sandbox = [
            pid
            for pid in _children(run.pid)
            if b"sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        ]
        assert len(sandbox) == 1, tail(log)
        run.kill()
        run.wait(timeout=STOP_TIMEOUT)

        assert _wait_until(
            lambda: not Path(f"/proc/{sandbox[0]}").exists() or _zombie(sandbox[0]), STOP_TIMEOUT
        ), "the sandbox outlived run"
        assert _wait_until(lambda: _busy_ports() == [], STOP_TIMEOUT), _busy_ports()
    finally:
        _kill_session(run)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
