"""``unefois serve`` on a data folder it must prepare, or cannot use: it starts, or it stops
with one line naming what to fix and exit code 2 — never a traceback."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.system._stack import HOST, free_port, stop

START_TIMEOUT = 120.0
# What a first start makes in an empty data folder.
FIRST_START_FILES = {
    "signing-keys.json",
    "pseudonym.key",
    "audit-signing-key.pem",
    "audit-signing-key.pub.pem",
    "unefois.db",
}


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNEFOIS_")}
    env.update(
        {
            "UNEFOIS_HOST": HOST,
            "UNEFOIS_PORT": str(free_port()),
            "UNEFOIS_DATA_DIR": str(data_dir),
            "UNEFOIS_ELIGIBILITY_WORKERS": "1",
            "UNEFOIS_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def _serve(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve"],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _refused(env: dict[str, str], cwd: Path) -> str:
    """Run ``serve`` expecting a refusal; its one message line."""
    process = _serve(env, cwd)
    try:
        out, err = process.communicate(timeout=START_TIMEOUT)
    finally:
        stop(process)
    assert process.returncode == 2, (out, err)
    assert "Traceback" not in out + err, err
    lines = err.strip().splitlines()
    assert lines, (out, err)
    # The last line is the message; JSON log lines before it carry no traceback either.
    assert lines[-1].startswith("unefois serve: "), err
    return lines[-1]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder as a first start leaves it (keys, database), the gateway stopped."""
    data = tmp_path_factory.mktemp("prepared") / "data"
    env = _env(data)
    process = _serve(env, data.parent)
    try:
        _wait_healthy(process, f"http://{HOST}:{env['UNEFOIS_PORT']}")
    finally:
        stop(process)
        process.communicate()
    return data


@pytest.fixture
def first_start(prepared: Path, tmp_path: Path) -> Path:
    """A copy of :func:`prepared` for one test to damage."""
    return Path(shutil.copytree(prepared, tmp_path / "data"))


def _wait_healthy(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"serve exited with {process.returncode}\n{out}\n{err}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("serve did not answer /healthz")


def test_an_empty_data_folder_is_prepared_and_serves_without_clients(tmp_path: Path) -> None:
    data = tmp_path / "volume" / "data"  # not even its parent exists
    env = _env(data)
    url = f"http://{HOST}:{env['UNEFOIS_PORT']}"
    process = _serve(env, tmp_path)
    try:
        _wait_healthy(process, url)
        assert FIRST_START_FILES <= {p.name for p in data.iterdir()}
        for secret in ("signing-keys.json", "pseudonym.key", "audit-signing-key.pem"):
            assert (data / secret).stat().st_mode & 0o077 == 0, secret
        # No clients file, no client: the token endpoint answers, and refuses everyone.
        answer = httpx.post(
            url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("demo-agency-app", "anything"),
            timeout=60.0,
        )
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        jwks = httpx.get(url + "/.well-known/jwks.json", timeout=60.0).json()
        assert len(jwks["keys"]) == 1
    finally:
        stop(process)
        _, err = process.communicate()
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("signing-keys.json", "not a JWK set"),
        ("pseudonym.key", "needs at least 32 bytes"),
        ("audit-signing-key.pem", "not an Ed25519 private key"),
    ],
)
def test_a_corrupt_key_file_is_named(
    first_start: Path, tmp_path: Path, name: str, problem: str
) -> None:
    (first_start / name).write_text("garbage\n", encoding="ascii")
    line = _refused(_env(first_start), tmp_path)
    assert str(first_start / name) in line
    assert problem in line
    assert "garbage" not in line


def test_a_data_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="ascii")
    data = tmp_path / "a-file" / "data"
    line = _refused(_env(data), tmp_path)
    assert line == f"unefois serve: UNEFOIS_DATA_DIR ({data}): cannot be created (Not a directory)"


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """``directory`` not writable by this process: no write permission, or, for root (whom
    permissions do not stop), the immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o700)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: no way to make a folder read-only")
    made = subprocess.run([chattr, "+i", str(directory)], capture_output=True, check=False)  # noqa: S603
    if made.returncode != 0:
        pytest.skip(f"running as root on a file system without chattr +i: {made.stderr!r}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True)  # noqa: S603


def test_a_data_folder_that_is_not_writable_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with _read_only(data):
        line = _refused(_env(data), tmp_path)
    assert line.startswith(f"unefois serve: UNEFOIS_DATA_DIR ({data}): not writable (")
    assert list(data.iterdir()) == []


def test_a_named_clients_file_that_is_missing_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "secrets" / "clients.yaml"
    line = _refused(_env(tmp_path / "data", UNEFOIS_CLIENTS_FILE=str(missing)), tmp_path)
    assert str(missing) in line
    assert "cannot be read" in line


def test_a_database_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    nothing_there = f"postgresql://postgres@{HOST}:{free_port()}/unefois"
    line = _refused(_env(tmp_path / "data", UNEFOIS_DATABASE_URL=nothing_there), tmp_path)
    assert line.startswith("unefois serve: UNEFOIS_DATABASE_URL: ")
    assert "unavailable" in line
    assert nothing_there not in line
