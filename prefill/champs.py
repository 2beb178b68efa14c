"""démarches-simplifiées's champ descriptors: what a procedure's form is made of.

DS's GraphQL API v2 describes a procedure's revision as a list of champ descriptors
(``demarcheDescriptor.revision.champDescriptors``), each with a ``__typename`` such as
``IntegerNumberChampDescriptor``. We keep DS's own name for the type, its ``type_champ``
(``integer_number``), derived from the typename, so that a mapping file and a message speak
the words DS's administrators see. A champ's id is base64 of ``Champ-<stable id>``; DS leaves
the padding out.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prefill.errors import DescriptorError

_CHAMP = re.compile(r"Champ-(\d+)(\|.+)?")
_SUFFIX = "ChampDescriptor"
# Typenames whose type_champ is not the snake_case of the typename's head.
_IRREGULAR = {
    "Commune": "communes",
    "Departement": "departements",
    "Region": "regions",
    "COJO": "cojo",
    "RNA": "rna",
    "RNF": "rnf",
}
_IRREGULAR_BACK = {v: k for k, v in _IRREGULAR.items()}
# Champs that carry no value: a section title and an explanation text.
LAYOUT_TYPES = frozenset({"header_section", "explication"})


@dataclass(frozen=True)
class ChampDescriptor:
    id: str  # DS champ id: base64 of "Champ-<n>"
    label: str
    type: str  # DS's type_champ: text, integer_number, communes, repetition…
    required: bool
    options: tuple[str, ...] = ()  # drop-down lists
    children: tuple[ChampDescriptor, ...] = ()  # repetition

    def child(self, champ_id: str) -> ChampDescriptor | None:
        return next((c for c in self.children if c.id == champ_id), None)


def _decode(champ_id: object) -> re.Match[str] | None:
    if not isinstance(champ_id, str) or not re.fullmatch(r"[A-Za-z0-9+/_-]+=*", champ_id):
        return None
    bare = champ_id.rstrip("=")
    padded = bare + "=" * (-len(bare) % 4)
    try:  # GraphQL-Ruby encodes ids url-safe; both alphabets read the same for "Champ-<n>"
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _CHAMP.fullmatch(decoded.decode("utf-8", errors="replace"))


def stable_id(champ_id: object) -> int | None:
    """DS's stable id in a champ id (``Q2hhbXAtMTIz`` → 123), or None if it is not one.

    A champ of a repetition's row has ``Champ-<stable id>|<row id>``: the stable id is its
    descriptor's.
    """
    match = _decode(champ_id)
    return int(match.group(1)) if match else None


def is_champ_id(value: object) -> bool:
    """A descriptor's id: ``Champ-<n>`` in base64, without a row."""
    match = _decode(value)
    return match is not None and match.group(2) is None


def champ_id(stable: int) -> str:
    """The champ id DS gives the descriptor of this stable id (no padding)."""
    return base64.b64encode(f"Champ-{stable}".encode()).decode().rstrip("=")


def type_of(typename: str) -> str:
    """``IntegerNumberChampDescriptor`` → ``integer_number``; ``CommuneChampDescriptor`` →
    ``communes``."""
    if not typename.endswith(_SUFFIX) or typename == _SUFFIX:
        raise DescriptorError(f"not a champ descriptor typename: {typename!r}")
    head = typename[: -len(_SUFFIX)]
    if head in _IRREGULAR:
        return _IRREGULAR[head]
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", head):
        raise DescriptorError(f"not a champ descriptor typename: {typename!r}")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", head).lower()


def typename_of(type_champ: str) -> str:
    """The reverse of ``type_of``: ``integer_number`` → ``IntegerNumberChampDescriptor``."""
    head = _IRREGULAR_BACK.get(type_champ)
    if head is None:
        head = "".join(part.capitalize() for part in type_champ.split("_"))
    return head + _SUFFIX


def _text(node: Mapping[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str):
        raise DescriptorError(f"{where}: {key} must be a string")
    return value


def _descriptor(node: Any, where: str, *, nested: bool) -> ChampDescriptor:
    if not isinstance(node, Mapping):
        raise DescriptorError(f"{where}: a champ descriptor is an object")
    typename = _text(node, "__typename", where)
    kind = type_of(typename)
    ident = _text(node, "id", where)
    if not is_champ_id(ident):
        raise DescriptorError(f"{where}: id {ident!r} is not a DS champ id")
    required = node.get("required")
    if not isinstance(required, bool):
        raise DescriptorError(f"{where}: required must be true or false")
    options = node.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise DescriptorError(f"{where}: options must be a list of strings")
    raw_children = node.get("champDescriptors") or []
    if kind == "repetition":
        if nested:
            raise DescriptorError(f"{where}: a repetition inside a repetition")
        if not isinstance(raw_children, list):
            raise DescriptorError(f"{where}: champDescriptors must be a list")
        children = tuple(
            _descriptor(c, f"{where}.champDescriptors[{i}]", nested=True)
            for i, c in enumerate(raw_children)
        )
    else:
        # DS still answers the deprecated champDescriptors on every type, empty.
        if raw_children:
            raise DescriptorError(f"{where}: only a repetition has champDescriptors")
        children = ()
    return ChampDescriptor(
        id=ident,
        label=_text(node, "label", where),
        type=kind,
        required=required,
        options=tuple(options),
        children=children,
    )


def _check_unique(champs: Sequence[ChampDescriptor]) -> None:
    seen: set[str] = set()
    for c in champs:
        for d in (c, *c.children):
            if d.id in seen:
                raise DescriptorError(f"champ id {d.id} appears twice")
            seen.add(d.id)


def descriptors_from_graphql(nodes: Sequence[Mapping[str, Any]]) -> tuple[ChampDescriptor, ...]:
    """The descriptors of ``data.demarcheDescriptor.revision.champDescriptors``."""
    if not isinstance(nodes, list | tuple):
        raise DescriptorError("champDescriptors must be a list")
    out = tuple(_descriptor(n, f"champDescriptors[{i}]", nested=False) for i, n in enumerate(nodes))
    _check_unique(out)
    return out


def _to_data(c: ChampDescriptor) -> dict[str, Any]:
    data: dict[str, Any] = {"id": c.id, "label": c.label, "type": c.type, "required": c.required}
    if c.options:
        data["options"] = list(c.options)
    if c.children:
        data["children"] = [_to_data(d) for d in c.children]
    return data


def descriptors_to_data(champs: Sequence[ChampDescriptor]) -> list[dict[str, Any]]:
    """JSON-able form of the descriptors, for the database (``descriptors_from_data``)."""
    return [_to_data(c) for c in champs]


def _graphql_node(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise DescriptorError(f"{where}: a stored champ descriptor is an object")
    if set(item) - {"id", "label", "type", "required", "options", "children"}:
        raise DescriptorError(f"{where}: unknown keys")
    kind = _text(item, "type", where)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
        raise DescriptorError(f"{where}: {kind!r} is not a champ type")
    node = {k: v for k, v in item.items() if k not in ("type", "children")}
    node["__typename"] = typename_of(kind)
    children = item.get("children") or []
    if not isinstance(children, list):
        raise DescriptorError(f"{where}: children must be a list")
    node["champDescriptors"] = [
        _graphql_node(c, f"{where}.children[{i}]") for i, c in enumerate(children)
    ]
    return node


def descriptors_from_data(data: Any) -> tuple[ChampDescriptor, ...]:
    if not isinstance(data, list):
        raise DescriptorError("stored champ descriptors must be a list")
    out = tuple(
        _descriptor(_graphql_node(d, f"[{i}]"), f"[{i}]", nested=False) for i, d in enumerate(data)
    )
    _check_unique(out)
    return out
