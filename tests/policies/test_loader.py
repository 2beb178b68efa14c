"""The loader: the shipped catalogue loads; a broken one is refused, naming file and key."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from exchange.catalogue import FIELDS
from policies import CatalogueError, PolicyError, load_catalogue

Files = dict[str, Any]


def _base() -> Files:
    """A small valid catalogue, as the parsed content of each file."""
    return {
        "categories.yaml": {
            "categories": [
                {"id": "civil", "label": "État civil", "fields": ["identity"]},
                {"id": "money", "label": "Ressources", "fields": ["resources", "taxHousehold"]},
            ]
        },
        "clients.yaml": {
            "clients": [
                {"id": "town-hall", "name": "Mairie", "groups": ["ccas"]},
                {"id": "builder", "name": "Formulaires", "groups": []},
            ]
        },
        "purposes/help.yaml": {
            "id": "help",
            "label": "Aide sociale facultative",
            "legal_basis": {
                "title": "CASF, art. L123-5",
                "href": "https://www.legifrance.gouv.fr/search/code?query=L123-5",
            },
            "lawful_ground": "public_task",
            "clients": ["builder"],
            "groups": ["ccas"],
            "retention_days": 365,
            "categories": {"2024-01-01": ["civil"], "2025-01-01": ["civil", "money"]},
        },
    }


def _write(root: Path, files: Files) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
    return root


def _purpose(files: Files) -> dict[str, Any]:
    purpose: dict[str, Any] = files["purposes/help.yaml"]
    return purpose


def test_the_shipped_catalogue_loads_against_the_person_view_fields() -> None:
    catalogue = load_catalogue(known_fields=frozenset(FIELDS))
    assert set(catalogue.purposes) == {
        "rsa_instruction",
        "caf_rsa_ppa",
        "css_attribution",
        "css_renewal",
        "css_automatic_grant",
        "aspa_instruction",
        "housing_aid",
        "citizen_prefill",
        "self_access",
        "proactive_detection",
        "audit_control",
        "eligibility_check",
    }
    assert catalogue.fields == frozenset(FIELDS)
    assert re.fullmatch(r"[0-9a-f]{12}", catalogue.revision)
    for purpose in catalogue.purposes.values():
        assert purpose.legal_basis.href.startswith("https://")
        assert purpose.source == f"purposes/{purpose.id}.yaml"


def test_a_valid_catalogue_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(_write(tmp_path, _base()))
    help_ = catalogue.purposes["help"]
    assert [p.period.start.isoformat() for p in help_.provisions] == ["2024-01-01", "2025-01-01"]
    assert help_.provisions[0].period.end == help_.provisions[1].period.start
    assert catalogue.category_of("taxHousehold") == "money"
    assert catalogue.client_may_use("town-hall", "help")  # by group
    assert catalogue.client_may_use("builder", "help")  # by id
    assert not catalogue.client_may_use("nobody", "help")
    assert not catalogue.client_may_use("builder", "nothing")


def test_null_ends_a_provision(tmp_path: Path) -> None:
    files = _base()
    _purpose(files)["categories"] = {"2024-01-01": ["civil"], "2024-07-01": None}
    (provision,) = load_catalogue(_write(tmp_path, files)).purposes["help"].provisions
    assert provision.period.end is not None and provision.period.end.isoformat() == "2024-07-01"


def test_the_revision_follows_content_not_layout(tmp_path: Path) -> None:
    files = _base()
    first = load_catalogue(_write(tmp_path / "a", files)).revision
    text = "# a comment changes nothing\n" + yaml.safe_dump(files["clients.yaml"], indent=4)
    relaid = load_catalogue(_write(tmp_path / "b", {**files, "clients.yaml": text})).revision
    assert relaid == first
    _purpose(files)["retention_days"] = 366
    assert load_catalogue(_write(tmp_path / "c", files)).revision != first


def _set(*path: str | int, value: Any) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        target: Any = files
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(*path: str | int) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        target: Any = files
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


P = "purposes/help.yaml"


def _nobody(files: Files) -> None:
    _set(P, "clients", value=[])(files)
    _set(P, "groups", value=[])(files)


CASES: list[tuple[str, Callable[[Files], None], str]] = [
    ("unknown key", _set(P, "colour", value="blue"), f"{P}: colour: unknown key"),
    (
        "unknown nested key",
        _set(P, "legal_basis", "note", value="x"),
        f"{P}: legal_basis.note: unknown key",
    ),
    ("missing key", _drop(P, "retention_days"), f"{P}: missing key 'retention_days'"),
    ("missing nested key", _drop(P, "legal_basis", "href"), f"{P}: legal_basis: missing key"),
    (
        "wrong type",
        _set(P, "retention_days", value="30"),
        f"{P}: retention_days: expected a whole number, got str",
    ),
    ("boolean is no number", _set(P, "retention_days", value=True), f"{P}: retention_days:"),
    ("zero retention", _set(P, "retention_days", value=0), f"{P}: retention_days: must be"),
    ("groups not a list", _set(P, "groups", value="ccas"), f"{P}: groups: expected a list"),
    (
        "bad date",
        _set(P, "categories", value={"2024-02-30": ["civil"]}),
        f"{P}: categories.2024-02-30: not a date",
    ),
    (
        "not a date",
        _set(P, "categories", value={"soon": ["civil"]}),
        f"{P}: categories.soon: not a date",
    ),
    (
        "unknown category",
        _set(P, "categories", value={"2024-01-01": ["civil", "foo"]}),
        f"{P}: categories.2024-01-01[1]: unknown category 'foo'",
    ),
    (
        "duplicate category in a provision",
        _set(P, "categories", value={"2024-01-01": ["civil", "civil"]}),
        f"{P}: categories.2024-01-01[1]: duplicate category",
    ),
    (
        "unordered periods",
        _set(P, "categories", value={"2025-01-01": ["civil"], "2024-01-01": ["money"]}),
        f"{P}: categories.2024-01-01: dates must increase",
    ),
    (
        "null before any provision",
        _set(P, "categories", value={"2024-01-01": None}),
        f"{P}: categories.2024-01-01: null ends a provision, but none is in force",
    ),
    (
        "null twice",
        _set(
            P, "categories", value={"2024-01-01": ["civil"], "2024-02-01": None, "2024-03-01": None}
        ),
        f"{P}: categories.2024-03-01: null ends a provision",
    ),
    ("no provision", _set(P, "categories", value={}), f"{P}: categories: at least one"),
    ("empty label", _set(P, "label", value="  "), f"{P}: label: must not be empty"),
    (
        "plain http href",
        _set(P, "legal_basis", "href", value="http://www.legifrance.gouv.fr/"),
        f"{P}: legal_basis.href: not an https URL",
    ),
    (
        "relative href",
        _set(P, "legal_basis", "href", value="/codes/article"),
        f"{P}: legal_basis.href: not an https URL",
    ),
    (
        "unknown lawful ground",
        _set(P, "lawful_ground", value="interest"),
        f"{P}: lawful_ground: expected one of",
    ),
    (
        "unknown client",
        _set(P, "clients", value=["ghost"]),
        f"{P}: clients[0]: unknown client 'ghost'",
    ),
    (
        "unknown group",
        _set(P, "groups", value=["ccas", "ghost"]),
        f"{P}: groups[1]: unknown group 'ghost'",
    ),
    (
        "nobody may use it",
        _nobody,
        f"{P}: no client and no group",
    ),
    ("id is not the file name", _set(P, "id", value="other"), f"{P}: id: 'other' does not match"),
    (
        "duplicate client",
        _set("clients.yaml", "clients", 1, "id", value="town-hall"),
        "clients.yaml: clients[1].id: duplicate client 'town-hall'",
    ),
    (
        "reserved citizen group",
        _set("clients.yaml", "clients", 1, "groups", value=["citizen"]),
        "clients.yaml: clients[1].groups[0]: group 'citizen' is reserved",
    ),
    (
        "empty client name",
        _set("clients.yaml", "clients", 0, "name", value=""),
        "clients.yaml: clients[0].name: must not be empty",
    ),
    (
        "duplicate category",
        _set("categories.yaml", "categories", 1, "id", value="civil"),
        "categories.yaml: categories[1].id: duplicate category 'civil'",
    ),
    (
        "field in two categories",
        _set("categories.yaml", "categories", 1, "fields", value=["identity"]),
        "categories.yaml: categories[1].fields[0]: field 'identity' is already in category",
    ),
    (
        "category without fields",
        _set("categories.yaml", "categories", 0, "fields", value=[]),
        "categories.yaml: categories[0].fields: a category holds at least one field",
    ),
    (
        "category file not a mapping",
        _set("categories.yaml", value=["civil"]),
        "categories.yaml: expected a mapping, got list",
    ),
    ("missing clients file", _drop("clients.yaml"), "clients.yaml: file is missing"),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_catalogue_is_refused_naming_file_and_key(
    tmp_path: Path, change: Callable[[Files], None], message: str
) -> None:
    files = _base()
    change(files)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write(tmp_path, files))
    assert str(caught.value).startswith(message), str(caught.value)


def test_fields_are_checked_against_the_known_ones(tmp_path: Path) -> None:
    root = _write(tmp_path, _base())
    with pytest.raises(CatalogueError, match=r"^categories\.yaml: categories\[1\]\.fields\[1\]: "):
        load_catalogue(root, known_fields=frozenset({"identity", "resources"}))
    known = frozenset({"identity", "resources", "taxHousehold", "housing"})
    with pytest.raises(CatalogueError, match="field 'housing' of the person view has no category"):
        load_catalogue(root, known_fields=known)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id: help\ncategories:\n  2024-01-01: [civil]\n  2024-01-01: [money]\n",
            f"{P}: not valid YAML at line 4: duplicate key '2024-01-01'",
        ),
        ("id: [unclosed\n", f"{P}: not valid YAML"),
        ("", f"{P}: expected a mapping, got nothing"),
    ],
    ids=["duplicate date", "malformed", "empty file"],
)
def test_unreadable_yaml_is_refused_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    root = _write(tmp_path, {**_base(), P: text})
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(root)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_timestamp_is_not_a_date(tmp_path: Path) -> None:
    files = _base()
    text = yaml.safe_dump(_purpose(files)).replace("'2024-01-01'", "2024-01-01 10:00:00")
    root = _write(tmp_path, {**files, P: text})
    with pytest.raises(CatalogueError, match=r"categories\.2024-01-01 10:00:00: not a date"):
        load_catalogue(root)


def test_errors_share_one_base() -> None:
    error = CatalogueError("clients.yaml", "clients[0].id", "duplicate client 'a'")
    assert isinstance(error, PolicyError)
    assert (error.file, error.path) == ("clients.yaml", "clients[0].id")
