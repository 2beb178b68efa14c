"""The search form: query-string filters checked into a query, errors in plain French.

Every filter but the person travels in the query string (a link to a search can be shared
between auditors). The person's identity never does: it is POSTed once, turned into the audit
pseudonym, and only the pseudonym is kept, in the server-side session (:mod:`.pages`).

Dates are days in Europe/Paris: "du" is included from midnight, "au" included to its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from connectors import InvalidInput, PivotIdentity
from exchange import siret_valid
from exchange.oversight import AuditQuery
from gateway.console.words import KINDS, OUTCOMES, PARIS
from runtime import Services

PAGE_SIZE = 50
OBJECT_MAX = 50
FRANCE = "99100"
# The query-string names, in the order the form shows them.
NAMES = (
    "objet",
    "organisation",
    "client",
    "finalite",
    "destinataire",
    "nature",
    "issue",
    "du",
    "au",
)


@dataclass(frozen=True)
class Problem:
    field: str  # the input's id, for the error summary's link
    message: str


@dataclass
class Search:
    """A search as the form holds it: the values typed (shown back) and what they mean."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    after: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def query(self, person: str | None) -> AuditQuery:
        v = self.values
        return AuditQuery(
            client=v.get("client") or None,
            purpose=v.get("finalite") or None,
            start=self.start,
            end=self.end,
            outcome=v.get("issue") or None,
            object=v.get("objet") or None,
            kind=v.get("nature") or None,
            recipient=v.get("destinataire") or None,
            organisation=v.get("organisation") or None,
            person_pseudonym=person,
        )

    def link(self, **changes: str | None) -> str:
        """The query string of this search, with some values changed (``None``: dropped)."""
        values = {**self.values, **changes}
        return urlencode({k: v for k, v in values.items() if v})


def _day(text: str) -> date | None:
    """A day as a date field sends it (``aaaa-mm-jj``) or as a person types it where the
    browser shows a plain text field (``jj/mm/aaaa``)."""
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError:
        return None


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def read_period(search: Search, required: bool = False) -> None:
    """``du``/``au`` → ``[start, end)``, or a problem for each bad one."""
    first_text, last_text = search.values.get("du", ""), search.values.get("au", "")
    first = _day(first_text) if first_text else None
    last = _day(last_text) if last_text else None
    if first_text and first is None:
        search.problems.append(Problem("du", "La date de début doit être une date (jj/mm/aaaa)."))
    if last_text and last is None:
        search.problems.append(Problem("au", "La date de fin doit être une date (jj/mm/aaaa)."))
    if required and not first_text:
        search.problems.append(Problem("du", "Indiquez la date de début de la période."))
    if required and not last_text:
        search.problems.append(Problem("au", "Indiquez la date de fin de la période."))
    if first is not None and last is not None and last < first:
        search.problems.append(
            Problem("au", "La date de fin doit être le même jour que la date de début ou après.")
        )
        return
    search.start = start_of(first) if first is not None else None
    search.end = start_of(last + timedelta(days=1)) if last is not None else None


def read_search(services: Services, params: Mapping[str, str]) -> Search:
    catalogue = services.catalogue
    search = Search(values={name: params.get(name, "").strip() for name in NAMES})
    v, problems = search.values, search.problems
    if len(v["objet"]) > OBJECT_MAX:
        problems.append(
            Problem("objet", f"La référence du dossier fait {OBJECT_MAX} caractères au plus.")
        )
    organisations = {c.name for c in catalogue.clients.values()}
    if v["organisation"] and v["organisation"] not in organisations:
        problems.append(Problem("organisation", "Choisissez un organisme de la liste."))
    if v["client"] and v["client"] not in catalogue.clients:
        problems.append(Problem("client", "Choisissez une application de la liste."))
    if v["finalite"] and v["finalite"] not in catalogue.purposes:
        problems.append(Problem("finalite", "Choisissez une finalité de la liste."))
    if v["destinataire"] and not siret_valid(v["destinataire"].replace(" ", "")):
        problems.append(
            Problem(
                "destinataire",
                "Le destinataire est un SIRET : 14 chiffres, clé de contrôle comprise.",
            )
        )
    v["destinataire"] = v["destinataire"].replace(" ", "")
    if v["nature"] and v["nature"] not in KINDS:
        problems.append(Problem("nature", "Choisissez une nature d'accès de la liste."))
    if v["issue"] and v["issue"] not in OUTCOMES:
        problems.append(Problem("issue", "Choisissez une issue de la liste."))
    read_period(search)
    after = params.get("apres", "")
    if after:
        if after.isdigit() and 0 < int(after) < 2**63:
            search.after = int(after)
        else:
            problems.append(
                Problem("apres", "Ce lien de page n'est pas valide : relancez la recherche.")
            )
    return search


IDENTITY_NAMES = ("nom", "prenoms", "naissance", "sexe", "commune", "pays")


def read_identity(
    form: Mapping[str, str],
) -> tuple[dict[str, str], list[Problem], PivotIdentity | None]:
    """The person form → the identity, or the problems to show (values sent back as typed)."""
    values = {name: str(form.get(name, "")).strip() for name in IDENTITY_NAMES}
    values["pays"] = values["pays"] or FRANCE
    problems: list[Problem] = []
    if not values["nom"]:
        problems.append(Problem("nom", "Indiquez le nom de naissance."))
    given = tuple(values["prenoms"].replace(",", " ").split())
    if not given:
        problems.append(Problem("prenoms", "Indiquez au moins un prénom."))
    elif len(given) > 3:
        problems.append(Problem("prenoms", "Indiquez trois prénoms au plus."))
    born = _day(values["naissance"]) if values["naissance"] else None
    if born is None:
        problems.append(Problem("naissance", "Indiquez la date de naissance (jj/mm/aaaa)."))
    if values["sexe"] not in ("F", "M"):
        problems.append(Problem("sexe", "Indiquez le sexe à l'état civil."))
    if values["pays"] == FRANCE and not values["commune"]:
        problems.append(
            Problem("commune", "Indiquez le code officiel géographique de la commune de naissance.")
        )
    if problems or born is None:
        return values, problems, None
    try:
        identity = PivotIdentity(
            birth_name=values["nom"],
            given_names=given,
            birth_date=born,
            sex="F" if values["sexe"] == "F" else "M",
            birth_country=values["pays"],
            birth_place=values["commune"] or None if values["pays"] == FRANCE else None,
        )
    except InvalidInput as exc:
        return values, [Problem(_field_of(str(exc)), _identity_message(str(exc)))], None
    return values, [], identity


def _field_of(message: str) -> str:
    for needle, name in (
        ("birth name", "nom"),
        ("given name", "prenoms"),
        ("birth date", "naissance"),
        ("birth place", "commune"),
        ("birth country", "pays"),
    ):
        if needle in message:
            return name
    return "nom"


def _identity_message(message: str) -> str:
    field = _field_of(message)
    return {
        "nom": "Le nom de naissance contient des caractères non admis.",
        "prenoms": "Les prénoms contiennent des caractères non admis.",
        "naissance": "La date de naissance n'est pas plausible.",
        "commune": "Le code officiel géographique de la commune de naissance a 5 caractères.",
        "pays": "Le code du pays de naissance a 5 chiffres, dont 99 au début (99100 : France).",
    }[field]
