"""Subprocesses of the benchmarks: the sandbox agencies and the gateway, on loopback only."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

HOST = "127.0.0.1"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all its threads), from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        raw = stat.read()
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICK


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[str], timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class Stack:
    """The sandbox and the gateway, each in its own process; stop both on exit."""

    size: int
    month: str
    latency_ms: float
    today: str
    log_level: str = "INFO"
    profile: Path | None = None
    audit: str = "full"  # full or normal (SQLite sync mode), or off (entries discarded)
    # Agencies answering after another latency than ``latency_ms`` (ms, by sandbox agency).
    latencies: dict[str, float] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="unefois-bench-")))
    sandbox: subprocess.Popen[str] | None = None
    gateway: subprocess.Popen[str] | None = None
    urls: dict[str, str] = field(default_factory=dict)
    gateway_url: str = ""
    secret: str = ""

    def __enter__(self) -> Stack:
        try:
            self._start_sandbox()
            self._start_gateway()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for process in (self.gateway, self.sandbox):
            if process is not None:
                with contextlib.suppress(OSError):
                    _stop(process)

    def _start_sandbox(self) -> None:
        faults = self.workdir / "faults.yaml"
        lines = [f'"*":\n  latency_ms: {self.latency_ms}\n']
        lines += [f"{name}:\n  latency_ms: {ms}\n" for name, ms in self.latencies.items()]
        faults.write_text("".join(lines), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            HOST,
            "--port-base",
            "0",
            "--size",
            str(self.size),
            "--month",
            self.month,
            "--faults",
            str(faults),
        ]
        self.sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdout=subprocess.PIPE,
            stderr=(self.workdir / "sandbox.log").open("w", encoding="utf-8"),
            text=True,
        )
        self.urls = _read_urls(self.sandbox, self.sandbox.stdout, expected=7, timeout=180.0)

    def _start_gateway(self) -> None:
        from bench._catalogue import bench_catalogue
        from gateway.clients import ensure_default_clients

        port = free_port()
        data_dir = self.workdir / "data"
        env = {
            **os.environ,
            "UNEFOIS_HOST": HOST,
            "UNEFOIS_PORT": str(port),
            "UNEFOIS_DATA_DIR": str(data_dir),
            "UNEFOIS_CLIENTS_FILE": str(self.workdir / "clients.yaml"),
            "UNEFOIS_LOG_LEVEL": self.log_level,
            # The benchmark measures the gateway, not the per-client limit.
            "UNEFOIS_RATE_LIMIT": "1000000",
            "UNEFOIS_RATE_BURST": "1000000",
            "UNEFOIS_POLICIES_DIR": str(bench_catalogue(self.workdir)),
            "UNEFOIS_AUDIT_SQLITE_SYNC": "normal" if self.audit == "normal" else "full",
            # Each answer's slowest agency call, read per request (bench.fanout).
            "UNEFOIS_SERVER_TIMING": "true",
        }
        for name, url in self.urls.items():
            env[f"UNEFOIS_{name.upper()}_URL"] = url
        from runtime.settings import load

        secret = ensure_default_clients(load(env).clients_path)
        if secret is None:
            raise RuntimeError("the bench's clients file already existed")
        self.secret = secret
        command = [sys.executable, "-m", "bench._gateway", "--today", self.today]
        if self.profile is not None:
            command += ["--profile", str(self.profile)]
        if self.audit == "off":
            command.append("--no-audit")
        self.gateway = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "gateway.log").open("w", encoding="utf-8"),
            text=True,
        )
        self.gateway_url = f"http://{HOST}:{port}"
        _wait_http(self.gateway, self.gateway_url + "/healthz", timeout=60.0)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _read_urls(
    process: subprocess.Popen[str], stream: IO[str] | None, expected: int, timeout: float
) -> dict[str, str]:
    """The sandbox prints one ``name url`` line per agency once all listen."""
    if stream is None:
        raise RuntimeError("no sandbox output")
    urls: dict[str, str] = {}
    done = threading.Event()

    def reader() -> None:
        for line in stream:
            parts = line.split()
            if len(parts) == 2 and parts[1].startswith("http://"):
                urls[parts[0]] = parts[1]
                if len(urls) == expected:
                    break
        done.set()

    threading.Thread(target=reader, name="sandbox-output", daemon=True).start()
    if not done.wait(timeout) or len(urls) != expected:
        raise RuntimeError(f"the sandbox did not start (exit code {process.poll()})")
    return dict(urls)


def _wait_http(process: subprocess.Popen[str], url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - loopback URL
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the gateway did not answer its health check")


def machine() -> Mapping[str, str]:
    """What the figures were measured on: CPU, cores, memory, OS, Python."""
    import platform

    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    system = platform.system()
    with contextlib.suppress(OSError), open("/etc/os-release", encoding="utf-8") as release:
        for line in release:
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip().strip('"')
                break
    return {
        "cpu": model,
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": memory,
        "os": f"{system}, kernel {platform.release()}",
        "python": platform.python_version(),
    }
