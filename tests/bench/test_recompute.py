"""The recomputation bench's own mapping, on hand-written raw agency answers (no server).

The amounts are the reference cases of docs/eligibility.md (OpenFisca-France 176.1.8,
2025-06): a single adult aged 35 renting 500 € a month in Lyon with 800 € net social (824 €
net taxable) salary every month gets PPA 261.04, CSS participation 14 €/month and housing
aid 187; with no income, RSA 568.94, free CSS and housing aid 301.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from bench._openfisca_situation import BENEFITS, build
from bench._raw_agencies import Failure, RawAdult, RawHousehold, shift
from bench._recompute_compare import Pair, summarise
from bench._recompute_law import Verdict, run, run_many
from bench._recompute_report import render
from bench._recompute_sample import Sample

MONTH = "2025-06"
WINDOW = [shift(MONTH, -k) for k in range(18, -1, -1)]
IDENTITE = {"nom_naissance": "TEST", "prenoms": ["Julien"], "date_naissance": "1990-01-15"}
PIVOT = {
    "nomNaissance": "TEST",
    "prenoms": ["Julien"],
    "anneeDateNaissance": "1990",
    "moisDateNaissance": "1",
    "jourDateNaissance": "15",
    "sexeEtatCivil": "M",
    "codeCogInseePaysNaissance": "99100",
    "codeCogInseeCommuneNaissance": "69123",
}


def _salary(net: float, taxable: float, nature: str = "salaire") -> list[dict[str, Any]]:
    if not net:
        return []
    payer = {"siret": "31000005860062", "type": "employeur"}
    return [
        {
            "payeur": payer,
            "nature": nature,
            "montant_net_social": net,
            "montant_net_fiscal": taxable,
        }
    ]


def _adult(
    net: float = 800.0,
    taxable: float = 824.0,
    missing: tuple[str, ...] = (),
    nature: str = "salaire",
    since: str = WINDOW[0],
    month: str = MONTH,
) -> RawAdult:
    periods = [
        {"mois": m, "versements": _salary(net, taxable, nature) if m >= since else []}
        for m in _window(month)
        if m not in missing
    ]
    return RawAdult(
        pivot=PIVOT,
        civil={"identite": {**IDENTITE, "sexe": "M"}, "date_deces": None},
        resources={"identite": IDENTITE, "periodes": periods, "mois_manquants": list(missing)},
        pensions=Failure(404, "52003"),
        student=Failure(404, "25003"),
        tax={"declarants": [IDENTITE], "situation_familiale": "celibataire"},
        aah={"est_beneficiaire": False, "date_debut_droit": None},
        asf={"est_beneficiaire": False, "date_debut_droit": None},
    )


def _window(month: str) -> list[str]:
    return [shift(month, -k) for k in range(18, -1, -1)]


def _household(adult: RawAdult, month: str = MONTH) -> RawHousehold:
    caf = {"allocataires": [{**IDENTITE, "prenoms": "Julien", "sexe": "M"}], "enfants": []}
    housing = {
        "statut_occupation": "locataire",
        "loyer_mensuel": 500.0,
        "charges_mensuelles": 0.0,
        "code_cog_insee_commune": "69123",
        "zone": 2,
        "historique_loyers": [{"mois": m, "loyer": 500.0, "charges": 0.0} for m in _window(month)],
    }
    return RawHousehold(month, caf, housing, [adult])


def _amounts(verdicts: dict[str, Verdict]) -> dict[str, float | None]:
    return {b: v.amount for b, v in verdicts.items()}


def test_mapping_feeds_the_declared_months_and_the_rent() -> None:
    situation = build(_household(_adult()))
    person = situation.entities["individus"]["adult0"]
    assert situation.unknown == {}
    assert person["salaire_net"] == {m: 800.0 for m in WINDOW}
    assert person["salaire_imposable"][MONTH] == 824.0
    assert person["activite"][MONTH] == "actif"
    assert not any(person["etudiant"].values())
    assert person["ass"][MONTH] == 0.0
    menage = situation.entities["menages"]["menage"]
    assert menage["loyer"][shift(MONTH, -12)] == 500.0
    assert menage["statut_occupation_logement"][MONTH] == "locataire_vide"
    assert menage["depcom"][MONTH] == "69123"
    assert "zone_apl" not in menage  # OpenFisca's own table decides


def test_reference_cases_reproduce() -> None:
    earner, zone = run(build(_household(_adult())))
    assert zone == 2
    assert _amounts(earner) == {
        "rsa": 0.0,
        "ppa": 261.04,
        "aspa": 0.0,
        "aide_logement": 187.0,
        "css": 14.0,
    }
    idle, _ = run(build(_household(_adult(net=0.0, taxable=0.0))))
    assert _amounts(idle)["rsa"] == 568.94
    assert _amounts(idle)["aide_logement"] == 301.0
    assert idle["css"] == Verdict("css", True, 0.0)


def test_the_flat_rate_and_the_asf_count_what_the_caf_pays() -> None:
    # The same person paid no housing aid: no housing flat rate (CASF R262-10), the housing
    # aid answered is still the dwelling's; paid one, the flat rate whatever its amount.
    unpaid = _household(_adult(net=0.0, taxable=0.0))
    unpaid.housing["aide_logement"] = {"est_beneficiaire": False}  # type: ignore[index]
    situation = build(unpaid)
    assert situation.paid["aide_logement"][MONTH] == 0.0
    assert situation.paid["asf"][MONTH] == 0.0  # the ASF status says not paid
    verdicts, _ = run(situation)
    assert _amounts(verdicts)["rsa"] == 646.52 and _amounts(verdicts)["aide_logement"] == 301.0
    paid = _household(_adult(net=0.0, taxable=0.0))
    paid.housing["aide_logement"] = {  # type: ignore[index]
        "est_beneficiaire": True,
        "type": "ALS",
        "montant_mensuel": 120.0,
    }
    assert _amounts(run(build(paid))[0])["rsa"] == 568.94


def test_a_month_not_declared_is_unknown_not_zero() -> None:
    situation = build(_household(_adult(missing=("2025-02",))))
    assert situation.unknown == {b: ["adult0: resources 2025-02"] for b in BENEFITS}


def test_a_job_seeker_is_chomeur_from_france_travail() -> None:
    adult = _adult(net=0.0, taxable=0.0)
    adult.job_status = {
        "inscription": {
            "date_debut": "2025-01-01",
            "date_fin": None,
            "categorie": {"code": 1, "libelle": "…"},
        }
    }
    adult.job_payments = {"paiements": []}
    person = build(_household(adult)).entities["individus"]["adult0"]
    assert person["activite"][MONTH] == "chomeur"
    assert person["activite"][shift(MONTH, -6)] == "inactif"  # before registering
    assert person["date_debut_chomage"] == {"ETERNITY": "2025-01-01"}


def test_without_france_travail_an_unemployment_benefit_makes_a_job_seeker() -> None:
    adult = _adult(net=900.0, taxable=950.0, nature="allocation_chomage", since="2025-03")
    person = build(_household(adult)).entities["individus"]["adult0"]
    assert person["chomage_net"][MONTH] == 900.0
    assert person["activite"][MONTH] == "chomeur"
    assert person["activite"]["2025-02"] == "inactif"
    assert person["date_debut_chomage"] == {"ETERNITY": "2025-03-01"}


def test_a_household_alone_and_in_a_batch_is_the_same() -> None:
    alone = build(_household(_adult()))
    other = build(_household(_adult(net=0.0, taxable=0.0)))
    unknown = build(_household(_adult(missing=("2025-02",))))
    batch = run_many([copy.deepcopy(other), copy.deepcopy(alone), unknown])
    assert batch[1] == run(alone)
    assert _amounts(batch[0][0])["rsa"] == 568.94
    for verdict in batch[2][0].values():  # a month not declared: no amount, the reason
        assert verdict.amount is None
        assert verdict.reasons == ("adult0: resources 2025-02",)


def test_past_the_known_css_ceiling_css_is_answered_only_when_both_bounds_agree() -> None:
    month = "2026-11"  # the ceiling is known until 2026-03
    nets = (700.0, 820.0, 900.0)  # free at both bounds, free at +5 % only, 14 € at both
    situations = [build(_household(_adult(n, n * 1.03, month=month), month)) for n in nets]
    free, between, paying = (verdicts["css"] for verdicts, _ in run_many(situations))
    assert free == Verdict("css", True, 0.0)
    assert between.amount is None
    assert between.reasons == (
        "the CSS ceiling after 2026-03 (unknown; the answer changes within +0-5 %)",
    )
    assert paying == Verdict("css", True, 14.0)


@pytest.mark.parametrize(
    ("status", "amount", "differs"),
    [("ELIGIBLE", 14.0, False), ("ELIGIBLE", 15.5, True), ("NOT_ELIGIBLE", None, True)],
)
def test_a_pair_differs_above_one_euro_or_on_the_verdict(
    status: str, amount: float | None, differs: bool
) -> None:
    pair = Pair(1, "single (actif)", "css", status, amount, [], True, 14.0, [])
    assert pair.differs is differs
    assert summarise([pair]).differences == ([pair] if differs else [])


@pytest.mark.parametrize(("law_eligible", "differs"), [(True, False), (False, True)])
def test_an_eligible_answer_without_amount_is_compared_on_its_verdict(
    law_eligible: bool, differs: bool
) -> None:
    """Entitled whatever the data missing, the amount depending on it: right when the law
    says entitled, whatever its amount; never counted as answered to the cent."""
    amount = 196.0 if law_eligible else 0.0
    pair = Pair(
        3, "student (etudiant)", "aide_logement", "ELIGIBLE", None, ["student grant"],
        law_eligible, amount, [],
    )  # fmt: skip
    summary = summarise([pair])
    assert pair.withheld and pair.differs is differs and not pair.compared
    assert summary.withheld == 1 and summary.compared == 0
    assert summary.withheld_reasons == Counter({"aide_logement: student grant": 1})
    assert summary.differences == ([pair] if differs else [])


def test_the_report_names_each_difference_and_each_answerable_cannot_evaluate() -> None:
    differs = Pair(7, "single (actif)", "css", "ELIGIBLE", 30.0, [], True, 14.0, [])
    withheld = Pair(8, "couple (retraite)", "aspa", "CANNOT_EVALUATE", None, ["x"], True, 82.25, [])
    summary = summarise([differs, withheld])
    sample = Sample([{}, {}], households=10, kept=5, excluded=Counter(aah=5), job_ids={})
    facts = {
        "started": "2025-07-10 12:00 UTC",
        "command": "python -m bench.recompute",
        "machine": "test",
        "month": MONTH,
        "size": 10,
        "seed": 1,
        "fetch_seconds": 0.0,
        "recompute_seconds": 0.0,
        "zones_differ": 0,
    }
    text = render(facts, sample, summary)
    assert "CANNOT_EVALUATE: 1 of 2 pairs (50.0 %; target ≤ 2 %: not met)" in text
    assert "| 7 | single (actif) | css | ELIGIBLE 30.00 | 14.00 | 16.00 |" in text
    assert "| 8 | couple (retraite) | aspa | 82.25 | x |" in text
    assert "| an adult receives the AAH (amount not served) | 5 |" in text
