"""Loading form definitions (``prefill/forms/<id>.yaml``), strictly.

A form file is written by hand and read by every request, so the loader refuses anything it
does not understand (unknown keys, wrong types, unknown transforms, paths that do not resolve
on the records) with the file and key named, at start rather than in front of a person.

``purposes`` names the policy catalogue's purposes under which the form may be prefilled;
prefill does not read the catalogue, so that they exist is checked by the schema against the
loaded catalogue (``schema.prefill.check_form_purposes``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from prefill import paths
from prefill.errors import DefinitionError, UnknownForm
from prefill.model import FIELD_TYPES, FieldDef, FormDef
from prefill.transforms import TRANSFORMS

SHIPPED = Path(__file__).resolve().parent / "forms"
_ID = re.compile(r"[a-z][a-z0-9_]*")
_FORM_KEYS = {"id", "title", "benefit", "reference", "purposes", "fields"}
_FIELD_KEYS = {
    "id",
    "label",
    "type",
    "source",
    "transform",
    "confirm",
    "required",
    "choices",
    "children",
    "help",
}


class Forms(Mapping[str, FormDef]):
    """Forms by id; asking for an unknown one raises ``UnknownForm`` (a ``KeyError``)."""

    def __init__(self, forms: Mapping[str, FormDef]) -> None:
        self._forms = dict(forms)

    def __getitem__(self, form_id: str) -> FormDef:
        try:
            return self._forms[form_id]
        except KeyError:
            raise UnknownForm(form_id) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._forms)

    def __len__(self) -> int:
        return len(self._forms)


class _Reader:
    """Checks one file; every error names the file and the key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> DefinitionError:
        return DefinitionError(self.file, key, problem)

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}{key}", "must be a non-empty string")
        return value

    def flag(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", "must be true or false")
        return value

    def purposes(self, data: Mapping[str, Any]) -> tuple[str, ...]:
        raw = data.get("purposes")
        if raw is None:
            raise self.fail("purposes", "is required: the purposes the form may be prefilled under")
        if not isinstance(raw, list) or not raw:
            raise self.fail("purposes", "must be a non-empty list of purpose ids")
        for i, purpose in enumerate(raw):
            if not isinstance(purpose, str) or not _ID.fullmatch(purpose):
                raise self.fail(f"purposes[{i}]", "must be a purpose id (lower_snake_case)")
        if len(set(raw)) != len(raw):
            raise self.fail("purposes", "lists a purpose twice")
        return tuple(raw)

    def form(self, data: Any, stem: str) -> FormDef:
        if not isinstance(data, dict):
            raise self.fail("(top)", "a form is a mapping")
        for key in data:
            if key not in _FORM_KEYS:
                raise self.fail(str(key), "unknown key")
        form_id = self.text(data, "id", "", required=True)
        if form_id != stem:
            raise self.fail("id", f"must be the file's name, {stem!r}")
        raw = data.get("fields")
        if not isinstance(raw, list) or not raw:
            raise self.fail("fields", "must be a non-empty list")
        fields = self.fields(raw, "fields", parent=None)
        return FormDef(
            id=stem,
            title=self.text(data, "title", "", required=True) or "",
            benefit=self.text(data, "benefit", "", required=False),
            fields=fields,
            source_file=self.file,
            reference=self.text(data, "reference", "", required=False),
            purposes=self.purposes(data),
        )

    def fields(self, raw: list[Any], where: str, parent: FieldDef | None) -> tuple[FieldDef, ...]:
        out: list[FieldDef] = []
        for i, item in enumerate(raw):
            name = item.get("id") if isinstance(item, dict) else None
            key = f"{where}.{name}" if isinstance(name, str) else f"{where}[{i}]"
            f = self.field(item, key, parent)
            if any(o.id == f.id for o in out):
                raise self.fail(f"{key}.id", "duplicate id")
            out.append(f)
        return tuple(out)

    def field(self, data: Any, key: str, parent: FieldDef | None) -> FieldDef:
        if not isinstance(data, dict):
            raise self.fail(key, "a field is a mapping")
        for k in data:
            if k not in _FIELD_KEYS:
                raise self.fail(f"{key}.{k}", "unknown key")
        at = f"{key}."
        field_id = self.text(data, "id", at, required=True) or ""
        if not _ID.fullmatch(field_id):
            raise self.fail(f"{key}.id", "must be lower_snake_case")
        kind = data.get("type")
        if kind not in FIELD_TYPES:
            raise self.fail(f"{key}.type", f"must be one of {', '.join(FIELD_TYPES)}")
        choices = data.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise self.fail(f"{key}.choices", "must be a list of strings")
        if (kind == "choice") != bool(choices):
            raise self.fail(f"{key}.choices", "a choice field, and only it, lists its choices")
        transform = self.text(data, "transform", at, required=False)
        if transform is not None and transform not in TRANSFORMS:
            raise self.fail(f"{key}.transform", f"unknown transform {transform!r}")
        source = self.text(data, "source", at, required=False)
        confirm = self.flag(data, "confirm", at)
        if source is None and (transform is not None or confirm):
            raise self.fail(f"{key}.source", "transform and confirm need a source")
        raw_children = data.get("children")
        if (kind == "repetition") != (raw_children is not None):
            raise self.fail(f"{key}.children", "a repetition, and only it, has children")
        if parent is not None and kind == "repetition":
            raise self.fail(f"{key}.type", "repetitions do not nest")
        fd = FieldDef(
            id=field_id,
            label=self.text(data, "label", at, required=True) or "",
            type=kind,
            source=source,
            transform=transform,
            confirm=confirm,
            required=self.flag(data, "required", at),
            choices=tuple(choices),
            help=self.text(data, "help", at, required=False),
        )
        if source is not None:
            self.check_source(fd, key, parent)
        if raw_children is None:
            return fd
        if not isinstance(raw_children, list) or not raw_children:
            raise self.fail(f"{key}.children", "must be a non-empty list")
        children = self.fields(raw_children, f"{key}.children", parent=fd)
        return dataclasses.replace(fd, children=children)

    def check_source(self, fd: FieldDef, key: str, parent: FieldDef | None) -> None:
        assert fd.source is not None
        try:
            if parent is None:
                shape = paths.check(paths.parse(fd.source))
            else:
                shape = paths.check_steps(self.row_type(parent, key), row_steps(parent, fd))
        except paths.PathSyntaxError as exc:
            raise self.fail(f"{key}.source", f"{fd.source}: {exc}") from None
        aggregate = fd.transform is not None and TRANSFORMS[fd.transform].aggregate
        if fd.type == "repetition" and not shape.many:
            raise self.fail(f"{key}.source", "a repetition reads a list")
        if fd.type != "repetition" and shape.many and not aggregate:
            raise self.fail(f"{key}.transform", "the source reads a list: aggregate it")
        if aggregate and not shape.many:
            raise self.fail(f"{key}.transform", f"{fd.transform} aggregates a list")

    def row_type(self, parent: FieldDef, key: str) -> type:
        assert parent.source is not None
        shape = paths.check(paths.parse(parent.source))
        if not isinstance(shape.type, type):
            raise self.fail(key, "the repetition's rows are not records")
        return shape.type


def row_prefix(parent: FieldDef) -> str:
    """What a child's source starts with: the parent's, ``[]`` added after a bare list."""
    assert parent.source is not None
    return parent.source if parent.source.endswith("]") else parent.source + "[]"


def row_steps(parent: FieldDef, child: FieldDef) -> tuple[paths.Step, ...]:
    """The steps of a child's source read on one row of its repetition."""
    assert child.source is not None
    prefix = row_prefix(parent) + "."
    if not child.source.startswith(prefix):
        raise paths.PathSyntaxError(f"must start with {prefix!r} (the repetition's source)")
    return paths.parse_steps(child.source[len(prefix) :])


def load_form(file: Path) -> FormDef:
    reader = _Reader(file.name)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise reader.fail("(yaml)", str(exc).splitlines()[0]) from None
    return reader.form(data, file.stem)


@functools.cache
def _shipped() -> Forms:
    return _load(SHIPPED)


def _load(directory: Path) -> Forms:
    files = sorted(directory.glob("*.yaml"))
    return Forms({f.stem: load_form(f) for f in files})


def load_forms(directory: Path | None = None) -> Forms:
    """Every form of ``directory`` (default: the shipped ones, loaded once)."""
    return _shipped() if directory is None else _load(directory)


def fields_needed(form: FormDef) -> frozenset[str]:
    """The person-view fields the form's sources read: the gateway fetches only those."""
    return frozenset(paths.parse(f.source).root for f in form.fields if f.source is not None)
