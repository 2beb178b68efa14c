"""The hash chain over the log, after RFC 6962 (Certificate Transparency).

``leaf = SHA-256(0x00 ‖ canonical entry)`` and ``head_n = SHA-256(0x01 ‖ head_{n-1} ‖ leaf_n)``
from ``head_0`` = 32 zero bytes. The distinct one-byte prefixes keep a leaf from ever being
mistaken for an interior value (RFC 6962 §2.1's second-preimage defence). A chain rather than
a Merkle tree: the log is verified end to end in order, and one head per entry lets
``verify`` name the first position where the chain breaks.
"""

from __future__ import annotations

import hashlib

GENESIS = bytes(32)
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(canonical: bytes) -> bytes:
    return hashlib.sha256(_LEAF + canonical).digest()


def next_head(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(_NODE + previous + leaf).digest()
