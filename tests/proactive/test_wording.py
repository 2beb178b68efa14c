"""What a notification says about an eligibility answer, in the person's words."""

from __future__ import annotations

from datetime import date

import pytest

from eligibility import InputUsed
from eligibility.adapter import INCOME_VARIABLES, TURNOVER_VARIABLES
from eligibility.criteria import CITATIONS, CRITERIA
from eligibility.engine import evaluate_one
from eligibility.golden import load_cases, situation_to_person
from eligibility.model import BENEFITS, BenefitResult, Criterion
from proactive import wording


def used(name: str, agency: str) -> InputUsed:
    return InputUsed(name, "…", agency, "source", date(2025, 6, 1))


def test_inputs_read_as_plain_french_once_per_agency_as_people_know_it() -> None:
    inputs = [
        used("date_naissance", "INSEE"),
        used("salaire_net", "GIP-MDS"),
        used("salaire_imposable", "GIP-MDS"),
        used("partner chomage_net", "GIP-MDS"),
        used("composition", "CNAF"),
        used("zone_apl", "CAF"),
        used("loyer", "CAF"),
        used("activite", "France Travail"),
        used("une_variable_inconnue", "DGFIP"),
    ]
    assert wording.data_used(inputs) == [
        {"category": "votre date de naissance", "agency": "INSEE, état civil"},
        {
            "category": "vos salaires déclarés",
            "agency": "vos employeurs et organismes payeurs, via le GIP-MDS",
        },
        {
            "category": "les allocations chômage de votre conjoint(e)",
            "agency": "vos employeurs et organismes payeurs, via le GIP-MDS",
        },
        # The CNAF's records and the CAF's are one holder to the person.
        {"category": "la composition de votre foyer", "agency": "CAF"},
        {"category": "la zone de votre logement", "agency": "CAF"},
        {"category": "votre loyer", "agency": "CAF"},
        {"category": "votre inscription à France Travail", "agency": "France Travail"},
        {"category": wording.OTHER, "agency": "administration fiscale, DGFiP"},
    ]


def test_every_input_the_adapter_names_has_words() -> None:
    # The names the adapter and the stated facts give their inputs (eligibility.adapter,
    # eligibility.employment, eligibility.stated, eligibility.results).
    own = {n for pair in INCOME_VARIABLES.values() for n in pair} | set(TURNOVER_VARIABLES.values())
    own |= {"date_naissance", "composition", "statut_occupation_logement", "loyer", "depcom"}
    own |= {"zone_apl", "retraite_brute", "etudiant", "activite", "date_debut_chomage"}
    own |= {"aide_logement_verse", "prestations_familiales_base_ressources", "asf_verse"}
    own |= {"date_deces"}
    partner = {n for pair in INCOME_VARIABLES.values() for n in pair} | set(
        TURNOVER_VARIABLES.values()
    )
    partner |= {"retraite_brute", "activite", "date_debut_chomage", "revenu_fiscal_de_reference"}
    unnamed = [n for n in own if wording.label(n) == wording.OTHER]
    unnamed += [n for n in partner if wording.label(wording.PARTNER + n) == wording.OTHER]
    assert unnamed == []


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c.name)
def test_no_golden_answer_names_data_in_vague_words(case: object) -> None:
    # What the rules really read for each reference household: every input has its words,
    # every holder its name, whatever the benefit.
    person = situation_to_person(case.situation, case.month)  # type: ignore[attr-defined]
    results = evaluate_one(person, BENEFITS, case.month)  # type: ignore[attr-defined]
    for result in results:
        for item in wording.data_used(result.inputs):
            assert item["category"] != wording.OTHER, (result.benefit, result.inputs)
            assert item["agency"] not in {"CNAF", "DGFIP", "GIP-MDS"}, item


def _result(benefit: str, criteria: tuple[Criterion, ...]) -> BenefitResult:
    return BenefitResult(
        benefit=benefit,
        status="ELIGIBLE",
        monthly_amount=100.0,
        receiving=False,
        non_take_up=True,
        missing=(),
        criteria=criteria,
        inputs=(),
    )


def test_reasons_are_the_legal_criteria_not_the_agents_notes() -> None:
    note = Criterion(
        "Données manquantes sans effet sur ce résultat, évaluées à leurs bornes (partner "
        "job-seeker status (France Travail) : non inscrit) : même statut.",
        CRITERIA["rsa"][1].title,
        CRITERIA["rsa"][1].href,
    )
    got = wording.reasons(_result("rsa", (*CRITERIA["rsa"], note)))
    assert got == [c.text for c in CRITERIA["rsa"]]
    assert wording.reasons(_result("css", CRITERIA["css"])) == [
        c.text for c in CRITERIA["css"] if c not in CITATIONS
    ]


def test_every_legal_criterion_is_a_sentence() -> None:
    # Shown to the person in every letter: a title such as "Calcul de la prime." says nothing.
    for benefit, criteria in CRITERIA.items():
        for criterion in criteria:
            if criterion in CITATIONS:
                continue
            words = criterion.text.rstrip(".").split()
            assert len(words) >= 8 and criterion.text.endswith("."), (benefit, criterion.text)
