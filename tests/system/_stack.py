"""The sandbox and gateways as real subprocesses, on loopback only, always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tests.ports import server_port

HOST = "127.0.0.1"
# The seven agencies, the FranceConnect provider and the SMS sink, then the audit witness, the
# civil servants' identity provider, démarches-simplifiées and the case-management subgraph:
# the HTTP servers ``python -m sandbox`` prints.
SANDBOX_SERVERS = 13
SANDBOX_START_TIMEOUT = 60.0
GATEWAY_START_TIMEOUT = 30.0


def previous_month(now: datetime | None = None) -> str:
    """The last full month: the gateway runs on the real clock, the sandbox must match."""
    now = now or datetime.now(UTC)
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def free_port() -> int:
    """A port for a server this test starts (``tests.ports``)."""
    return server_port()


def stop(process: subprocess.Popen[Any] | None, timeout: float = 10.0) -> None:
    """Terminate, then kill; never raises."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(OSError):
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


@dataclass
class Sandbox:
    process: subprocess.Popen[str]
    urls: dict[str, str]  # agency → URL (without france_connect and sms)
    france_connect_url: str
    log: Path
    sms_url: str  # the SMS sink's base URL
    agent_connect_url: str = ""  # the civil servants' identity provider (its issuer)
    demarches_url: str = ""  # the démarches-simplifiées sandbox
    cases_url: str = ""  # the case-management subgraph


def _read_urls(process: subprocess.Popen[str], stream: IO[str] | None) -> dict[str, str]:
    """``python -m sandbox`` prints one ``name url`` line per server once all listen."""
    if stream is None:
        raise RuntimeError("no sandbox output")
    urls: dict[str, str] = {}
    done = threading.Event()

    def reader() -> None:
        for line in stream:
            parts = line.split()
            if len(parts) == 2 and parts[1].startswith("http://"):
                urls[parts[0]] = parts[1]
                if len(urls) == SANDBOX_SERVERS:
                    break
        done.set()
        # Keep draining, so the sandbox never blocks on a full pipe.
        for _ in stream:
            pass

    threading.Thread(target=reader, name="sandbox-output", daemon=True).start()
    if not done.wait(SANDBOX_START_TIMEOUT) or len(urls) != SANDBOX_SERVERS:
        raise RuntimeError(f"the sandbox did not start (exit code {process.poll()})")
    return dict(urls)


@contextlib.contextmanager
def running_sandbox(workdir: Path, size: int, extra: Sequence[str] = ()) -> Iterator[Sandbox]:
    log = workdir / "sandbox.log"
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "--host",
        HOST,
        "--port-base",
        "0",
        "--size",
        str(size),
        "--month",
        previous_month(),
        *extra,
    ]
    with log.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        try:
            urls = _read_urls(process, process.stdout)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{tail(log)}") from None
        france_connect = urls.pop("france_connect")
        sms = urls.pop("sms")
        urls.pop("witness")
        agent_connect = urls.pop("agent_connect")
        demarches = urls.pop("demarches")
        cases = urls.pop("cases")
        yield Sandbox(process, urls, france_connect, log, sms, agent_connect, demarches, cases)
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class Gateway:
    """One ``unefois serve`` process."""

    name: str
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.env['UNEFOIS_PORT']}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start the process (do not wait: see :meth:`wait_healthy`)."""
        self.starts += 1
        log = self.workdir / f"gateway-{self.name}-{self.starts}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "serve"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self, timeout: float = GATEWAY_START_TIMEOUT) -> None:
        """Poll ``/healthz`` until it answers 200, the process exits, or the deadline."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gateway {self.name} exited with code {self.process.returncode}\n"
                    + self.log_tail()
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gateway {self.name} did not become healthy\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing flushed, nothing closed."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop(self.process)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name}\n{tail(p, lines)}" for p in self.logs)


def gateway_env(
    sandbox: Sandbox,
    data_dir: Path,
    policies_dir: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("UNEFOIS_")  # nothing from the developer's own setup
    }
    env.update(
        {
            "UNEFOIS_HOST": HOST,
            "UNEFOIS_PORT": str(free_port()),
            "UNEFOIS_DATA_DIR": str(data_dir),
            "UNEFOIS_POLICIES_DIR": str(policies_dir),
            "UNEFOIS_RATE_LIMIT": "1000000",
            "UNEFOIS_RATE_BURST": "1000000",
            "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
            "UNEFOIS_AGENT_CONNECT_ISSUER": sandbox.agent_connect_url,
            "UNEFOIS_DS_URL": sandbox.demarches_url,
            "UNEFOIS_SMS_URL": sandbox.sms_url + "/v1/sms",
            "UNEFOIS_LOG_LEVEL": "WARNING",
            # One warm rules worker is enough here: the tests do not ask for eligibility.
            "UNEFOIS_ELIGIBILITY_WORKERS": "1",
        }
    )
    for name, url in sandbox.urls.items():
        env[f"UNEFOIS_{name.upper()}_URL"] = url
    env.update(extra or {})
    return env
