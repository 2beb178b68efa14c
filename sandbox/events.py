"""Event feeds: births, moves, job losses and jobs found, resource drops, right expiries,
RSA rights opened and deaths.

Derived once from the population's facts, sorted by date, and split per agency by who
would know of each event. The cursor is an opaque token wrapping an offset in that list,
which is stable because the population never changes while the sandbox runs.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, timedelta

from starlette.datastructures import QueryParams

from sandbox.months import first_day, month_of, month_text
from sandbox.person import Person, pivot_params
from sandbox.population import Population
from sandbox.protocol import unprocessable

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
Details = dict[str, str | float | int | None]


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    occurred_on: date
    person: int
    details: Details
    agencies: frozenset[str]

    def as_json(self, population: Population) -> dict[str, object]:
        return {
            "id": self.id,
            "type": self.type,
            "occurred_on": self.occurred_on.isoformat(),
            "personne": pivot_params(population.persons[self.person].identity),
            "details": self.details,
        }


_BIRTH = frozenset({"civil_registry", "api_particulier", "dgfip", "cnam"})
_MOVE = frozenset({"api_particulier", "dgfip", "housing", "cnam"})
# The CAF's news reaches the gateway through API Particulier; the civil registry (INSEE)
# reports deaths.
_CAF = frozenset({"api_particulier"})
_DEATH = frozenset({"civil_registry"})


def build_events(population: Population) -> tuple[Event, ...]:
    ref = population.reference
    start = first_day(ref - 23)
    horizon = population.reference_date + timedelta(days=62)
    events: list[Event] = []
    for household in population.households:
        adults = [population.persons[i] for i in household.adults]
        for index in household.children:
            child = population.persons[index].identity
            if child.date_naissance >= start and adults:
                details: Details = {
                    "enfant_prenoms": " ".join(child.prenoms),
                    "enfant_date_naissance": child.date_naissance.isoformat(),
                    "enfant_sexe": child.sexe,
                }
                events.append(
                    _event("birth", child.date_naissance, adults[0], details, _BIRTH, index)
                )
        if household.moved_in is not None and household.previous_address is not None:
            pensioners = any(p.activity == "retraite" for p in adults)
            agencies = _MOVE | {"cnav"} if pensioners else _MOVE
            moved = first_day(household.moved_in) + timedelta(days=household.id % 27)
            for adult in adults:
                details = {
                    "ancienne_commune": household.previous_address.commune,
                    "nouvelle_commune": household.address.commune,
                }
                events.append(_event("move", moved, adult, details, agencies))
        for adult in adults:
            events.extend(_person_events(adult, start, horizon))
            events.extend(_status_events(adult, start, population.reference_date, horizon))
    events.sort(key=lambda e: (e.occurred_on, e.id))
    return tuple(events)


def _person_events(person: Person, start: date, horizon: date) -> list[Event]:
    out: list[Event] = []
    seeker = person.job_seeker
    if seeker is not None and seeker.since >= start and person.activity == "salarie":
        details: Details = {"identifiant_france_travail": seeker.identifiant}
        out.append(
            _event(
                "job_loss", seeker.since, person, details, frozenset({"gip_mds", "api_particulier"})
            )
        )
    if seeker is not None and seeker.until is not None and start <= seeker.until <= horizon:
        details = {"droit": "inscription_france_travail", "date_fin": seeker.until.isoformat()}
        out.append(
            _event("right_expiry", seeker.until, person, details, frozenset({"api_particulier"}))
        )
    by_payer: dict[str, list[tuple[int, float]]] = {}
    for stream in person.streams:
        if stream.start is not None and stream.nature == "salaire":
            by_payer.setdefault(stream.payer_siret, []).append((stream.start, stream.net_social))
        if (
            stream.nature == "allocation_chomage"
            and stream.end is not None
            and stream.start is None
        ):
            month = stream.end + 1
            details = {
                "mois": month_text(month),
                "montant_avant": stream.net_social,
                "montant_apres": 0.0,
            }
            # The end of an unemployment allowance is France Travail's own news: its event
            # names the job seeker by its identifier, as its job-loss events do.
            payers = frozenset({"gip_mds"})
            if seeker is not None:
                details["identifiant_france_travail"] = seeker.identifiant
                payers = frozenset({"gip_mds", "api_particulier"})
            out.append(_event("resource_drop", first_day(month), person, details, payers))
    for payer, starts in by_payer.items():
        for month, amount in starts:
            before = [
                s.net_social
                for s in person.streams
                if s.payer_siret == payer and s.end == month - 1
            ]
            if before and amount < before[0]:
                details = {
                    "mois": month_text(month),
                    "montant_avant": before[0],
                    "montant_apres": amount,
                }
                out.append(
                    _event(
                        "resource_drop", first_day(month), person, details, frozenset({"gip_mds"})
                    )
                )
    css = person.rights.css
    if css is not None and css.renewal is not None and start <= css.renewal <= horizon:
        details = {"droit": "complementaire_sante_solidaire", "date_fin": css.renewal.isoformat()}
        out.append(
            _event(
                "right_expiry", css.renewal, person, details, frozenset({"cnam", "api_particulier"})
            )
        )
    return out


def _status_events(person: Person, start: date, today: date, horizon: date) -> list[Event]:
    """A right to the RSA opened, a job seeker's registration ended for a job, a death."""
    out: list[Event] = []
    rsa = person.rights.rsa
    if rsa is not None and start <= rsa.since <= today:
        details: Details = {
            "droit": "revenu_solidarite_active",
            "date_debut": rsa.since.isoformat(),
        }
        out.append(_event("rsa_granted", rsa.since, person, details, _CAF))
    ended = _job_found_on(person, start, today)
    if ended is not None and person.job_seeker is not None:
        details = {
            "identifiant_france_travail": person.job_seeker.identifiant,
            "motif": "reprise_emploi",
            "date_fin_inscription": ended.isoformat(),
        }
        out.append(_event("job_found", ended, person, details, _CAF))
    died = person.date_deces
    if died is not None and start <= died <= horizon:
        out.append(_event("death", died, person, {"date_deces": died.isoformat()}, _DEATH))
    return out


def _job_found_on(person: Person, start: date, today: date) -> date | None:
    """The day a job seeker's registration ends for a job, if it does: a registration that
    ended with a salary paid the month after; or, for one registered job seeker in five (by
    index), a job declared to start within the next four weeks, on which France Travail will
    close the registration (so that what the agencies answer today stays true)."""
    seeker = person.job_seeker
    if seeker is None:
        return None
    if seeker.until is not None:
        after = month_of(seeker.until) + 1
        paid = any(s.nature == "salaire" and s.pays_in(after) for s in person.streams)
        return seeker.until if paid and start <= seeker.until <= today else None
    if person.date_deces is None and person.index % 5 == 0:
        return today + timedelta(days=1 + person.index % 28)
    return None


def _event(
    kind: str, on: date, person: Person, details: Details, agencies: frozenset[str], extra: int = 0
) -> Event:
    ident = f"{kind}-{on.strftime('%Y%m%d')}-{person.index}-{extra}"
    return Event(ident, kind, on, person.index, details, agencies)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise unprocessable("Le curseur since est invalide", "since", "00300") from None
    version, _, number = raw.partition(":")
    if version != "v1" or not number.isdigit():
        raise unprocessable("Le curseur since est invalide", "since", "00300")
    return int(number)


class EventFeed:
    """One agency's view of the events, paged by cursor."""

    def __init__(self, population: Population, events: tuple[Event, ...], agency: str) -> None:
        self.population = population
        self.events = tuple(e for e in events if agency in e.agencies)

    def page(self, params: QueryParams) -> dict[str, object]:
        since = params.get("since")
        offset = decode_cursor(since) if since else 0
        raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise unprocessable(
                f"Le paramètre limit doit être entre 1 et {MAX_LIMIT}", "limit", "00301"
            )
        chunk = self.events[offset : offset + int(raw_limit)]
        cursor = encode_cursor(min(len(self.events), offset + len(chunk)))
        return {
            "data": [e.as_json(self.population) for e in chunk],
            "links": {"next": f"/events?since={cursor}"},
            "meta": {"cursor": cursor},
        }
