"""``unefois campaign run``'s default campaign id: the month for the population, and a digest
of the persons for a run fed by events (its plan resumed when the same events come back, a new
plan for later events)."""

from __future__ import annotations

import argparse
import io
import re
from datetime import date

from cli.campaign import default_id
from connectors import PivotIdentity
from exchange import Pseudonyms
from proactive.population import Subject

MONTH = "2025-06"
PSEUDONYMS = Pseudonyms(bytes(range(32)))
PEOPLE = [
    Subject(PivotIdentity("DURAND", ("ALICE",), date(1980, 1, n), "F", "99100", "75056"))
    for n in (1, 2, 3)
]


def _args(from_events: bool) -> argparse.Namespace:
    return argparse.Namespace(benefit="rsa", month=MONTH, from_events=from_events)


def test_a_population_run_is_named_after_its_benefit_and_month() -> None:
    said = io.StringIO()
    assert default_id(_args(False), PEOPLE, PSEUDONYMS, said) == f"rsa-{MONTH}"
    assert said.getvalue() == ""


def test_an_events_run_is_named_after_its_persons_and_says_so() -> None:
    said = io.StringIO()
    first = default_id(_args(True), PEOPLE, PSEUDONYMS, said)
    assert re.fullmatch(rf"rsa-{MONTH}-[0-9a-f]{{12}}", first)
    assert said.getvalue() == f"campaign {first}\n"
    # The same events replayed: the same run. More or fewer persons: another run.
    assert default_id(_args(True), PEOPLE[::-1], PSEUDONYMS, io.StringIO()) == first
    assert default_id(_args(True), PEOPLE[:2], PSEUDONYMS, io.StringIO()) != first
    assert "DURAND" not in first
