"""Redis servers that stop answering, for the tests of what the gateway does then.

Two kinds: a socket that listens and never answers (the kernel completes the handshake, no
byte ever comes back: what a frozen Redis looks like from the client), and a real
``redis-server`` on a free port, which a test may stop with SIGSTOP and resume with SIGCONT.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.ports import server_port
from tests.services import unavailable

HOST = "127.0.0.1"


def free_port() -> int:
    """A port for a server this test starts (``tests.ports``)."""
    return server_port()


@contextlib.contextmanager
def silent_redis() -> Iterator[str]:
    """The URL of a 'Redis' that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(64)
        yield f"redis://{HOST}:{sock.getsockname()[1]}/0"


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A real ``redis-server`` on a free loopback port, saving nothing; always resumed and
    killed on the way out."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
    port = free_port()
    arguments = ["--bind", HOST, "--port", str(port), "--dir", str(directory)]
    arguments += ["--save", "", "--appendonly", "no"]  # nothing on disk
    process = subprocess.Popen(  # noqa: S603 (a fixed binary, arguments of ours)
        [binary, *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield RedisServer(process, port)
    finally:
        with contextlib.suppress(OSError):
            process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)
