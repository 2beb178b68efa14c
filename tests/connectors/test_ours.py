"""GIP-MDS, DGFiP, CNAV, CNAM, housing and civil registry against one real local server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectors import (
    CallContext,
    CivilRegistry,
    Cnam,
    Cnav,
    Dgfip,
    GipMds,
    HousingAgency,
    InvalidInput,
    NoCache,
    PivotIdentity,
    UpstreamClient,
    UpstreamInvalid,
)
from tests.connectors.conftest import Serve, fixed_clock, make_client

ECHO = {
    "nom_naissance": "MARTIN",
    "prenoms": ["SAMUEL"],
    "date_naissance": "1980-09-20",
    "sexe": "M",
}
PAYMENT = {
    "payeur": {"siret": "12345678901234", "type": "employeur"},
    "nature": "salaire",
    "montant_net_social": 1500.5,
    "montant_net_fiscal": 1450.0,
}
DATA: dict[str, dict[str, Any]] = {
    "/v1/ressources/identite": {
        "periodes": [
            {"mois": "2025-01", "versements": [PAYMENT, PAYMENT]},
            {"mois": "2024-12", "versements": [PAYMENT]},
        ],
        "mois_manquants": ["2025-02"],
    },
    "/v1/foyer-fiscal/identite": {
        "annee_revenus": 2023,
        "revenu_fiscal_reference": 21000,
        "nombre_parts": 1.5,
        "situation_familiale": "celibataire",
        "nombre_personnes_a_charge": 1,
        "declarants": [{**ECHO, "nom_usage": None, "prenoms": ["SAMUEL", "PAUL"]}],
        "adresse_fiscale": {
            "lignes": ["1 RUE X"],
            "code_postal": "75002",
            "localite": "PARIS",
            "code_cog_insee_commune": "75102",
            "pays": "FRANCE",
        },
    },
    "/v1/retraite/identite": {
        "pensions": [
            {
                "regime": "CNAV",
                "type": "droit_propre",
                "montant_mensuel_brut": 1200,
                "montant_mensuel_net": 1100.5,
                "date_effet": "2020-01-01",
            }
        ],
        "aspa": {"est_beneficiaire": False, "montant_mensuel": None, "date_debut_droit": None},
    },
    "/v1/assurance-maladie/identite": {
        "organisme": {"code": "751", "libelle": "CPAM de Paris"},
        "css": {
            "est_beneficiaire": True,
            "avec_participation": False,
            "date_debut_droit": "2024-06-01",
            "date_renouvellement": "2025-06-01",
        },
    },
    "/v1/logement/identite": {
        "statut_occupation": "locataire",
        "loyer_mensuel": 650.0,
        "charges_mensuelles": 50,
        "code_cog_insee_commune": "75102",
        "zone": 1,
        "historique_loyers": [{"mois": "2025-01", "loyer": 650, "charges": 50}],
        "aide_logement": {"est_beneficiaire": True, "type": "APL", "montant_mensuel": 210.0},
    },
    "/v1/etat-civil/identite": {
        "nom_usage": None,
        "code_cog_insee_commune_naissance": "08480",
        "code_cog_insee_pays_naissance": "99100",
        "date_deces": None,
    },
}


class Agencies:
    def __init__(self) -> None:
        self.echo: dict[str, Any] = dict(ECHO)
        self.meta: dict[str, Any] = {"as_of": "2025-03-01"}
        self.override: dict[str, Any] = {}
        self.queries: list[dict[str, list[str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        query: dict[str, list[str]] = {}
        for k, v in request.query.items():
            query.setdefault(k, []).append(v)
        self.queries.append(query)
        data = {**DATA[request.path], "identite": self.echo, **self.override}
        return web.json_response({"data": data, "links": {}, "meta": self.meta})


@pytest.fixture
async def agencies(serve: Serve) -> AsyncIterator[tuple[Agencies, UpstreamClient]]:
    state = Agencies()
    app = web.Application()
    for path in DATA:
        app.router.add_get(path, state.handle)
    http = make_client(await serve(app))
    yield state, http
    await http.aclose()


async def test_resources(
    agencies: tuple[Agencies, UpstreamClient], person: PivotIdentity, ctx: CallContext
) -> None:
    state, http = agencies
    res = await GipMds(http, NoCache(), fixed_clock).resources(person, ctx, "2024-12", "2025-02")
    assert [m.month for m in res.months] == ["2024-12", "2025-01"]
    assert res.months[1].net_social == 3001.0
    assert res.months[0].payments[0].payer_kind == "employer"
    assert res.missing_months == ("2025-02",)
    assert res.provenance.as_of.isoformat() == "2025-03-01"
    q = state.queries[0]
    assert q["moisDebut"] == ["2024-12"] and q["recipient"] == [ctx.recipient]
    assert q["prenoms[]"] == ["SAMUEL", "PAUL"]


def _turnover(**extra: Any) -> dict[str, Any]:
    return {
        "payeur": {"siret": "12345678901234", "type": "independant"},
        "nature": "revenu_independant",
        "montant_net_social": 1600.0,
        "montant_net_fiscal": 1600.0,
        **extra,
    }


async def test_turnover_carries_its_activity_category(
    agencies: tuple[Agencies, UpstreamClient], person: PivotIdentity, ctx: CallContext
) -> None:
    state, http = agencies
    state.override = {
        "periodes": [
            {"mois": "2024-12", "versements": [_turnover(categorie="bnc"), PAYMENT]},
            {"mois": "2025-01", "versements": [_turnover()]},
        ],
        "mois_manquants": [],
    }
    res = await GipMds(http, NoCache(), fixed_clock).resources(person, ctx, "2024-12", "2025-01")
    turnover, salary = res.months[0].payments
    assert turnover.nature == "self_employed_income"
    assert turnover.activity_category == "non_commercial"
    assert salary.activity_category is None
    assert res.months[1].payments[0].activity_category is None  # not given: named downstream


@pytest.mark.parametrize(
    "payment",
    [_turnover(categorie="agricole"), {**PAYMENT, "categorie": "bnc"}, _turnover(categorie=3)],
)
async def test_a_category_off_schema_is_upstream_invalid(
    agencies: tuple[Agencies, UpstreamClient],
    person: PivotIdentity,
    ctx: CallContext,
    payment: dict[str, Any],
) -> None:
    state, http = agencies
    state.override = {"periodes": [{"mois": "2025-01", "versements": [payment]}]}
    with pytest.raises(UpstreamInvalid):
        await GipMds(http, NoCache(), fixed_clock).resources(person, ctx, "2024-12", "2025-01")


@pytest.mark.parametrize(
    ("first", "last"),
    [("2023-01", "2025-01"), ("2025-02", "2025-01"), ("2025-1", "2025-02"), ("2025-13", "2025-13")],
)
async def test_resources_window_is_checked(
    agencies: tuple[Agencies, UpstreamClient],
    person: PivotIdentity,
    ctx: CallContext,
    first: str,
    last: str,
) -> None:
    with pytest.raises(InvalidInput):
        await GipMds(agencies[1], NoCache(), fixed_clock).resources(person, ctx, first, last)


async def test_tax_household(
    agencies: tuple[Agencies, UpstreamClient], person: PivotIdentity, ctx: CallContext
) -> None:
    tax = await Dgfip(agencies[1], NoCache(), fixed_clock).tax_household(person, ctx, 2023)
    assert (tax.reference_tax_income, tax.tax_shares, tax.dependants) == (21000, 1.5, 1)
    assert tax.declarants[0].given_names == "SAMUEL PAUL"
    assert tax.address.postal_code == "75002"
    with pytest.raises(UpstreamInvalid):  # the answer is for another year than asked
        await Dgfip(agencies[1], NoCache(), fixed_clock).tax_household(person, ctx, 2022)


async def test_retirement_health_housing_civil(
    agencies: tuple[Agencies, UpstreamClient], person: PivotIdentity, ctx: CallContext
) -> None:
    http = agencies[1]
    ret = await Cnav(http, NoCache(), fixed_clock).retirement(person, ctx)
    assert ret.pensions[0].kind == "own_right" and ret.aspa_receiving is False
    health = await Cnam(http, NoCache(), fixed_clock).health_insurance(person, ctx)
    assert health.css_receiving and health.css_renewal_date is not None
    home = await HousingAgency(http, NoCache(), fixed_clock).housing(
        person, ctx, "2025-01", "2025-02"
    )
    assert home.occupancy == "tenant" and home.aid_kind == "APL" and home.zone == 1
    civil = await CivilRegistry(http, NoCache(), fixed_clock).civil_status(person, ctx)
    assert civil.given_names == ("SAMUEL",) and civil.birth_place == "08480"
    assert civil.death_date is None


@pytest.mark.parametrize(
    "echo",
    [
        {**ECHO, "nom_naissance": "DURAND"},
        {**ECHO, "prenoms": ["PIERRE"]},
        {**ECHO, "date_naissance": "1980-09-21"},
        {**ECHO, "sexe": "F"},
    ],
)
async def test_answer_about_another_person_is_refused(
    agencies: tuple[Agencies, UpstreamClient],
    person: PivotIdentity,
    ctx: CallContext,
    echo: dict[str, Any],
) -> None:
    state, http = agencies
    state.echo = echo
    with pytest.raises(UpstreamInvalid, match="another person"):
        await Cnav(http, NoCache(), fixed_clock).retirement(person, ctx)


@pytest.mark.parametrize(
    ("override", "meta"),
    [
        ({}, {}),
        ({}, {"as_of": "2025-13-01"}),
        ({"aspa": {"est_beneficiaire": "yes"}}, {"as_of": "2025-03-01"}),
        ({"pensions": [{"regime": "X", "type": "autre"}]}, {"as_of": "2025-03-01"}),
        ({"identite": None}, {"as_of": "2025-03-01"}),
    ],
)
async def test_off_schema_answers_are_upstream_invalid(
    agencies: tuple[Agencies, UpstreamClient],
    person: PivotIdentity,
    ctx: CallContext,
    override: dict[str, Any],
    meta: dict[str, Any],
) -> None:
    state, http = agencies
    state.override, state.meta = override, meta
    with pytest.raises(UpstreamInvalid) as caught:
        await Cnav(http, NoCache(), fixed_clock).retirement(person, ctx)
    assert "MARTIN" not in caught.value.message


async def test_recipient_must_be_a_siret(
    agencies: tuple[Agencies, UpstreamClient], person: PivotIdentity, ctx: CallContext
) -> None:
    bad = CallContext("not-a-siret", ctx.on)
    with pytest.raises(InvalidInput):
        await Cnav(agencies[1], NoCache(), fixed_clock).retirement(person, bad)
