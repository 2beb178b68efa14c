from __future__ import annotations

import base64
from pathlib import Path

import pytest

from runtime.errors import ConfigurationError
from runtime.secret import pseudonym_secret


def test_created_once_then_reused(tmp_path: Path) -> None:
    first = pseudonym_secret(tmp_path, None)
    assert len(first) == 32
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert pseudonym_secret(tmp_path, None) == first


def test_the_environment_wins(tmp_path: Path) -> None:
    configured = base64.urlsafe_b64encode(b"s" * 40).decode()
    assert pseudonym_secret(tmp_path, configured) == b"s" * 40
    assert not (tmp_path / "pseudonym.key").exists()


@pytest.mark.parametrize("bad", ["!!!", base64.b64encode(b"short").decode()])
def test_bad_secrets_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigurationError):
        pseudonym_secret(tmp_path, bad)
