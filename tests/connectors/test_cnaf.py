from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors import (
    CallContext,
    Cnaf,
    FranceConnectToken,
    InvalidInput,
    NoCache,
    PivotIdentity,
    UpstreamInvalid,
)
from connectors.transport import RawResponse
from tests.connectors.conftest import FakeTransport, Request, answer, fixed_clock, make_client

QF = {
    "quotient_familial": {"fournisseur": "CNAF", "valeur": 700, "annee": 2025, "mois": 2},
    "allocataires": [
        {
            "nom_naissance": "DURAND",
            "nom_usage": None,
            "prenoms": "ANNE",
            "date_naissance": "1982-01-01",
            "sexe": "F",
        }
    ],
    "enfants": [
        {
            "nom_naissance": "MARTIN",
            "nom_usage": None,
            "prenoms": "SAMUEL PAUL",
            "date_naissance": "1980-09-20",
            "sexe": "M",
        },
        {
            "nom_naissance": "MARTIN",
            "nom_usage": None,
            "prenoms": "LEO",
            "date_naissance": "2020-00-00",
            "sexe": "M",
        },
    ],
    "adresse": None,
}


def cnaf(data: dict[str, Any], seen: list[Request]) -> Cnaf:
    def handler(request: Request) -> RawResponse:
        seen.append(request)
        return answer(200, json={"data": data, "links": {}, "meta": {}})

    http = make_client("https://api.example", transport=FakeTransport(handler))
    return Cnaf(http, NoCache(), fixed_clock)


async def test_family_quotient_finds_the_person_among_the_household(
    person: PivotIdentity, ctx: CallContext
) -> None:
    seen: list[Request] = []
    qf = await cnaf(QF, seen).family_quotient(person, ctx, year=2025, month=2)
    assert qf.value == 700 and qf.children[1].birth_date is None
    assert seen[0].url.query["annee"] == "2025" and seen[0].url.query["mois"] == "2"


async def test_family_quotient_about_another_household(ctx: CallContext) -> None:
    someone = PivotIdentity("DUPONT", ("JEAN",), date(1970, 1, 1), "M", "99100", "75056")
    with pytest.raises(UpstreamInvalid, match="another person"):
        await cnaf(QF, []).family_quotient(someone, ctx)


async def test_france_connect_mode_uses_the_citizen_token(ctx: CallContext) -> None:
    seen: list[Request] = []
    token = FranceConnectToken("citizen-access-token")
    status = await cnaf(
        {"est_beneficiaire": False, "avec_majoration": None, "date_debut_droit": None}, seen
    ).benefit(token, "ppa", ctx)
    assert status.receiving is False and status.benefit == "ppa"
    assert seen[0].url.path == "/v3/dss/prime_activite/france_connect"
    assert seen[0].headers["authorization"] == "Bearer citizen-access-token"
    assert set(seen[0].url.query) == {"recipient"}


async def test_unknown_benefit_and_half_given_quotient_month(
    person: PivotIdentity, ctx: CallContext
) -> None:
    with pytest.raises(InvalidInput):
        await cnaf({}, []).benefit(person, "rmi", ctx)
    with pytest.raises(InvalidInput):
        await cnaf({}, []).family_quotient(person, ctx, year=2025)


async def test_asf_has_no_increase(person: PivotIdentity, ctx: CallContext) -> None:
    data = {"est_beneficiaire": True, "date_debut_droit": "2024-02-30"}
    with pytest.raises(UpstreamInvalid, match="date_debut_droit"):
        await cnaf(data, []).benefit(person, "asf", ctx)
    data["date_debut_droit"] = "2024-02-28"
    status = await cnaf(data, []).benefit(person, "asf", ctx)
    assert status.with_increase is None and status.since == date(2024, 2, 28)


async def test_family_quotient_keeps_the_address_parts_apart(
    person: PivotIdentity, ctx: CallContext
) -> None:
    address = {
        "destinataire": "Madame DURAND ANNE",
        "complement_information": "APPARTEMENT 12 ETAGE 3",
        "complement_information_geographique": "",
        "numero_libelle_voie": "4 RUE DES ACACIAS",
        "lieu_dit": "LE HAUT BOIS",
        "code_postal_ville": "97100 BASSE TERRE",
        "pays": "FRANCE",
    }
    qf = await cnaf({**QF, "adresse": address}, []).family_quotient(person, ctx)
    got = qf.address
    assert got is not None
    assert (got.recipient, got.complement, got.building) == (
        "Madame DURAND ANNE",
        "APPARTEMENT 12 ETAGE 3",
        None,
    )
    assert (got.street, got.locality) == ("4 RUE DES ACACIAS", "LE HAUT BOIS")
    assert (got.postal_code, got.city, got.country) == ("97100", "BASSE TERRE", "FRANCE")
    # The agency's lines as before, its town line last.
    assert got.lines[0] == "Madame DURAND ANNE" and got.lines[-1] == "97100 BASSE TERRE"
