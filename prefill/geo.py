"""French geographic codes as démarches-simplifiées takes them.

- countries: INSEE's ``99xxx`` country codes (what the civil registry gives) to ISO 3166-1
  alpha-2 and back, from INSEE's Code officiel géographique (``prefill/data/``);
- départements: a département's code from an INSEE commune code or a postcode, Corsica
  (``2A``/``2B``) and the overseas départements and collectivités (``971``…``988``) included,
  and its name (the 101 départements of INSEE's COG 2025);
- communes: an INSEE commune code's name (a birth place), a former commune still listed by
  the COG 2025 as delegated or associated named with the commune it is part of today, a
  commune of a collectivité d'outre-mer with its collectivité's code; and the
  commune and postcode a démarches-simplifiées communes champ takes for a code (COG 2026 and
  La Poste's postcodes).
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
POSTCODE = re.compile(r"\d{5}")
COMMUNE_CODE = re.compile(r"\d{5}|2[AB]\d{3}")
DEPARTEMENT = re.compile(r"0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2[AB]|97[1-8]|98[4-9]")
# Postcodes of an overseas collectivité that share their first three digits with a
# département: Saint-Barthélemy and Saint-Martin (971xx, like Guadeloupe).
_POSTCODE_EXCEPTIONS = {"97133": "977", "97150": "978"}


@dataclass(frozen=True)
class Countries:
    to_iso: dict[str, str]  # INSEE code → ISO alpha-2
    to_insee: dict[str, str]  # ISO alpha-2 → the INSEE code of that country (not a territory)
    names: dict[str, str]  # INSEE code → the country's or territory's name, in French


@functools.cache
def countries() -> Countries:
    to_iso: dict[str, str] = {}
    to_insee: dict[str, str] = {}
    names: dict[str, str] = {}
    with (DATA / "insee_countries.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            to_iso[row["insee"]] = row["iso2"]
            names[row["insee"]] = row["name"]
            if row["kind"] == "country":
                to_insee.setdefault(row["iso2"], row["insee"])
    return Countries(to_iso, to_insee, names)


@functools.cache
def departement_names() -> dict[str, str]:
    """The départements' names by code (``93`` → ``Seine-Saint-Denis``), INSEE's COG 2025."""
    with (DATA / "insee_departements.csv").open(encoding="utf-8", newline="") as file:
        return {row["code"]: row["name"] for row in csv.DictReader(file)}


def departement_label(code: str) -> str:
    """« Seine-Saint-Denis (93) »; the code alone for one INSEE does not list (a
    collectivité d'outre-mer)."""
    name = departement_names().get(code)
    return f"{name} ({code})" if name else code


@dataclass(frozen=True)
class Commune:
    name: str
    now_part_of: str  # for a former commune (delegated or associated): today's commune
    departement: str


@functools.cache
def communes() -> dict[str, Commune]:
    """INSEE's communes by code, COG 2025: communes, municipal arrondissements, and the
    former communes it still lists (delegated or associated ones)."""
    with (DATA / "insee_communes.csv").open(encoding="utf-8", newline="") as file:
        return {
            row["code"]: Commune(row["name"], row["commune"], row["departement"])
            for row in csv.DictReader(file)
        }


def commune_label(code: str) -> str | None:
    """« Lyon (69) », « Cherbourg-Octeville, aujourd'hui Cherbourg-en-Cotentin (50) »; None for
    a code the COG 2025 does not list (a commune merged away before, or no code at all)."""
    found = communes().get(code)
    if found is None:
        return None
    name = f"{found.name}, aujourd'hui {found.now_part_of}" if found.now_part_of else found.name
    return f"{name} ({found.departement})" if found.departement else name


def departement_of_commune(code: str) -> str | None:
    """The département of an INSEE commune code (``75112`` → ``75``, ``97411`` → ``974``)."""
    if not COMMUNE_CODE.fullmatch(code):
        return None
    prefix = code[:3] if code.startswith("97") or code.startswith("98") else code[:2]
    return prefix if DEPARTEMENT.fullmatch(prefix) else None


def departement_of_postcode(postcode: str) -> str | None:
    """The département a postcode is in, by La Poste's numbering.

    Corsica's postcodes start with 20: 200xx and 201xx are Corse-du-Sud (2A), 202xx and
    206xx Haute-Corse (2B). Overseas postcodes have three digits of département (97411 →
    974). A postcode gives no département for Monaco (980xx) and is not one (wrong length).
    A few communes have a postcode of a neighbouring département: give the commune's INSEE
    code when it is known (``departement_of_commune``).
    """
    if not POSTCODE.fullmatch(postcode):
        return None
    if postcode in _POSTCODE_EXCEPTIONS:
        return _POSTCODE_EXCEPTIONS[postcode]
    if postcode.startswith("20"):
        if postcode[2] in "01":
            return "2A"
        if postcode[2] in "26":
            return "2B"
        return None
    prefix = postcode[:3] if postcode.startswith(("97", "98")) else postcode[:2]
    return prefix if DEPARTEMENT.fullmatch(prefix) else None


@dataclass(frozen=True)
class _Postal:
    postcodes: dict[str, tuple[str, ...]]  # a commune's or arrondissement's own postcodes
    to_ds: dict[str, tuple[str, str]]  # any code → (postcode, commune) as a champ takes it
    arrondissements: dict[tuple[str, str], str]  # (postcode, commune) → arrondissement


@functools.cache
def _postal() -> _Postal:
    postcodes: dict[str, tuple[str, ...]] = {}
    communes: dict[str, str] = {}
    with (DATA / "postcodes.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            communes[row["code"]] = row["commune"]
            if row["postcodes"]:
                postcodes[row["code"]] = tuple(row["postcodes"].split())
    to_ds: dict[str, tuple[str, str]] = {}
    arrondissements: dict[tuple[str, str], str] = {}
    for code, commune in communes.items():
        own = postcodes.get(code) or postcodes[commune]
        to_ds[code] = (own[0], commune)
        if commune != code and code in postcodes:
            arrondissements.update({(p, commune): code for p in own})
    return _Postal(postcodes, to_ds, arrondissements)


def postcodes(code: str) -> tuple[str, ...]:
    """A commune's or a municipal arrondissement's postcodes, sorted (La Poste's, 2026);
    none for a former commune or a code not listed."""
    return _postal().postcodes.get(code.strip().upper(), ())


def commune_with_postcode(code: str) -> tuple[str, str] | None:
    """``(postcode, commune code)`` of an INSEE commune code as a communes champ takes it:
    a commune with the first of its postcodes (``69123`` → ``69001``, ``69123``); a municipal
    arrondissement as its commune with its own postcode (``75112`` → ``75012``, ``75056``); a
    former commune, delegated or associated, as the commune it is part of today (``50173`` →
    ``50100``, ``50129``). None for a code not listed (merged away, renumbered, or no code)."""
    return _postal().to_ds.get(code.strip().upper())


def commune_from_postcode(postcode: str, commune: str) -> str:
    """The most precise INSEE code for a commune given with a postcode: the municipal
    arrondissement that postcode is in for Paris, Lyon and Marseille (``75012``, ``75056`` →
    ``75112``), the commune's own code otherwise."""
    return _postal().arrondissements.get((postcode.strip(), commune.strip().upper()), commune)


def same_commune(one: str, other: str) -> bool:
    """Whether two INSEE codes stand for the same commune in a communes champ (an
    arrondissement and its postcode, a former commune and the one it is part of today)."""
    if one.strip().upper() == other.strip().upper():
        return True
    found = commune_with_postcode(one)
    return found is not None and found == commune_with_postcode(other)
