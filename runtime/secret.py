"""The gateway's pseudonym secret: from the environment, or a file made at first start.

Every replica must share it (handles and pseudonyms are derived from it), so a deployment
past one machine sets ``UNEFOIS_PSEUDONYM_SECRET``; the embedded default keeps it in the data
directory, readable by the owner only. Losing it unlinks every stored consent from its person.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from runtime.errors import ConfigurationError

FILE_NAME = "pseudonym.key"
SECRET_BYTES = 32


def decode_secret(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{where}: not base64") from None
    if len(raw) < SECRET_BYTES:
        raise ConfigurationError(f"{where}: needs at least {SECRET_BYTES} bytes")
    return raw


def pseudonym_secret(data_dir: Path, configured: str | None) -> bytes:
    if configured:
        return decode_secret(configured, "UNEFOIS_PSEUDONYM_SECRET")
    path = data_dir / FILE_NAME
    if path.exists():
        return decode_secret(path.read_text(encoding="ascii"), str(path))
    data_dir.mkdir(parents=True, exist_ok=True)
    text = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it first: use theirs.
        return decode_secret(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text + "\n")
    return decode_secret(text, str(path))
