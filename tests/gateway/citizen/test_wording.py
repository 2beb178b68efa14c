"""The citizen space's words."""

from __future__ import annotations

from datetime import date

from gateway.citizen import wording


def test_the_first_of_a_month_is_an_ordinal() -> None:
    assert wording.day(date(2026, 12, 1)) == "1er décembre 2026"
    assert wording.day(date(2026, 12, 2)) == "2 décembre 2026"


def test_the_css_outcome_is_what_the_person_would_pay() -> None:
    outcome = {
        "eligibility": [
            {"benefit": "css", "status": "ELIGIBLE", "monthly_amount": 0.0},
            {"benefit": "css", "status": "ELIGIBLE", "monthly_amount": 23.5},
            {"benefit": "rsa", "status": "ELIGIBLE", "monthly_amount": 612.4},
        ]
    }
    free, paying, rsa = wording.dossier_outcome(outcome)
    assert "gratuite pour vous" in free and "€" not in free
    assert "une participation d'environ 23,50 € par mois" in paying
    assert "environ 612,40 € par mois" in rsa
