"""The data a notification names, in the person's words."""

from __future__ import annotations

from datetime import date

from eligibility import InputUsed
from proactive import wording


def used(name: str, agency: str) -> InputUsed:
    return InputUsed(name, "…", agency, "source", date(2025, 6, 1))


def test_inputs_read_as_plain_french_once_per_agency() -> None:
    inputs = [
        used("date_naissance", "INSEE"),
        used("salaire_net", "GIP-MDS"),
        used("salaire_imposable", "GIP-MDS"),
        used("partner chomage_net", "GIP-MDS"),
        used("zone_apl", "CAF"),
        used("une_variable_inconnue", "DGFiP"),
    ]
    assert wording.data_used(inputs) == [
        {"category": "votre date de naissance", "agency": "INSEE"},
        {"category": "vos salaires déclarés", "agency": "GIP-MDS"},
        {"category": "les allocations chômage de votre conjoint(e)", "agency": "GIP-MDS"},
        {"category": "la zone de votre logement", "agency": "CAF"},
        {"category": "d'autres informations de votre dossier", "agency": "DGFiP"},
    ]


def test_every_input_the_rules_name_has_words() -> None:
    # The names the adapter gives its inputs (OpenFisca variables and the income pairs).
    from eligibility.adapter import INCOME_VARIABLES

    names = {n for pair in INCOME_VARIABLES.values() for n in pair}
    names |= {"date_naissance", "composition", "statut_occupation_logement", "loyer"}
    names |= {"depcom", "zone_apl", "retraite_brute", "etudiant"}
    assert all(wording.label(n) != wording.OTHER for n in names)
    assert all(
        wording.label("partner " + n) != wording.OTHER
        for pair in INCOME_VARIABLES.values()
        for n in pair
    )
