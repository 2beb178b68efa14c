"""A postal address laid out as the post office reads it: AFNOR NF Z10-011.

La Poste's summary of the standard (Service national de l'adresse, "les 6 règles d'or de la
norme"): lines ordered from the recipient to the town, at most 6 of them (7 abroad, the
last one the country's name), empty lines left out; at most 38 characters a line, spaces
included; abbreviations only when the street's name runs past 32 characters; no
punctuation from the street line on; the last lines in capitals; the block aligned left.

The lines, in the standard's order, each printed only when known::

    1  MADAME CLAIRE MARTIN           recipient: civility, given name, name
    2  APPARTEMENT 12 ETAGE 3         complement of the delivery point (apartment, floor, c/o)
    3  RESIDENCE LES PINS BAT B       complement of the place (building, entrance, residence)
    4  12 AVENUE DU GENERAL LECLERC   number and street
    5  LIEU DIT LES GRANDS CHAMPS     lieu-dit, or a special delivery (BP, TSA)
    6  87000 LIMOGES                  postcode and town (CEDEX included)
   (7) ALLEMAGNE                      the country, abroad

Every line is written in capitals without accents (the optical readers of sorting centres
and the letter's latin-1 font both want plain letters); lines 1 to 3 keep their hyphens and
apostrophes, lines 4 onwards have none. What cannot be laid out is refused
(:class:`AddressError`): a letter that the post office returns costs more than none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from connectors import records

MAX_LINES = 6  # in France; one more abroad, for the country
WIDTH = 38  # characters a line, spaces included
STREET_NAME_WIDTH = 32  # a street's name is abbreviated only past this
DOMESTIC = frozenset({"FRANCE", "FR", "FRA", "FRANCE METROPOLITAINE"})

Reason = Literal[
    "no_recipient", "no_street", "no_postcode", "no_city", "too_long", "too_many_lines"
]

# The usual abbreviations of French postal addresses, applied word by word from the first
# row to the last and only as far as a line needs to fit: the street types of the post
# office's and the DGFiP's street files (HEXAVIA, FANTOIR: ALL, AV, BD, CHE, IMP, PL, RTE…),
# then the titles and words its street names most often carry (ST, STE, GEN, MAL, DR…),
# then the complements of lines 2 and 3 (APT, BAT, ESC, RES…). Source: La Poste, Service
# national de l'adresse, "la voie (ligne 4)" and its table of street types and
# abbreviations, after NF Z10-011.
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    # Street types
    ("ALLEE", "ALL"),
    ("AVENUE", "AV"),
    ("BOULEVARD", "BD"),
    ("CARREFOUR", "CAR"),
    ("CHAUSSEE", "CHS"),
    ("CHEMIN", "CHE"),
    ("CITE", "CITE"),
    ("COURS", "CRS"),
    ("DOMAINE", "DOM"),
    ("ESPLANADE", "ESP"),
    ("FAUBOURG", "FG"),
    ("HAMEAU", "HAM"),
    ("IMPASSE", "IMP"),
    ("LOTISSEMENT", "LOT"),
    ("MONTEE", "MTE"),
    ("PASSAGE", "PAS"),
    ("PLACE", "PL"),
    ("PROMENADE", "PROM"),
    ("QUARTIER", "QUA"),
    ("ROND POINT", "RPT"),
    ("ROUTE", "RTE"),
    ("SENTIER", "SEN"),
    ("SQUARE", "SQ"),
    ("TRAVERSE", "TRA"),
    ("VILLA", "VLA"),
    ("ZONE ARTISANALE", "ZA"),
    ("ZONE INDUSTRIELLE", "ZI"),
    # Titles and frequent words of street and town names
    ("SAINT", "ST"),
    ("SAINTE", "STE"),
    ("GENERAL", "GEN"),
    ("MARECHAL", "MAL"),
    ("PRESIDENT", "PDT"),
    ("DOCTEUR", "DR"),
    ("PROFESSEUR", "PR"),
    ("COMMANDANT", "CDT"),
    ("CAPITAINE", "CNE"),
    ("LIEUTENANT", "LT"),
    ("COLONEL", "COL"),
    ("ADJUDANT", "ADJ"),
    ("SERGENT", "SGT"),
    ("AMIRAL", "AMI"),
    ("MONSEIGNEUR", "MGR"),
    ("NOTRE DAME", "ND"),
    ("GRAND", "GD"),
    ("GRANDE", "GDE"),
    ("PETIT", "PT"),
    ("PETITE", "PTE"),
    ("ANCIEN", "ANC"),
    ("ANCIENNE", "ANC"),
    ("NATIONALE", "NAT"),
    ("DEPARTEMENTALE", "DEP"),
    # Complements (lines 2 and 3) and civilities (line 1)
    ("APPARTEMENT", "APT"),
    ("BATIMENT", "BAT"),
    ("ESCALIER", "ESC"),
    ("ETAGE", "ETG"),
    ("ENTREE", "ENT"),
    ("IMMEUBLE", "IMM"),
    ("RESIDENCE", "RES"),
    ("MONSIEUR", "M"),
    ("MADAME", "MME"),
)


class AddressError(ValueError):
    """An address a letter cannot be sent to, and why (a word, never the address)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class Recipient:
    """Who the letter is addressed to: ``sex`` "M" or "F" (the civility), the first given
    name, the name in use."""

    sex: str | None
    given_name: str
    name: str

    def line(self) -> str:
        civility = {"M": "MONSIEUR", "F": "MADAME"}.get(self.sex or "")
        return " ".join(p for p in (civility, self.given_name, self.name) if p)


# Letters that decompose into no plain letter: spelt out.
_SPELT = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O"})


def plain(text: str) -> str:
    """Capitals without accents, ligatures spelt out, one space between words."""
    spelt = text.translate(_SPELT)
    decomposed = unicodedata.normalize("NFKD", spelt)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_only = bare.encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_only.upper().split())


def _without_punctuation(text: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9 ]", " ", text).split())


def _with_names(text: str) -> str:
    # Lines 1 to 3: hyphens and apostrophes of names stay, other signs go.
    return " ".join(re.sub(r"[^A-Z0-9 '\-]", " ", text).split())


def abbreviate(text: str, width: int) -> str:
    """``text`` with the table's abbreviations applied one after the other until it is at
    most ``width`` characters long, or the table is exhausted (then it may still be longer)."""
    for long, short in ABBREVIATIONS:
        if len(text) <= width:
            break
        text = re.sub(rf"(?<![A-Z0-9]){long}(?![A-Z0-9])", short, text)
    return text


_NUMBER = re.compile(r"^(\d{1,4}(?:\s?(?:BIS|TER|QUATER|QUINQUIES|[A-Z]))?)\s+(.*)$")


def _street(text: str) -> str:
    line = _without_punctuation(plain(text))
    match = _NUMBER.match(line)
    number, name = (match.group(1), match.group(2)) if match else ("", line)
    if len(name) > STREET_NAME_WIDTH:
        name = abbreviate(name, STREET_NAME_WIDTH)
    return _fit(f"{number} {name}".strip())


def _fit(line: str) -> str:
    if len(line) > WIDTH:
        line = abbreviate(line, WIDTH)
    if len(line) > WIDTH:
        raise AddressError("too_long")
    return line


def _domestic(country: str | None) -> bool:
    return country is None or _without_punctuation(plain(country)) in DOMESTIC


Kind = Literal["complement", "street", "locality"]


def _middle(address: records.PostalAddress, town: str) -> list[tuple[str, Kind]]:
    """Lines 2 to 5 and what each is: the agency's parts where it named them, else its
    lines less the town's (the DGFiP's: complements above, the street last)."""
    if any((address.complement, address.building, address.street, address.locality)):
        parts: list[tuple[str | None, Kind]] = [
            (address.complement, "complement"),
            (address.building, "complement"),
            (address.street, "street"),
            (address.locality, "locality"),
        ]
        return [(p, kind) for p, kind in parts if p and p.strip()]
    town_key = _without_punctuation(plain(town))
    kept = [
        line
        for line in address.lines
        if line.strip() and _without_punctuation(plain(line)) != town_key
    ]
    return [(line, "street" if i == len(kept) - 1 else "complement") for i, line in enumerate(kept)]


def _line(text: str, kind: Kind) -> str:
    if kind == "street":
        return _street(text)
    if kind == "locality":
        return _fit(_without_punctuation(plain(text)))
    return _fit(_with_names(plain(text)))


def layout(address: records.PostalAddress, recipient: Recipient | str) -> tuple[str, ...]:
    """The address block of a letter to ``recipient`` at ``address``, per NF Z10-011.

    Raises :class:`AddressError` when no letter can be addressed: no recipient, no postcode
    (in France) or town, no street nor lieu-dit, a line longer than 38 characters after the
    abbreviations, more lines than the standard allows.
    """
    name = recipient.line() if isinstance(recipient, Recipient) else recipient
    first = _with_names(plain(name))
    if not first:
        raise AddressError("no_recipient")
    domestic = _domestic(address.country)
    city = _without_punctuation(plain(address.city or ""))
    code = "".join((address.postal_code or "").split()).upper()
    if not city:
        raise AddressError("no_city")
    if domestic and not re.fullmatch(r"\d{5}", code):
        raise AddressError("no_postcode")
    town = _fit(f"{code} {city}".strip())
    middle = _middle(address, town)
    if not any(kind != "complement" for _, kind in middle):
        raise AddressError("no_street")
    lines = [_fit(first), *(_line(text, kind) for text, kind in middle), town]
    if not domestic:
        lines.append(_fit(_without_punctuation(plain(address.country or ""))))
    if len(lines) > MAX_LINES + (0 if domestic else 1):
        raise AddressError("too_many_lines")
    return tuple(lines)
