"""The "plan" step: selected and allowed fields → the upstream calls that hold them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from exchange.catalogue import FIELDS, SOURCES, Source
from exchange.errors import InvalidRequest
from exchange.reference import Subjects
from policies import Decision


@dataclass(frozen=True)
class Unplannable:
    """A field that cannot be fetched for this subject, and why (a client-safe message)."""

    code: str
    message: str


@dataclass(frozen=True)
class Plan:
    sources: tuple[Source, ...]  # each called once
    unplannable: Mapping[str, Unplannable]  # allowed fields no source can serve here


def check_fields(fields: Iterable[str]) -> frozenset[str]:
    selected = frozenset(fields)
    unknown = selected - FIELDS.keys()
    if unknown:
        raise InvalidRequest(f"unknown person fields: {', '.join(sorted(unknown))}")
    return selected


def plan(decisions: Mapping[str, Decision], subjects: Subjects) -> Plan:
    sources: dict[str, Source] = {}
    unplannable: dict[str, Unplannable] = {}
    for field, decision in decisions.items():
        if decision.effect != "allow":
            continue
        source = SOURCES[FIELDS[field]]
        reason = _missing_subject(source, subjects)
        if reason:
            unplannable[field] = Unplannable("BAD_USER_INPUT", reason)
        else:
            sources[source.name] = source
    return Plan(tuple(sources.values()), unplannable)


def _missing_subject(source: Source, subjects: Subjects) -> str | None:
    if source.needs == "france_travail" and subjects.france_travail_id is None:
        return "France Travail is queried by its identifier; give ref.franceTravailId"
    return None
