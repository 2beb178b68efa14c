"""Dependency arrows of DESIGN §3, read from the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {
    "cli",
    "runtime",
    "database",
    "gateway",
    "schema",
    "exchange",
    "connectors",
    "policies",
    "store",
    "audit",
    "eligibility",
    "prefill",
    "proactive",
    "sandbox",
}
# package → the packages of ours it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    # The commands: each gets its services from the composition root; ``serve`` starts the
    # HTTP edge; ``audit verify`` alone opens the log itself, read-only.
    "cli": {"gateway", "runtime", "proactive", "exchange", "connectors", "store", "audit"},
    # The composition root: builds every service once, for the application and the commands.
    "runtime": {
        "exchange",
        "connectors",
        "policies",
        "store",
        "audit",
        "eligibility",
        "database",
    },
    # The HTTP edge: authentication, GraphQL over HTTP, pages, health, metrics.
    "gateway": {
        "runtime",
        "schema",
        "exchange",
        "connectors",
        "store",
        "eligibility",
        "prefill",
        "proactive",
    },
    "schema": {"exchange", "connectors", "policies", "store", "audit", "eligibility", "prefill"},
    "exchange": {"connectors", "policies", "store", "audit"},
    "connectors": set(),
    "policies": set(),
    "store": {"policies", "database"},
    # The database plumbing is a leaf that the store and the audit log share.
    "audit": {"database"},
    "database": set(),
    "eligibility": {"connectors"},
    "prefill": {"connectors"},
    "proactive": {"exchange", "eligibility", "prefill", "connectors", "policies", "store", "audit"},
    "sandbox": set(),
}
# Foreign packages a layer must not reach for (schema never speaks HTTP).
FORBIDDEN_FOREIGN: dict[str, set[str]] = {
    "schema": {"starlette", "uvicorn"},
    "exchange": {"starlette", "uvicorn", "strawberry"},
    "connectors": {"starlette", "strawberry"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _modules() -> list[tuple[str, Path]]:
    out = []
    for package in sorted(OURS):
        folder = ROOT / package
        if folder.is_dir():
            out += [(package, p) for p in sorted(folder.rglob("*.py"))]
    return out


@pytest.mark.parametrize(("package", "path"), _modules(), ids=lambda v: str(v))
def test_imports_follow_the_arrows(package: str, path: Path) -> None:
    imported = _imports(path)
    wrong = (imported & OURS) - ALLOWED[package] - {package}
    assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"
    foreign = imported & FORBIDDEN_FOREIGN.get(package, set())
    assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_the_checker_sees_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from gateway.settings import load\nimport schema\n", encoding="utf-8")
    assert _imports(bad) == {"gateway", "schema"}


def test_every_package_is_checked() -> None:
    assert {p for p, _ in _modules()} >= OURS
