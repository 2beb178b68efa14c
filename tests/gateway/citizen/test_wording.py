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


def test_where_a_dossier_stands_in_words() -> None:
    from gateway.citizen.wording import dossier_state

    labels = {
        "loyer_mensuel": "Loyer mensuel hors charges",
        "ressources_trimestre": "Ressources des 3 derniers mois",
        "ressources_trimestre.salaires": "Salaires nets",
    }
    assert dossier_state(7, "created", None, labels).endswith("pas encore déposé.")
    for status in ("submitted", "failed"):
        assert dossier_state(7, status, None, labels).endswith("en cours de prise en compte.")
    assert dossier_state(7, "processed", {}, labels) == (
        "Dossier nº 7 déposé sur démarches-simplifiées."
    )
    why = {
        "code": "BAD_USER_INPUT",
        "reason": "invalid",
        "fields": ["loyer_mensuel", "ressources_trimestre[1].salaires"],
    }
    said = dossier_state(7, "rejected", {"rejected": why}, labels)
    assert "« Loyer mensuel hors charges » ; « Ressources des 3 derniers mois, ligne 2 : " in said
    assert "Salaires nets » à corriger" in said and "[1]" not in said
    incomplete = {**why, "reason": "incomplete", "fields": ["loyer_mensuel"]}
    assert "à compléter ou à confirmer" in dossier_state(
        7, "rejected", {"rejected": incomplete}, labels
    )
