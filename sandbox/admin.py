"""The sandbox's own endpoints under ``/_sandbox``: faults, stats and the person list.

Unauthenticated by design (it is a sandbox), so they answer loopback clients only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.faults import FaultConfig, FaultInjector
from sandbox.person import Person, Truth, pivot_params
from sandbox.population import Population
from sandbox.protocol import JSONResponse, ProtocolError, unprocessable
from sandbox.stats import RequestStats

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# The ground-truth flags, each also a ``kind`` filter: rsa_eligible, rsa_non_claimant,
# ppa_…, aspa_…, css_eligible, css_non_claimant, css_participation.
TRUTH_FLAGS = tuple(Truth.__dataclass_fields__)
Endpoint = Callable[[Request], Awaitable[Response]]


def loopback_only(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        client = request.client
        if client is None or (client.host not in _LOOPBACK and not client.host.startswith("127.")):
            return ProtocolError(
                403, "00100", "Accès interdit", "Réservé à la machine locale"
            ).response()
        try:
            return await endpoint(request)
        except ProtocolError as exc:
            return exc.response()

    return guarded


def person_entry(population: Population, person: Person) -> dict[str, object]:
    """How ``GET /_sandbox/persons`` describes a person (``prenoms`` go as ``prenoms[]``)."""
    household = population.household_of(person)
    rights = person.rights
    return {
        "index": person.index,
        "scenario": population.scenario_of.get(person.index),  # None for generated persons
        "household": household.id,
        "household_kind": household.kind,
        "role": "adult" if person.index in household.adults else "child",
        "activity": person.activity,
        "personne": pivot_params(person.identity),
        "identifiant_france_travail": person.job_seeker.identifiant if person.job_seeker else None,
        "deceased": person.date_deces is not None,
        "date_deces": person.date_deces.isoformat() if person.date_deces else None,
        "unknown_to_caf": person.unknown_to_caf,
        "homonym_of": person.homonym_of,
        "missing_months": sorted(person.missing_months),
        "rights": [
            name for name in ("rsa", "ppa", "aah", "asf", "css", "aspa") if getattr(rights, name)
        ],
        # The CSS right as the CNAM holds it: its tier and end may differ from what the law
        # gives now (``truth``), which is what a renewal must notice.
        "css": None
        if rights.css is None
        else {
            "participation": bool(rights.css.with_increase),
            "depuis": rights.css.since.isoformat(),
            "renouvellement": rights.css.renewal.isoformat() if rights.css.renewal else None,
        },
        "truth": {name: getattr(person.truth, name) for name in TRUTH_FLAGS},
    }


def matches_kind(population: Population, person: Person, kind: str) -> bool:
    """``kind`` is a household kind, an activity, a right held, one of the flags below (the
    ground-truth flags among them), or ``scenario`` (every scenario person) and
    ``scenario:<id>`` (one scenario's household)."""
    if kind == "scenario" or kind.startswith("scenario:"):
        scenario = population.scenario_of.get(person.index)
        return scenario is not None and kind in ("scenario", f"scenario:{scenario}")
    flags = {
        "adult": person.activity != "enfant",
        "child": person.activity == "enfant",
        "job_seeker": person.job_seeker is not None,
        "deceased": person.date_deces is not None,
        "unknown_to_caf": person.unknown_to_caf,
        "homonym": person.homonym_of is not None,
        "missing_months": bool(person.missing_months),
        **{name: bool(getattr(person.truth, name)) for name in TRUTH_FLAGS},
    }
    if kind in flags:
        return flags[kind]
    if kind in ("rsa", "ppa", "aah", "asf", "css", "aspa"):
        return getattr(person.rights, kind) is not None
    return kind in (population.household_of(person).kind, person.activity)


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name) or str(default)
    if not raw.isdigit() or int(raw) > high:
        raise unprocessable(f"{name} must be an integer between 0 and {high}", name)
    return int(raw)


def admin_routes(
    population: Population, faults: FaultInjector, stats: RequestStats
) -> list[BaseRoute]:
    by_kind: dict[str, tuple[int, ...]] = {}

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.config.as_dict())

    async def put_faults(request: Request) -> Response:
        try:
            raw = orjson.loads(await request.body() or b"{}")
            if not isinstance(raw, dict):
                raise ValueError("expected a JSON object")
            faults.config = FaultConfig.from_mapping(raw)
        except (ValueError, TypeError) as exc:
            raise unprocessable(str(exc), "body") from None
        return JSONResponse(faults.config.as_dict())

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.snapshot())

    async def delete_stats(request: Request) -> Response:
        stats.reset()
        return JSONResponse(stats.snapshot())

    async def persons(request: Request) -> Response:
        offset = _int_param(request, "offset", 0, 10**9)
        limit = _int_param(request, "limit", 100, 1000)
        kind = request.query_params.get("kind")
        if kind:
            if kind not in by_kind:
                by_kind[kind] = tuple(
                    p.index for p in population.persons if matches_kind(population, p, kind)
                )
            indices: tuple[int, ...] | range = by_kind[kind]
        else:
            indices = range(len(population.persons))
        chosen = indices[offset : offset + limit]
        body = {
            "data": [person_entry(population, population.persons[i]) for i in chosen],
            "links": {},
            "meta": {"total": len(indices), "offset": offset, "limit": limit},
        }
        return JSONResponse(body)

    return [
        Route("/_sandbox/faults", loopback_only(get_faults), methods=["GET"]),
        Route("/_sandbox/faults", loopback_only(put_faults), methods=["PUT"]),
        Route("/_sandbox/stats", loopback_only(get_stats), methods=["GET"]),
        Route("/_sandbox/stats", loopback_only(delete_stats), methods=["DELETE"]),
        Route("/_sandbox/persons", loopback_only(persons), methods=["GET"]),
    ]
