"""The product's package lists agree: pyproject's packages, mypy's, and the image's build
context (``.dockerignore``, matched as Docker matches it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.system._image import ROOT, Pattern, context_files, ignored, read_patterns

# What the context holds besides the packages: what ``pip install .`` reads.
PACKAGING_FILES = {"pyproject.toml", "README.md", "LICENSE"}
# Python packages of the checkout that are not the product.
NOT_PRODUCT = {"tests", "bench"}


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _setuptools_packages() -> set[str]:
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    include = tool["setuptools"]["packages"]["find"]["include"]
    # Each entry is "<package>*": the package and its sub-packages.
    assert all(entry.endswith("*") and "." not in entry for entry in include), include
    return {entry.removesuffix("*") for entry in include}


def _mypy_packages() -> set[str]:
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    return set(tool["mypy"]["packages"])


def _checkout_packages() -> set[str]:
    return {
        path.parent.name for path in ROOT.glob("*/__init__.py") if not path.parent.name[0] == "."
    } - NOT_PRODUCT


# Files in the packages that nothing reads at run time, so not installed: alembic's template
# for writing a new revision, and a note for maintainers.
NOT_RUNTIME = {"store/migrations/script.py.mako", "prefill/data/README.md"}


def _package_data() -> dict[str, list[str]]:
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    data: dict[str, list[str]] = tool["setuptools"]["package-data"]
    return data


def _patterns() -> list[Pattern]:
    return read_patterns((ROOT / ".dockerignore").read_text(encoding="utf-8"))


def test_pyproject_lists_every_product_package() -> None:
    product = _checkout_packages()
    assert _setuptools_packages() == product
    # The benchmarks are type-checked as the product is, and not shipped.
    assert _mypy_packages() == product | {"bench"}


def test_package_data_installs_every_file_the_packages_read() -> None:
    """What a package holds besides its modules (the sandbox's procedures and mappings, the
    policy catalogue, templates…) is installed with it: ``pip install .`` and the image get
    what a source checkout has."""
    data = _package_data()
    left_out = []
    for package in sorted(_setuptools_packages()):
        folder = ROOT / package
        installed = {f for pattern in data.get(package, []) for f in folder.glob(pattern)}
        for path in folder.rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if (
                not path.is_file()
                or path.suffix in {".py", ".pyc"}
                or "__pycache__" in path.parts
                or rel in NOT_RUNTIME
            ):
                continue
            if path not in installed:
                left_out.append(rel)
    assert left_out == []


def test_the_sandbox_ds_files_are_package_data() -> None:
    patterns = _package_data()["sandbox"]
    folder = ROOT / "sandbox"
    installed = {f.relative_to(folder).as_posix() for p in patterns for f in folder.glob(p)}
    assert {
        "demarches/procedures.yaml",
        "demarches/schema.graphql",
        "demarches/mappings/demande-rsa.yaml",
    } <= installed


def test_the_build_context_admits_the_product_packages_and_nothing_else() -> None:
    patterns = _patterns()
    top_level = {path.name for path in ROOT.iterdir()}
    admitted = {name for name in top_level if not ignored(patterns, name)}
    assert admitted == _setuptools_packages() | (PACKAGING_FILES & top_level)
    # Each package's modules get in (not only the folder).
    for package in _setuptools_packages():
        assert not ignored(patterns, f"{package}/__init__.py"), package


def test_secrets_and_local_files_stay_out(tmp_path: Path) -> None:
    """A checkout holding local data and stray secrets: none of it is in the context."""
    (tmp_path / ".dockerignore").write_bytes((ROOT / ".dockerignore").read_bytes())
    planted = [
        "var/signing-keys.json",
        "var/clients.yaml",
        "var/unefois.db",
        ".env",
        ".git/config",
        ".venv/bin/python",
        "tests/test_x.py",
        "bench/run.py",
        "cli/.env.local",
        "gateway/signing-keys.json",
        "gateway/tls/server.pem",
        "store/dev.key",
        "store/__pycache__/tables.cpython-311.pyc",
        "audit/deep/er/x.pyc",
    ]
    kept = ["pyproject.toml", "cli/__init__.py", "gateway/clients.yaml", "store/tables.py"]
    for rel in planted + kept:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    assert set(context_files(tmp_path, _patterns())) == set(kept)


@pytest.mark.parametrize(
    ("lines", "path", "out"),
    [
        (["*"], "a/b.py", True),  # a directory's pattern covers its contents
        (["*", "!a/"], "a/b.py", False),  # trailing "/" is cleaned away
        (["*", "!a", "a/b.py"], "a/b.py", True),  # the last matching pattern wins
        (["*", "a/b.py", "!a"], "a/b.py", False),
        (["**/x"], "x", True),  # "**/" matches no directory too
        (["**/x"], "a/b/x/c", True),
        (["a/**/c"], "a/c", True),
        (["a/**/c"], "a/b/d/c", True),
        (["a/*"], "a/b/c", True),
        (["a/*/d"], "a/b/c/d", False),  # "*" stays within one segment
        (["?.py"], "ab.py", False),
        (["[ab].py"], "b.py", True),
        (["/a/./b/"], "a/b", True),  # cleaned like a path
        (["# a comment", "", "a"], "a", True),
    ],
)
def test_docker_matching_rules(lines: list[str], path: str, out: bool) -> None:
    assert ignored(read_patterns("\n".join(lines)), path) is out
