"""The image's build context as ``.dockerignore`` lets it through, and a virtual environment
made from it alone.

The matching follows Docker's rules (moby/patternmatcher, as BuildKit applies them to a
context): patterns are read in order, each relative to the context root and cleaned (a
trailing ``/`` and a leading ``/`` mean nothing); ``*`` and ``?`` stay within one path
segment, ``**`` spans any number of segments; a pattern that matches a directory matches
everything below it; a ``!`` pattern re-includes; the last pattern that matches wins.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pattern:
    text: str  # cleaned, without the leading "!"
    exclusion: bool  # a "!" pattern: re-includes what it matches
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        """``path`` (relative, "/"-separated) or one of its parent directories matches."""
        if self.regex.match(path):
            return True
        parts = path.split("/")
        return any(self.regex.match("/".join(parts[:i])) for i in range(1, len(parts)))


def _clean(text: str) -> str:
    """Go's ``filepath.Clean`` for a pattern relative to the context root."""
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or "."


def _regex(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    # "**/" : zero or more whole directories
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ValueError(f"unterminated character class in {pattern!r}")
            body = pattern[i + 1 : end]
            if body.startswith("^"):
                body = "!" + body[1:]
            if body.startswith("!"):
                body = "^" + re.escape(body[1:]).replace("\\-", "-")
            else:
                body = re.escape(body).replace("\\-", "-")
            out.append(f"[{body}]")
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def read_patterns(text: str) -> list[Pattern]:
    """The patterns of a ``.dockerignore`` file, in order."""
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = _clean(line)
        if cleaned == ".":
            continue  # Docker ignores a pattern that names the root itself
        patterns.append(Pattern(cleaned, exclusion, _regex(cleaned)))
    return patterns


def ignored(patterns: Iterable[Pattern], path: str) -> bool:
    """Whether ``path`` stays out of the context: the last pattern matching it decides."""
    out = False
    for pattern in patterns:
        if pattern.matches(path):
            out = not pattern.exclusion
    return out


def _may_reinclude(patterns: list[Pattern], directory: str) -> bool:
    """Whether a "!" pattern might match something below the ignored ``directory``."""
    for pattern in patterns:
        if not pattern.exclusion:
            continue
        literal = re.split(r"[*?\[\\]", pattern.text, maxsplit=1)[0]
        if literal.startswith(directory + "/") or (directory + "/").startswith(literal):
            return True
    return False


def context_files(root: Path, patterns: list[Pattern]) -> Iterator[str]:
    """Every file of ``root`` the context holds, relative and "/"-separated."""
    for current, dirs, files in os.walk(root):
        base = Path(current).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        kept_dirs = []
        for name in sorted(dirs):
            rel = prefix + name
            if not ignored(patterns, rel) or _may_reinclude(patterns, rel):
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(files):
            rel = prefix + name
            if not ignored(patterns, rel):
                yield rel


def assemble_context(root: Path, target: Path) -> list[str]:
    """Copy what ``COPY . .`` would see of ``root`` into ``target``; the copied paths."""
    patterns = read_patterns((root / ".dockerignore").read_text(encoding="utf-8"))
    copied = []
    for rel in context_files(root, patterns):
        source = root / rel
        if source.is_symlink() or not source.is_file():
            continue
        destination = target / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        copied.append(rel)
    return copied


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a build step; its output in the failure message."""
    done = subprocess.run(  # noqa: S603 - our own interpreters and pip
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited with {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def clean_env() -> dict[str, str]:
    """The environment without this checkout's virtual environment or Python settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
        and not key.startswith("UNEFOIS_")
    }


def build_wheel(context: Path, out: Path) -> Path:
    """A wheel of the context alone, as the image's ``pip install .`` builds it: in an isolated
    build environment holding the build backend that ``[build-system]`` names (the product's
    own dependencies are not installed: ``--no-deps``)."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(context),
        ],
        cwd=context,
        env=clean_env(),
    )
    wheels = sorted(out.glob("unefois-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def make_venv(wheel: Path, venv: Path) -> Path:
    """A new virtual environment holding the wheel; its dependencies are those of this
    checkout's environment, reached through a plain path line in a ``.pth`` file (so the
    checkout's own editable-install hook in that folder is never run)."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    run([str(base), "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent, env=clean_env())
    python = venv / "bin" / "python"
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=venv.parent,
            env=clean_env(),
        ).strip()
    )
    dependencies = Path(sysconfig.get_paths()["purelib"])
    (site / "project-dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=venv.parent,
        env=clean_env(),
    )
    return python
