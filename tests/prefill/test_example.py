"""The example client's submission logic, run on a prefill answer shaped as the contract says."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from prefill import Submission, apply_submission, load_forms, prefill
from tests.prefill.records import person_records

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prefill_client.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prefill_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("form_id", ["rsa", "ppa", "css", "aspa"])
def test_the_example_submission_is_accepted(form_id: str) -> None:
    form = load_forms()[form_id]
    filled = prefill(form, person_records(), failures=["housing", "taxHousehold"])
    answer: dict[str, Any] = {
        "fields": [
            {
                "id": f.id,
                "type": d.type,
                "required": d.required,
                "choices": list(d.choices),
                "value": f.value,
                "state": f.state,
            }
            for d, f in zip(form.fields, filled.fields, strict=True)
        ]
    }
    confirmations, corrections, provided = example().submission(answer)
    assert len(corrections) == 1
    validated, changed = apply_submission(
        form, filled, Submission(form_id, tuple(confirmations), corrections, provided)
    )
    assert set(changed) == set(corrections) | set(provided)
    assert all(f.state != "TO_CONFIRM" for f in validated.fields)


def test_the_example_turns_a_sandbox_person_into_an_identity() -> None:
    person = {
        "nomNaissance": "MARTIN",
        "prenoms": ["CLAIRE"],
        "anneeDateNaissance": 1988,
        "moisDateNaissance": 3,
        "jourDateNaissance": 4,
        "sexeEtatCivil": "F",
        "codeCogInseePaysNaissance": "99100",
        "codeCogInseeCommuneNaissance": "69123",
    }
    assert example().identity(person) == {
        "birthName": "MARTIN",
        "givenNames": ["CLAIRE"],
        "birthDate": "1988-03-04",
        "sex": "F",
        "birthCountry": "99100",
        "birthPlace": "69123",
    }
