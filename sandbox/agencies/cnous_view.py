"""The CNOUS's view of a person: their higher-education grant on social criteria, or "no
grant holder found".

Who holds a grant (``grant_from``, the one rule the law's simulation also reads): a student
(activity ``etudiant``) enrolled by the MESRI's rule (every academic year from 1 September
that starts after they turned 17) and picked deterministically, about 45 % of them (a crc32
of their person index), close to the real share of grant holders on social criteria. They
hold it for every academic year they are enrolled in. A national grant is paid over ten
months, September to June (``GRANT_MONTHS``); its échelon, "0bis" to "7", is drawn again
each academic year from the same kind of hash. Anyone else, known to the population or not,
gets the CNOUS's 404 (code 26003).

The answer describes the grant of the academic year covering the reference month: its
``date_rentree`` is that year's 1 September, even in July and August, when nothing is paid.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
from starlette.datastructures import QueryParams

from sandbox.agencies.mesri_view import establishment
from sandbox.gazetteer import COMMUNE_BY_COG, FRANCE
from sandbox.person import Identity, Person
from sandbox.population import BirthQuery, Population
from sandbox.protocol import PivotQuery, ProtocolError, not_found, parse_traits, unprocessable

GRANT_MONTHS = 10  # a national grant is paid over ten months, September to June
GRANT_SHARE = 45  # per cent of enrolled students who hold a grant
ECHELONS = ("0bis", "1", "2", "3", "4", "5", "6", "7")
_SEPTEMBER = 8  # month index within a year (January is 0)
_ENROLMENT_AGE_DAYS = 17 * 365  # the MESRI's rule: an academic year starting after 17
_COG = re.compile(r"[0-9][0-9AB][0-9]{3}")
_COUNTRY = re.compile(r"99[0-9]{3}")
# The birth "commune" of a student born abroad: the country's name, for the countries of
# birth the population is drawn from.
_COUNTRY_NAMES = {
    "99350": "MAROC",
    "99352": "ALGÉRIE",
    "99351": "TUNISIE",
    "99139": "PORTUGAL",
    "99127": "ITALIE",
    "99134": "ESPAGNE",
    "99109": "ALLEMAGNE",
    "99131": "BELGIQUE",
    "99341": "SÉNÉGAL",
    "99114": "ROUMANIE",
    "99208": "TURQUIE",
}


class Student(Protocol):
    """What the rule reads of a person: a generated draft or a frozen person alike."""

    @property
    def index(self) -> int: ...

    @property
    def activity(self) -> str: ...

    @property
    def identity(self) -> Identity: ...


def no_grant() -> ProtocolError:
    return not_found(
        "26003",
        "Aucun étudiant boursier n'a pu être trouvé avec les critères de recherche fournis.",
        "CNOUS",
    )


def rentree(month: int) -> int:
    """The September (a month number) that opens the academic year covering ``month``."""
    return (month - _SEPTEMBER) // 12 * 12 + _SEPTEMBER


def grant_from(person: Student) -> int | None:
    """The September (a month number) of the first academic year the person holds a grant
    for, who then holds one for every later year; None for who never does. The one rule:
    a student enrolled by the MESRI's rule, picked by a hash of the person index."""
    if person.activity != "etudiant":
        return None
    if zlib.crc32(f"cnous-grant:{person.index}".encode()) % 100 >= GRANT_SHARE:
        return None
    born = person.identity.date_naissance
    year = born.year + 16
    while (date(year, 9, 1) - born).days < _ENROLMENT_AGE_DAYS:
        year += 1
    return year * 12 + _SEPTEMBER


def holds_grant(person: Student, month: int) -> bool:
    """Whether the person holds the grant of the academic year covering ``month``."""
    start = grant_from(person)
    return start is not None and rentree(month) >= start


def grant_paid(person: Student, month: int) -> bool:
    """Whether the person's grant is paid in ``month`` (September to June)."""
    return holds_grant(person, month) and month - rentree(month) < GRANT_MONTHS


def paid_table(persons: Sequence[Student], months: Sequence[int]) -> np.ndarray:
    """``grant_paid`` for each person (rows) and month (columns), as booleans."""
    never = np.iinfo(np.int64).max
    starts = np.array([s if (s := grant_from(p)) is not None else never for p in persons])
    numbers = np.asarray(months, dtype=np.int64)
    opening = (numbers - _SEPTEMBER) // 12 * 12 + _SEPTEMBER
    paid = numbers - opening < GRANT_MONTHS
    return (opening[None, :] >= starts[:, None]) & paid[None, :]


def _echelon(person: Student, year: int) -> str:
    return ECHELONS[zlib.crc32(f"cnous-echelon:{person.index}:{year}".encode()) % len(ECHELONS)]


def _email(person: Student) -> str:
    """A reserved-domain address from a hash of the person index, never from the name."""
    digest = hashlib.sha256(f"cnous-email:{person.index}".encode()).hexdigest()
    return f"boursier-{digest[:12]}@example.org"


def _birth_place(identity: Identity) -> str:
    code = identity.code_commune_naissance
    if identity.code_pays_naissance != FRANCE or code is None:
        return _COUNTRY_NAMES.get(identity.code_pays_naissance, "ÉTRANGER")
    commune = COMMUNE_BY_COG.get(code)
    return code if commune is None else commune.name


def grant(population: Population, person: Person, *, identity: bool = True) -> dict[str, object]:
    """The ``data`` of a grant holder's answer (``identity``: with the ``identite`` block the
    civility mode echoes, which the FranceConnect mode has not); ``ProtocolError`` 404 for
    anyone else."""
    ref = population.reference
    if not holds_grant(person, ref):
        raise no_grant()
    opening = rentree(ref)
    commune = population.household_of(person).address.commune
    data: dict[str, object] = {
        "est_boursier": True,
        "periode_versement_bourse": {
            "date_rentree": date(opening // 12, 9, 1).isoformat(),
            "duree": GRANT_MONTHS,
        },
        "etablissement_etudes": {
            "nom_commune": COMMUNE_BY_COG[commune].name,
            "nom_etablissement": establishment(commune)["nom"],
        },
        "echelon_bourse": {
            "echelon": _echelon(person, opening // 12),
            "echelon_bourse_regionale_provisoire": False,
        },
        "email": _email(person),
    }
    if identity:
        who = person.identity
        data["identite"] = {
            "nom": who.nom_naissance,
            "prenoms": list(who.prenoms),
            "date_naissance": who.date_naissance.isoformat(),
            "nom_commune_naissance": _birth_place(who),
            "sexe": who.sexe,
        }
    return data


@dataclass(frozen=True)
class Civility:
    """Who the CNOUS is asked about: the traits, the sexes to search (either when not
    given) and, for the birth place, a commune's COG code, a country's, or neither (born
    abroad, country unsaid)."""

    traits: PivotQuery
    sexes: tuple[str, ...]
    commune: str | None
    country: str | None

    def birth(self) -> BirthQuery:
        born = self.traits.birth
        return BirthQuery(born.year, born.month, born.day, self.country, self.commune)

    def born_abroad(self) -> bool:
        return self.commune is None


def civility(params: QueryParams, on: date) -> Civility:
    """The CNOUS's civility parameters: one to three given names, the full birth date, the
    sex optional, and ``codeCogInseeCommuneNaissance`` for a person born in France, left out
    for a person born abroad (a country's ``99xxx`` code is also taken there, as the MESRI
    takes it). The other way to name a birth commune (``nomCommuneNaissance`` with
    ``codeCogInseeDepartementNaissance``) is not served; ``ProtocolError`` (422) otherwise."""
    for name in ("moisDateNaissance", "jourDateNaissance"):
        if not params.get(name):
            raise unprocessable(f"Le paramètre {name} est obligatoire", name)
    sexe = params.get("sexeEtatCivil") or None
    items = [(k, v) for k, v in params.multi_items() if k != "sexeEtatCivil"]
    traits = parse_traits(QueryParams([*items, ("sexeEtatCivil", sexe or "M")]), on)
    sexes = (traits.sexe,) if sexe is not None else ("M", "F")
    place = params.get("codeCogInseeCommuneNaissance") or None
    if place is None:
        for name in ("nomCommuneNaissance", "codeCogInseeDepartementNaissance"):
            if params.get(name):
                raise unprocessable(
                    f"Le paramètre {name} n'est pas pris en charge : indiquer "
                    "codeCogInseeCommuneNaissance pour une personne née en France",
                    name,
                )
        return Civility(traits, sexes, None, None)
    if _COUNTRY.fullmatch(place) and place != FRANCE:
        return Civility(traits, sexes, None, place)
    if not _COG.fullmatch(place) or place.startswith("99"):
        raise unprocessable(
            "Le paramètre codeCogInseeCommuneNaissance doit être un code COG à 5 caractères",
            "codeCogInseeCommuneNaissance",
        )
    return Civility(traits, sexes, place, FRANCE)
