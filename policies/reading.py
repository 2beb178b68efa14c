"""Reading one catalogue file: strict YAML, and shape checks that report file and key path.

Dates stay strings in YAML (the implicit timestamp type is switched off) so that a bad date
is reported with its key path instead of as a parser crash, and so that the canonical
content hashed into the revision does not depend on how a date happened to be typed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from policies.errors import CatalogueError


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps, refusing duplicate keys (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


# A copy without the timestamp resolver: the base class's table is shared by every SafeLoader.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class File:
    """One file being read: every check reports against its name."""

    def __init__(self, root: Path, path: Path) -> None:
        self.name = path.relative_to(root).as_posix()
        self.path = path

    def error(self, where: str, message: str) -> CatalogueError:
        return CatalogueError(self.name, where, message)

    def read(self) -> Any:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.error("", "file is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error("", f"cannot be read ({exc.__class__.__name__})") from None
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "malformed"
            raise self.error("", f"not valid YAML{line}: {problem}") from None

    def mapping(self, value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"expected a mapping, got {kind(value)}")
        for key in value:
            if key not in keys:
                raise self.error(join(where, str(key)), "unknown key")
        for key in keys:
            if key not in value:
                raise self.error(where, f"missing key {key!r}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.error(where, f"expected text, got {kind(value)}")
        if not value.strip():
            raise self.error(where, "must not be empty")
        return value.strip()

    def ident(self, value: Any, where: str, pattern: re.Pattern[str], what: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise self.error(where, f"not a valid {what}: {value!r}")
        return value

    def names(self, value: Any, where: str, pattern: re.Pattern[str], what: str) -> list[str]:
        if not isinstance(value, list):
            raise self.error(where, f"expected a list, got {kind(value)}")
        out: list[str] = []
        for i, item in enumerate(value):
            name = self.ident(item, f"{where}[{i}]", pattern, what)
            if name in out:
                raise self.error(f"{where}[{i}]", f"duplicate {what} {name!r}")
            out.append(name)
        return out


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
