"""A port for a server a test starts, chosen where outgoing connections never take one.

Asking the OS for a free port (``bind(0)``) and handing it to a process that binds it later
races with every outgoing connection of the machine meanwhile: those take their local port
from the same ephemeral range (``net.ipv4.ip_local_port_range``), and a subprocess takes
seconds to start. A port below that range can only be taken by another server.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
_LOWEST = 20_000  # above the fixed ports the product and its sandbox use
_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_start() -> int:
    try:
        return int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def server_port() -> int:
    """A port nothing listens on now, outside the ephemeral range."""
    top = max(_LOWEST + 1000, _ephemeral_start())
    for _ in range(200):
        port = random.randrange(_LOWEST, top)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")
