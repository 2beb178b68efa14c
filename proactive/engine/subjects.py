"""A person of a batch as a JSON object, and back: what a batch's sealed value holds."""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors import PivotIdentity
from proactive.population import Subject
from proactive.renewal import Candidate


def _identity(identity: PivotIdentity) -> dict[str, Any]:
    return {
        "birth_name": identity.birth_name,
        "given_names": list(identity.given_names),
        "birth_date": identity.birth_date.isoformat(),
        "sex": identity.sex,
        "birth_country": identity.birth_country,
        "birth_place": identity.birth_place,
        "usage_name": identity.usage_name,
    }


def _pivot(value: dict[str, Any]) -> PivotIdentity:
    return PivotIdentity(
        birth_name=value["birth_name"],
        given_names=tuple(value["given_names"]),
        birth_date=date.fromisoformat(value["birth_date"]),
        sex=value["sex"],
        birth_country=value["birth_country"],
        birth_place=value.get("birth_place"),
        usage_name=value.get("usage_name"),
    )


def subject_to_json(subject: Subject) -> dict[str, Any]:
    return {
        "identity": _identity(subject.identity),
        "france_travail_id": subject.france_travail_id,
    }


def subject_from_json(value: dict[str, Any]) -> Subject:
    return Subject(_pivot(value["identity"]), value.get("france_travail_id"))


def candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "identity": _identity(candidate.identity),
        "ends_on": candidate.ends_on.isoformat() if candidate.ends_on else None,
        "household_changes": [d.isoformat() for d in candidate.household_changes],
        "france_travail_id": candidate.france_travail_id,
    }


def candidate_from_json(value: dict[str, Any]) -> Candidate:
    ends_on = value.get("ends_on")
    return Candidate(
        _pivot(value["identity"]),
        date.fromisoformat(ends_on) if ends_on else None,
        tuple(date.fromisoformat(d) for d in value.get("household_changes", ())),
        value.get("france_travail_id"),
    )
