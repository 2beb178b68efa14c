from __future__ import annotations

import json
from datetime import date

from connectors import PivotIdentity
from proactive.engine.subjects import (
    candidate_from_json,
    candidate_to_json,
    subject_from_json,
    subject_to_json,
)
from proactive.population import Subject
from proactive.renewal import Candidate

ALICE = PivotIdentity("MARTIN", ("Alice", "Marie"), date(1980, 2, 3), "F", "99100", "75056")


def test_round_trips_through_json() -> None:
    subject = Subject(ALICE, "FT123")
    assert subject_from_json(json.loads(json.dumps(subject_to_json(subject)))) == subject
    candidate = Candidate(ALICE, date(2025, 7, 1), (date(2025, 1, 2),), None)
    assert candidate_from_json(json.loads(json.dumps(candidate_to_json(candidate)))) == candidate
