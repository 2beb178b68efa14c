from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors import (
    CallContext,
    FranceConnectToken,
    Mesri,
    NoCache,
    NotFound,
    PivotIdentity,
    UpstreamInvalid,
    UpstreamUnavailable,
)
from connectors.transport import RawResponse
from tests.connectors.conftest import FakeTransport, Request, answer, fixed_clock, make_client

IDENTITY_BIRTH = date(1980, 9, 20)
IDENTITY = {"nom_naissance": "Martin", "prenom": "Samuel", "date_naissance": "1980-09-20"}


def admission(start: str, end: str, enrolled: bool = True, code: str = "RF1") -> dict[str, Any]:
    return {
        "date_debut": start,
        "date_fin": end,
        "est_inscrit": enrolled,
        "regime_formation": {"libelle": "x", "code": code},
        "code_cog_insee_commune": "75056",
        "etablissement_etudes": {"uai": "0751234U", "nom": "Université"},
    }


def agency(response: RawResponse, seen: list[Request] | None = None) -> Mesri:
    def handler(request: Request) -> RawResponse:
        if seen is not None:
            seen.append(request)
        return response

    http = make_client("https://api.example", transport=FakeTransport(handler))
    return Mesri(http, NoCache(), fixed_clock)


def ok(*admissions: dict[str, Any], identite: dict[str, str] = IDENTITY) -> RawResponse:
    data = {"identite": identite, "admissions": list(admissions)}
    return answer(200, json={"data": data, "links": {}, "meta": {}})


def error(status: int, code: str, provider: str) -> RawResponse:
    body = {"errors": [{"code": code, "title": "t", "detail": "d", "meta": {"provider": provider}}]}
    return answer(status, json=body)


async def test_enrolled_on_the_day_asked(person: PivotIdentity, ctx: CallContext) -> None:
    seen: list[Request] = []
    mesri = agency(
        ok(admission("2023-09-01", "2024-08-31"), admission("2024-09-01", "2025-08-31")), seen
    )
    status = await mesri.student_status(person, ctx)
    assert status.registered and status.in_initial_training
    assert [a.start.year for a in status.admissions] == [2023, 2024]
    assert status.provenance.agency == "MESRI"
    query = seen[0].url.query
    assert seen[0].url.path == "/v3/mesri/statut_etudiant/identite"
    # One given name, the birth commune, no birth country: the MESRI's parameters.
    assert query.getall("prenoms[]") == ["SAMUEL"]
    assert query["codeCogInseeCommuneNaissance"] == "08480"
    assert "codeCogInseePaysNaissance" not in query


async def test_born_abroad_is_named_by_the_country(ctx: CallContext) -> None:
    seen: list[Request] = []
    abroad = PivotIdentity("MARTIN", ("SAMUEL",), IDENTITY_BIRTH, "M", "99138")
    await agency(ok(admission("2024-09-01", "2025-08-31")), seen).student_status(abroad, ctx)
    assert seen[0].url.query["codeCogInseeCommuneNaissance"] == "99138"


@pytest.mark.parametrize(
    ("admissions", "registered", "initial"),
    [
        ([admission("2024-09-01", "2025-08-31", enrolled=False)], False, False),  # admitted only
        ([admission("2023-09-01", "2024-08-31")], False, False),  # a past year
        ([admission("2024-09-01", "2025-08-31", code="RF5")], True, False),  # continuing training
        ([admission("2024-09-01", "2025-08-31", code="RF4")], True, False),  # apprenticeship
    ],
)
async def test_registration_and_initial_training(
    person: PivotIdentity,
    ctx: CallContext,
    admissions: list[dict[str, Any]],
    registered: bool,
    initial: bool,
) -> None:
    status = await agency(ok(*admissions)).student_status(person, ctx)
    assert (status.registered, status.in_initial_training) == (registered, initial)


async def test_no_student_found_is_not_a_student(person: PivotIdentity, ctx: CallContext) -> None:
    status = await agency(error(404, "25003", "MESRI")).student_status(person, ctx)
    assert (status.registered, status.in_initial_training, status.admissions) == (False, False, ())


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (error(404, "37003", "CNAV"), NotFound),  # another agency's person not found
        (error(404, "25999", "MESRI"), NotFound),  # not the "no student" code
        (answer(404, content=b"Not Found"), UpstreamUnavailable),  # a wrong route
    ],
)
async def test_other_404s_are_not_an_answer(
    person: PivotIdentity, ctx: CallContext, response: RawResponse, kind: type[Exception]
) -> None:
    with pytest.raises(kind):
        await agency(response).student_status(person, ctx)


async def test_answer_about_another_person_is_refused(
    person: PivotIdentity, ctx: CallContext
) -> None:
    other = {**IDENTITY, "date_naissance": "1981-09-20"}
    with pytest.raises(UpstreamInvalid, match="another person"):
        await agency(ok(admission("2024-09-01", "2025-08-31"), identite=other)).student_status(
            person, ctx
        )


async def test_france_connect_mode(ctx: CallContext) -> None:
    seen: list[Request] = []
    data = {"admissions": [admission("2024-09-01", "2025-08-31")]}
    mesri = agency(answer(200, json={"data": data, "links": {}, "meta": {}}), seen)
    status = await mesri.student_status(FranceConnectToken("citizen-access-token"), ctx)
    assert status.registered
    assert seen[0].url.path == "/v3/mesri/statut_etudiant/france_connect"
    assert seen[0].headers["Authorization"] == "Bearer citizen-access-token"


async def test_malformed_period_is_refused(person: PivotIdentity, ctx: CallContext) -> None:
    with pytest.raises(UpstreamInvalid, match="malformed"):
        await agency(ok(admission("2025-08-31", "2024-09-01"))).student_status(person, ctx)
