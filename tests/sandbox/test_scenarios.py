"""Scenario persons: exactly the facts written in the YAML, served like any other person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import Population, RunningSandbox, SandboxConfig, start_in_thread
from sandbox.__main__ import main
from sandbox.months import age_on
from sandbox.scenarios import SHIPPED, ScenarioError, load_scenarios
from tests.sandbox.conftest import OURS, particulier, persons, query, token

SHIPPED_IDS = (
    "seul-35-sans-revenu",
    "seul-35-salaire-800",
    "seul-67-sans-revenu",
    "couple-deux-enfants-salaire-1400",
    "couple-retraites-petites-pensions",
    "parent-isole-enfant-2-ans",
    "seul-35-mois-manquants",
    "seul-35-sans-historique",
    "seul-35-chomeur-indemnise",
    "seul-35-chomeur-non-indemnise",
)
WINDOW = {"moisDebut": "2023-07", "moisFin": "2025-06"}
ALL_MONTHS = [f"{2023 + (6 + i) // 12}-{(6 + i) % 12 + 1:02d}" for i in range(24)]


def _one(http: httpx.Client, sandbox: RunningSandbox, scenario: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = persons(http, sandbox, f"scenario:{scenario}", 10)
    assert found and all(p["scenario"] == scenario for p in found)
    return found


def _get(
    http: httpx.Client,
    sandbox: RunningSandbox,
    agency: str,
    person: dict[str, Any],
    **extra: str,
) -> httpx.Response:
    params: dict[str, Any] = {**query(person["personne"]), **extra}
    return http.get(
        sandbox.urls[agency] + OURS[agency], params=params, headers=token(http, sandbox, agency)
    )


def _data(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_generated_population_is_unchanged_by_scenarios() -> None:
    plain = Population.generate(400, seed=5)
    with_scenarios = Population.generate(400, seed=5, scenarios=load_scenarios(SHIPPED))
    count = len(plain.persons)
    assert with_scenarios.persons[:count] == plain.persons
    assert with_scenarios.households[: len(plain.households)] == plain.households
    assert sorted(with_scenarios.scenario_of) == list(range(count, len(with_scenarios.persons)))
    assert len(with_scenarios.persons) == count + load_scenarios(SHIPPED).person_count
    assert SandboxConfig(size=400, seed=5, scenarios=None).population().persons == plain.persons


def test_listing_and_kind_filters(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = sandbox.urls["housing"] + "/_sandbox/persons"
    everyone = http.get(url, params={"kind": "scenario", "limit": 100}).json()
    shipped = load_scenarios(SHIPPED).person_count
    assert everyone["meta"]["total"] == shipped
    assert [p["index"] for p in everyone["data"]] == list(range(3000, 3000 + shipped))
    assert {p["scenario"] for p in everyone["data"]} == set(SHIPPED_IDS)
    assert http.get(url, params={"limit": 1}).json()["data"][0]["scenario"] is None
    family = _one(http, sandbox, "couple-deux-enfants-salaire-1400")
    assert [p["role"] for p in family] == ["adult", "adult", "child", "child"]
    assert {p["household_kind"] for p in family} == {"couple_children"}
    assert http.get(url, params={"kind": "scenario:nobody"}).json()["meta"]["total"] == 0
    singles = http.get(url, params={"kind": "single", "offset": 0, "limit": 1000}).json()
    assert singles["meta"]["total"] > 0  # scenario singles are ordinary singles too


def test_every_agency_serves_every_scenario_person(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    for scenario in SHIPPED_IDS:
        for person in _one(http, sandbox, scenario):
            personne = person["personne"]
            assert isinstance(personne, dict)
            for agency in OURS:
                answer = _get(http, sandbox, agency, person)
                if agency == "dgfip" and person["role"] == "child":
                    assert answer.status_code == 404  # minors have no foyer fiscal of their own
                    continue
                identite = _data(answer)["identite"]
                assert isinstance(identite, dict)
                assert identite["nom_naissance"] == personne["nomNaissance"]
                assert identite["prenoms"] == personne["prenoms"]
            caf = http.get(
                sandbox.urls["api_particulier"] + "/v3/dss/revenu_solidarite_active/identite",
                params=query(personne),  # type: ignore[arg-type]
                headers=particulier(sandbox),
            )
            assert caf.status_code == 200, caf.text
            assert caf.json()["data"]["est_beneficiaire"] is False  # nobody receives anything


def test_resources_months_and_amounts_are_exact(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    (salaried,) = _one(http, sandbox, "seul-35-salaire-800")
    data = _data(_get(http, sandbox, "gip_mds", salaried, **WINDOW))
    assert data["mois_manquants"] == []
    periods = data["periodes"]
    assert isinstance(periods, list)
    assert [p["mois"] for p in periods] == ALL_MONTHS
    for period in periods:
        (paid,) = period["versements"]
        assert paid["nature"] == "salaire" and paid["payeur"]["type"] == "employeur"
        assert (paid["montant_net_social"], paid["montant_net_fiscal"]) == (800.0, 824.0)
    (idle,) = _one(http, sandbox, "seul-35-sans-revenu")
    data = _data(_get(http, sandbox, "gip_mds", idle, **WINDOW))
    assert data["mois_manquants"] == []
    assert [p["versements"] for p in data["periodes"]] == [[]] * 24
    pensioners = _one(http, sandbox, "couple-retraites-petites-pensions")
    for person, net in zip(pensioners, (600.0, 300.0), strict=True):
        months = _data(_get(http, sandbox, "gip_mds", person, **WINDOW))["periodes"]
        assert {
            (v["nature"], v["montant_net_social"]) for p in months for v in p["versements"]
        } == {("pension", net)}
        cnav = _data(_get(http, sandbox, "cnav", person))
        (pension,) = cnav["pensions"]
        assert pension["montant_mensuel_net"] == net and pension["regime"] == "CNAV"
        assert cnav["aspa"] == {
            "est_beneficiaire": False,
            "montant_mensuel": None,
            "date_debut_droit": None,
        }


def test_missing_months_are_listed(http: httpx.Client, sandbox: RunningSandbox) -> None:
    (person,) = _one(http, sandbox, "seul-35-mois-manquants")
    assert len(person["missing_months"]) == 2
    flagged = http.get(
        sandbox.urls["cnam"] + "/_sandbox/persons",
        params={"kind": "missing_months", "limit": 1000},
    ).json()["data"]
    assert person["index"] in {p["index"] for p in flagged}
    data = _data(_get(http, sandbox, "gip_mds", person, moisDebut="2025-01", moisFin="2025-06"))
    assert data["mois_manquants"] == ["2025-02", "2025-04"]
    assert [p["mois"] for p in data["periodes"]] == ["2025-01", "2025-03", "2025-05", "2025-06"]


def test_person_without_history_has_every_month_missing(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    (person,) = _one(http, sandbox, "seul-35-sans-historique")
    data = _data(_get(http, sandbox, "gip_mds", person, **WINDOW))
    assert data["periodes"] == []
    assert data["mois_manquants"] == ALL_MONTHS
    # Known everywhere else: only the resources are missing.
    assert _data(_get(http, sandbox, "housing", person))["loyer_mensuel"] == 500.0


def test_housing_tax_and_health(http: httpx.Client, sandbox: RunningSandbox) -> None:
    (single,) = _one(http, sandbox, "seul-35-sans-revenu")
    housing = _data(_get(http, sandbox, "housing", single, **WINDOW))
    assert (
        housing["statut_occupation"],
        housing["loyer_mensuel"],
        housing["charges_mensuelles"],
    ) == (
        "locataire",
        500.0,
        0.0,
    )
    assert (housing["code_cog_insee_commune"], housing["zone"]) == ("69123", 2)
    assert [(h["mois"], h["loyer"]) for h in housing["historique_loyers"]] == [
        (m, 500.0) for m in ALL_MONTHS
    ]
    assert housing["aide_logement"] == {
        "est_beneficiaire": False,
        "type": None,
        "montant_mensuel": None,
    }
    cnam = _data(_get(http, sandbox, "cnam", single))
    assert cnam["css"]["est_beneficiaire"] is False
    assert cnam["organisme"]["libelle"] == "CPAM Rhône"
    (salaried,) = _one(http, sandbox, "seul-35-salaire-800")
    tax = _data(_get(http, sandbox, "dgfip", salaried, anneeRevenus="2024"))
    assert (tax["revenu_fiscal_reference"], tax["nombre_parts"]) == (8899, 1.0)
    father = _one(http, sandbox, "couple-deux-enfants-salaire-1400")[0]
    tax = _data(_get(http, sandbox, "dgfip", father, anneeRevenus="2024"))
    assert (tax["revenu_fiscal_reference"], tax["nombre_parts"], tax["situation_familiale"]) == (
        15574,
        3.0,
        "marie",
    )
    owners = _one(http, sandbox, "couple-retraites-petites-pensions")[0]
    housing = _data(_get(http, sandbox, "housing", owners))
    assert (housing["statut_occupation"], housing["loyer_mensuel"]) == ("proprietaire", None)


def test_scenarios_follow_the_population_month() -> None:
    population = Population.generate(
        50, reference_month="2026-10", scenarios=load_scenarios(SHIPPED)
    )
    by_id = {
        population.scenario_of[p.index]: p
        for p in population.persons
        if p.index in population.scenario_of
    }
    assert (
        age_on(by_id["seul-35-sans-revenu"].identity.date_naissance, population.reference_date)
        == 35
    )
    assert (
        age_on(by_id["seul-67-sans-revenu"].identity.date_naissance, population.reference_date)
        == 67
    )
    late = by_id["seul-35-mois-manquants"]
    assert sorted(late.missing_months) == [population.reference - 4, population.reference - 2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


_GOOD = """
mois_reference: "2025-06"
scenarios:
  - id: a
    logement: {statut_occupation: locataire, loyer: 500, commune: "69123"}
    membres:
      - {nom: SCENARIO-TEST, prenoms: [Anne], date_naissance: 1990-01-15, sexe: F,
         commune_naissance: "69123", ressources: [RESOURCE]}
"""


@pytest.mark.parametrize(
    ("resource", "where"),
    [
        (
            "{nature: salaire, montant_net_social: 800, bonus: 1}",
            "scenarios[0].membres[0].ressources[0].bonus: unknown key",
        ),
        (
            "{nature: loyer, montant_net_social: 800}",
            "scenarios[0].membres[0].ressources[0].nature: 'loyer' is not one of",
        ),
        (
            "{nature: salaire, montant_net_social: -5}",
            "ressources[0].montant_net_social: must be at least 0",
        ),
        (
            "{nature: salaire, montant_net_social: 800, depuis: 2025-13}",
            "ressources[0].depuis: expected a month",
        ),
        (
            "{nature: salaire, mois: {'2021-01': 800}}",
            "ressources[0].mois.2021-01: 2021-01 is outside",
        ),
        (
            "{nature: salaire, montant_net_social: 800, regime: CNAV}",
            "ressources[0].regime: only for nature pension",
        ),
        (
            "{nature: salaire, montant_net_social: 800, categorie: bnc}",
            "ressources[0].categorie: only for nature revenu_independant",
        ),
        (
            "{nature: revenu_independant, montant_net_social: 800, categorie: agricole}",
            "ressources[0].categorie: 'agricole' is not one of",
        ),
        (
            "{nature: revenu_independant, montant_net_social: 800, montant_net_fiscal: 900}",
            "ressources[0].montant_net_fiscal: a turnover has one amount",
        ),
    ],
)
def test_loader_names_file_and_key(tmp_path: Path, resource: str, where: str) -> None:
    path = _write(tmp_path, _GOOD.replace("RESOURCE", resource))
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path)
    message = str(caught.value)
    assert message.startswith("cases.yaml: ") and where in message, message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            'commune: "69123"}',
            'commune: "69123", zone: 1}',
            "scenarios[0].logement.zone: commune 69123 is in zone 2",
        ),
        ("nom: SCENARIO-TEST", "nom: SCENARIO-1", "membres[0].nom: 'SCENARIO-1' is not valid"),
        (
            "- id: a",
            "- id: a\n    foyer_fiscal: {rfr: {2024: 1}}",
            "foyer_fiscal.rfr.2024: 1 written, 8899 derived",
        ),
        ('mois_reference: "2025-06"', "", "mois_reference: required"),
        ("sexe: F", "sexe: X", "membres[0].sexe: 'X' is not one of M, F"),
        ("loyer: 500, ", "", "logement.loyer: required when statut_occupation is locataire"),
    ],
)
def test_loader_rejects_bad_values(tmp_path: Path, old: str, new: str, where: str) -> None:
    text = _GOOD.replace(
        "RESOURCE", "{nature: salaire, montant_net_social: 800, montant_net_fiscal: 824}"
    )
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ScenarioError, match=r"^cases\.yaml: ") as caught:
        load_scenarios(path)
    assert where in str(caught.value), str(caught.value)


def test_loader_rejects_duplicates(tmp_path: Path) -> None:
    text = _GOOD.replace("RESOURCE", "{nature: salaire, montant_net_social: 800}")
    body = text.split("scenarios:\n", 1)[1]
    with pytest.raises(ScenarioError, match=r"scenarios\[1\].id: 'a' is used twice"):
        load_scenarios(_write(tmp_path, text + body))
    with pytest.raises(
        ScenarioError, match=r"scenarios\[1\]: a member has the same identity as in a"
    ):
        load_scenarios(_write(tmp_path, text + body.replace("id: a", "id: b")))


def test_command_line_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "mois_reference: '2025-06'\nscenarios: []\n")
    assert main(["--scenarios", str(path), "--port-base", "0"]) == 2
    assert "cases.yaml: scenarios: expected a non-empty list" in capsys.readouterr().err


_RICH = """
mois_reference: "2025-06"
scenarios:
  - id: riche
    regime: MSA
    logement: {statut_occupation: locataire_meuble, loyer: 420, charges: 30, commune: "75056",
               revision_loyer: "2025-01", aide_logement: {type: ALS, montant: 180}}
    membres:
      - nom: SCENARIO-DROITS
        prenoms: [Eve]
        date_naissance: 1985-06-01
        sexe: F
        pays_naissance: "99139"
        france_travail: {depuis: 2025-02-01, categorie: 2}
        droits:
          rsa: {depuis: 2025-03-01, montant: 300.5, majoration: true}
          css: {depuis: 2025-01-01, participation: true}
        ressources:
          - {nature: salaire, mois: {"2025-01": 900, "2025-02": {montant_net_social: 450,
              montant_net_fiscal: 470}}}
          - {nature: allocation_chomage, montant_net_social: 610, mois_stables: 4}
  - id: inconnue
    logement: {statut_occupation: heberge_gratuit, commune: "69123"}
    membres:
      - {nom: SCENARIO-INCONNUE, prenoms: [Ida], date_naissance: 1980-02-02, sexe: F,
         commune_naissance: "69123", connu_caf: false}
"""


def test_every_fact_of_the_format_is_served(tmp_path: Path, http: httpx.Client) -> None:
    config = SandboxConfig(size=30, scenarios=_write(tmp_path, _RICH))
    with start_in_thread(config) as running:
        (eve,) = _one(http, running, "riche")
        assert eve["index"] >= 30 and eve["identifiant_france_travail"]
        assert eve["rights"] == ["rsa", "css"]
        window = {"moisDebut": "2024-12", "moisFin": "2025-06"}
        months = _data(_get(http, running, "gip_mds", eve, **window))["periodes"]
        paid = {
            p["mois"]: [
                (v["nature"], v["montant_net_social"], v["montant_net_fiscal"])
                for v in p["versements"]
            ]
            for p in months
        }
        assert paid["2024-12"] == []
        assert paid["2025-01"] == [("salaire", 900.0, 927.0)]
        assert paid["2025-02"] == [("salaire", 450.0, 470.0)]
        assert paid["2025-03"] == [("allocation_chomage", 610.0, 628.3)]
        assert paid["2025-06"] == [("allocation_chomage", 610.0, 628.3)]
        housing = _data(_get(http, running, "housing", eve, **window))
        rents = {h["mois"]: h["loyer"] for h in housing["historique_loyers"]}
        assert rents["2025-01"] == 420.0 and rents["2024-12"] == round(420 / 1.035, 2)
        assert housing["aide_logement"] == {
            "est_beneficiaire": True,
            "type": "ALS",
            "montant_mensuel": 180.0,
        }
        assert housing["zone"] == 1
        css = _data(_get(http, running, "cnam", eve))["css"]
        assert css == {
            "est_beneficiaire": True,
            "avec_participation": True,
            "date_debut_droit": "2025-01-01",
            "date_renouvellement": "2026-01-01",
        }
        base = running.urls["api_particulier"]
        rsa = http.get(
            base + "/v3/dss/revenu_solidarite_active/identite",
            params=query(eve["personne"]),  # type: ignore[arg-type]
            headers=particulier(running),
        ).json()["data"]
        assert rsa == {
            "est_beneficiaire": True,
            "avec_majoration": True,
            "date_debut_droit": "2025-03-01",
        }
        quotient = http.get(
            base + "/v3/dss/quotient_familial/identite",
            params=query(eve["personne"]),  # type: ignore[arg-type]
            headers=particulier(running),
        ).json()["data"]
        assert quotient["quotient_familial"]["fournisseur"] == "MSA"
        seeker = http.get(
            base + "/v3/france_travail/statut/identifiant",
            params={
                "recipient": "13002526500013",
                "identifiant": eve["identifiant_france_travail"],
            },
            headers=particulier(running),
        ).json()["data"]
        assert seeker["inscription"]["date_debut"] == "2025-02-01"
        assert seeker["inscription"]["categorie"]["code"] == 2
        (ida,) = _one(http, running, "inconnue")
        caf = http.get(
            base + "/v3/dss/prime_activite/identite",
            params=query(ida["personne"]),  # type: ignore[arg-type]
            headers=particulier(running),
        )
        assert caf.status_code == 404
        assert _get(http, running, "housing", ida).status_code == 404
        assert _data(_get(http, running, "cnam", ida))["css"]["est_beneficiaire"] is False
