"""The third-party assets the pages ship, copied from the pinned npm packages.

``python -m gateway.web.vendor`` copies them from ``node_modules`` into ``gateway/web/static``
(and removes what an older version left there); ``--check`` verifies byte for byte that the
shipped files are the packages' and that nothing else is in the vendored folders. Each folder
keeps the package's relative paths, so that the DSFR stylesheet's ``url(fonts/…)`` and
``url(icons/…)`` resolve. The versions shipped are written to ``static/VERSIONS``.

The DSFR's icons are not shipped as a whole (``utility/icons`` is thousands of files): only the
SVGs its main stylesheet itself references (alerts, close buttons, selects, links).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VERSIONS = "VERSIONS"

# The vendored folders under static/ and our own files that live in them.
FOLDERS = ("graphiql", "dsfr")
OURS = frozenset({"graphiql/start.js", "graphiql/start.css", "graphiql/unefois-graphiql.css"})

_CSS_ICON = re.compile(r"url\((icons/[A-Za-z0-9_./-]+\.svg)\)")


@dataclass(frozen=True)
class Asset:
    package: str  # the npm package name
    source: str  # path inside the package
    target: str  # path under static/


def _graphiql() -> Iterator[Asset]:
    yield Asset("graphiql", "graphiql.min.js", "graphiql/graphiql.min.js")
    yield Asset("graphiql", "graphiql.min.css", "graphiql/graphiql.min.css")
    yield Asset("graphiql", "LICENSE", "graphiql/LICENSE.graphiql")
    yield Asset("react", "umd/react.production.min.js", "graphiql/react.production.min.js")
    yield Asset("react", "LICENSE", "graphiql/LICENSE.react")
    yield Asset(
        "react-dom", "umd/react-dom.production.min.js", "graphiql/react-dom.production.min.js"
    )
    yield Asset("react-dom", "LICENSE", "graphiql/LICENSE.react-dom")


def _dsfr(node_modules: Path) -> Iterator[Asset]:
    package = "@gouvfr/dsfr"
    dist = node_modules / package / "dist"
    for name in ("dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js"):
        yield Asset(package, f"dist/{name}", f"dsfr/{name}")
    for font in sorted((dist / "fonts").iterdir()):
        if font.name.endswith((".woff2", ".woff")):
            yield Asset(package, f"dist/fonts/{font.name}", f"dsfr/fonts/{font.name}")
    for icon in favicon_files(dist):
        yield Asset(package, f"dist/{icon}", f"dsfr/{icon}")
    css = (dist / "dsfr.min.css").read_text(encoding="utf-8")
    for icon in sorted(set(_CSS_ICON.findall(css))):
        yield Asset(package, f"dist/{icon}", f"dsfr/{icon}")
    yield Asset(package, "LICENSE.md", "dsfr/LICENSE.md")


def favicon_files(dist: Path) -> list[str]:
    found = (dist / "favicon").rglob("*")
    return sorted(path.relative_to(dist).as_posix() for path in found if path.is_file())


def assets(node_modules: Path) -> list[Asset]:
    return [*_graphiql(), *_dsfr(node_modules)]


def versions(node_modules: Path, shipped: Sequence[Asset]) -> str:
    """``package@version`` per line, read from each package's own package.json."""
    lines = []
    for package in dict.fromkeys(asset.package for asset in shipped):
        manifest = json.loads((node_modules / package / "package.json").read_text("utf-8"))
        lines.append(f"{package}@{manifest['version']}\n")
    return "".join(lines)


def _vendored(static: Path) -> set[str]:
    """The files now in the vendored folders, ours excepted."""
    found = set()
    for folder in FOLDERS:
        for path in (static / folder).rglob("*"):
            if path.is_file():
                found.add(path.relative_to(static).as_posix())
    return found - OURS


def copy(node_modules: Path, static: Path) -> list[str]:
    """Copy every asset and the versions file; remove vendored files no longer shipped."""
    shipped = assets(node_modules)
    for asset in shipped:
        target = static / asset.target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / asset.package / asset.source, target)
    stale = sorted(_vendored(static) - {asset.target for asset in shipped})
    for name in stale:
        (static / name).unlink()
    (static / VERSIONS).write_text(versions(node_modules, shipped), encoding="utf-8")
    return stale


def check(node_modules: Path, static: Path) -> list[str]:
    """What differs between the shipped files and the packages (empty: nothing)."""
    shipped = assets(node_modules)
    problems = []
    for asset in shipped:
        target = static / asset.target
        if not target.is_file():
            problems.append(f"{asset.target}: missing")
        elif target.read_bytes() != (node_modules / asset.package / asset.source).read_bytes():
            problems.append(f"{asset.target}: differs from {asset.package}/{asset.source}")
    for name in sorted(_vendored(static) - {asset.target for asset in shipped}):
        problems.append(f"{name}: not from a package (left by an older version?)")
    expected = versions(node_modules, shipped)
    written = static / VERSIONS
    if not written.is_file() or written.read_text(encoding="utf-8") != expected:
        problems.append(f"{VERSIONS}: does not read {expected.strip().replace(chr(10), ', ')}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.web.vendor",
        description="Copy the pages' third-party assets from node_modules (npm ci first).",
    )
    parser.add_argument(
        "--check", action="store_true", help="verify the shipped files instead of copying"
    )
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES, help=argparse.SUPPRESS)
    parser.add_argument("--static", type=Path, default=STATIC, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.node_modules / "graphiql" / "package.json").is_file():
        print(f"{args.node_modules}: no npm packages here; run npm ci", file=sys.stderr)
        return 2
    if args.check:
        problems = check(args.node_modules, args.static)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("the shipped assets differ: run python -m gateway.web.vendor", file=sys.stderr)
            return 1
        print("the shipped assets are the packages' own")
        return 0
    removed = copy(args.node_modules, args.static)
    for name in removed:
        print(f"removed {name}")
    print((args.static / VERSIONS).read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
