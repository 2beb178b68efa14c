from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest

from connectors import (
    CallContext,
    Cnous,
    FranceConnectToken,
    InvalidInput,
    MemoryCache,
    Mesri,
    NoCache,
    NotFound,
    PivotIdentity,
    Provenance,
    StudentGrant,
    UpstreamInvalid,
    UpstreamUnavailable,
)
from connectors.cnous import parse_grant, query_params
from connectors.transport import RawResponse
from tests.connectors.conftest import (
    NOW,
    FakeTransport,
    Request,
    answer,
    fixed_clock,
    make_client,
)

IDENTITY_BIRTH = date(1980, 9, 20)
IDENTITY = {
    "nom": "MARTIN",
    "prenoms": ["SAMUEL", "PAUL"],
    "date_naissance": "1980-09-20",
    "nom_commune_naissance": "Charleville-Mézières",
    "sexe": "M",
}
EMAIL = "samuel.martin@example.org"


def grant_data(
    *,
    echelon: Any = "5",
    provisional: Any = False,
    start: Any = "2024-09-01",
    months: Any = 10,
    identite: dict[str, Any] | None = IDENTITY,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "est_boursier": True,
        "periode_versement_bourse": {"date_rentree": start, "duree": months},
        "etablissement_etudes": {"nom_commune": "Reims", "nom_etablissement": "URCA"},
        "echelon_bourse": {"echelon": echelon, "echelon_bourse_regionale_provisoire": provisional},
        "email": EMAIL,
    }
    if identite is not None:
        data["identite"] = identite
    return data


def ok(data: dict[str, Any]) -> RawResponse:
    return answer(200, json={"data": data, "links": {}, "meta": {}})


def error(status: int, code: str, provider: str) -> RawResponse:
    body = {"errors": [{"code": code, "title": "t", "detail": "d", "meta": {"provider": provider}}]}
    return answer(status, json=body)


def agency(response: RawResponse, seen: list[Request] | None = None, cache: Any = None) -> Cnous:
    def handler(request: Request) -> RawResponse:
        if seen is not None:
            seen.append(request)
        return response

    http = make_client("https://api.example", transport=FakeTransport(handler))
    return Cnous(http, cache if cache is not None else NoCache(), fixed_clock)


PROVENANCE = Provenance("CNOUS", "api_particulier.cnous.etudiant_boursier", NOW.date(), NOW)


def holder(start: date, months: int) -> StudentGrant:
    return StudentGrant(True, "1", False, start, months, "x", "y", PROVENANCE)


class RecordingCache:
    """A shared cache (like Redis): keeps the bytes it is given."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self.values[key] = value

    async def aclose(self) -> None:
        return None


async def test_a_grant_holder(person: PivotIdentity, ctx: CallContext) -> None:
    seen: list[Request] = []
    grant = await agency(ok(grant_data(echelon="0bis", provisional=True)), seen).student_grant(
        person, ctx
    )
    assert grant.holder and grant.echelon == "0bis" and grant.regional_provisional
    assert (grant.start, grant.months) == (date(2024, 9, 1), 10)
    assert (grant.establishment_name, grant.establishment_commune) == ("URCA", "Reims")
    assert grant.provenance.agency == "CNOUS"
    assert grant.provenance.source == "api_particulier.cnous.etudiant_boursier"
    assert seen[0].url.path == "/v3/cnous/etudiant_boursier/identite"
    assert seen[0].headers["Authorization"] == "Bearer tok"


async def test_civility_parameters(person: PivotIdentity, ctx: CallContext) -> None:
    seen: list[Request] = []
    await agency(ok(grant_data()), seen).student_grant(person, ctx)
    query = seen[0].url.query
    # Every given name, the birth commune, no birth country: the CNOUS's parameters.
    assert query.getall("prenoms[]") == ["SAMUEL", "PAUL"]
    assert query["nomNaissance"] == "MARTIN"
    assert (
        query["anneeDateNaissance"],
        query["moisDateNaissance"],
        query["jourDateNaissance"],
    ) == ("1980", "9", "20")
    assert query["sexeEtatCivil"] == "M"
    assert query["codeCogInseeCommuneNaissance"] == "08480"
    assert query["recipient"] == ctx.recipient
    assert "codeCogInseePaysNaissance" not in query and "nomUsage" not in query


def test_up_to_three_given_names() -> None:
    three = PivotIdentity(
        "DURANT", ("PIERRE", "RICHARD", "JEAN"), IDENTITY_BIRTH, "M", "99100", "92050"
    )
    assert [v for k, v in query_params(three) if k == "prenoms[]"] == ["PIERRE", "RICHARD", "JEAN"]


async def test_born_abroad_is_named_by_the_country(ctx: CallContext) -> None:
    seen: list[Request] = []
    abroad = PivotIdentity("MARTIN", ("SAMUEL",), IDENTITY_BIRTH, "M", "99138")
    await agency(ok(grant_data()), seen).student_grant(abroad, ctx)
    query = seen[0].url.query
    assert query["codeCogInseeCommuneNaissance"] == "99138"
    assert "codeCogInseePaysNaissance" not in query


async def test_no_grant_holder_found_is_not_a_grant_holder(
    person: PivotIdentity, ctx: CallContext
) -> None:
    grant = await agency(error(404, "26003", "CNOUS")).student_grant(person, ctx)
    assert not grant.holder
    assert (grant.echelon, grant.start, grant.months, grant.establishment_name) == (
        None,
        None,
        None,
        None,
    )
    assert not grant.paid_in("2024-10")
    assert grant.provenance.agency == "CNOUS"


async def test_a_200_saying_not_a_grant_holder(person: PivotIdentity, ctx: CallContext) -> None:
    grant = await agency(ok({**grant_data(), "est_boursier": False})).student_grant(person, ctx)
    assert not grant.holder and grant.echelon is None and not grant.paid_in("2024-10")


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (error(404, "25003", "MESRI"), NotFound),  # another agency's "no student"
        (error(404, "26999", "CNOUS"), NotFound),  # not the "no grant holder" code
        (answer(404, content=b"Not Found"), UpstreamUnavailable),  # a wrong route
    ],
)
async def test_other_404s_are_not_an_answer(
    person: PivotIdentity, ctx: CallContext, response: RawResponse, kind: type[Exception]
) -> None:
    with pytest.raises(kind):
        await agency(response).student_grant(person, ctx)


@pytest.mark.parametrize(
    "other",
    [
        {**IDENTITY, "date_naissance": "1981-09-20"},
        {**IDENTITY, "nom": "MARTINEZ"},
        {**IDENTITY, "prenoms": ["PAUL"]},
    ],
)
async def test_answer_about_another_person_is_refused(
    person: PivotIdentity, ctx: CallContext, other: dict[str, Any]
) -> None:
    with pytest.raises(UpstreamInvalid, match="another person"):
        await agency(ok(grant_data(identite=other))).student_grant(person, ctx)


async def test_a_non_holder_answer_about_another_person_is_refused(
    person: PivotIdentity, ctx: CallContext
) -> None:
    other = {**IDENTITY, "nom": "DURANT"}
    data = {**grant_data(identite=other), "est_boursier": False}
    with pytest.raises(UpstreamInvalid, match="another person"):
        await agency(ok(data)).student_grant(person, ctx)


@pytest.mark.parametrize(
    "echoed",
    [
        {**IDENTITY, "nom": "Martin", "prenoms": ["Samuel"]},  # case and one name only
        {**IDENTITY, "prenoms": ["SAMUEL PAUL"]},  # the given names as one
        {**IDENTITY, "prenoms": ["Sàmuel", "Paul"]},  # accents
    ],
)
async def test_the_same_person_written_otherwise(
    person: PivotIdentity, ctx: CallContext, echoed: dict[str, Any]
) -> None:
    assert (await agency(ok(grant_data(identite=echoed))).student_grant(person, ctx)).holder


@pytest.mark.parametrize(
    "data",
    [
        grant_data(echelon="8"),  # not an échelon
        grant_data(echelon="0"),
        grant_data(echelon=5),  # a number, not the enum's text
        grant_data(provisional=None),
        grant_data(start="2024-13-01"),
        grant_data(start="01/09/2024"),
        grant_data(months=0),
        grant_data(months=-10),
        grant_data(months=10.5),
        grant_data(months=13),  # more than the academic year the answer describes
        grant_data(months="10"),
        grant_data(months=True),
        grant_data(identite=None),  # identity mode: the echoed identity is required
        grant_data(identite={**IDENTITY, "prenoms": "SAMUEL"}),  # a list, not a text
        {**grant_data(), "est_boursier": "oui"},
        {k: v for k, v in grant_data().items() if k != "est_boursier"},
        {k: v for k, v in grant_data().items() if k != "periode_versement_bourse"},
        {**grant_data(), "etablissement_etudes": {"nom_commune": "Reims"}},
        {**grant_data(), "echelon_bourse": None},
    ],
)
async def test_malformed_answers_are_refused(
    person: PivotIdentity, ctx: CallContext, data: dict[str, Any]
) -> None:
    with pytest.raises(UpstreamInvalid, match="malformed"):
        await agency(ok(data)).student_grant(person, ctx)


def test_months_as_a_whole_number_written_as_a_float() -> None:
    data = grant_data(months=12.0)
    assert parse_grant(FranceConnectToken("citizen-access-token"), data, PROVENANCE).months == 12


async def test_france_connect_mode(ctx: CallContext) -> None:
    seen: list[Request] = []
    cnous = agency(ok(grant_data(identite=None)), seen)
    grant = await cnous.student_grant(FranceConnectToken("citizen-access-token"), ctx)
    assert grant.holder and grant.echelon == "5"
    assert seen[0].url.path == "/v3/cnous/etudiant_boursier/france_connect"
    assert seen[0].headers["Authorization"] == "Bearer citizen-access-token"
    assert set(seen[0].url.query) == {"recipient"}


async def test_france_connect_no_grant_holder(ctx: CallContext) -> None:
    grant = await agency(error(404, "26003", "CNOUS")).student_grant(
        FranceConnectToken("citizen-access-token"), ctx
    )
    assert not grant.holder


async def test_a_bad_recipient_is_refused_before_the_call(person: PivotIdentity) -> None:
    seen: list[Request] = []
    with pytest.raises(InvalidInput, match="SIRET"):
        await agency(ok(grant_data()), seen).student_grant(
            person, CallContext(recipient="123", on=date(2025, 3, 14))
        )
    assert seen == []


async def test_the_email_is_kept_nowhere(person: PivotIdentity, ctx: CallContext) -> None:
    cache = RecordingCache()
    cnous = agency(ok(grant_data()), cache=cache)
    grant = await cnous.student_grant(person, ctx)
    assert EMAIL not in repr(grant)
    assert not any(EMAIL.encode() in v or b"email" in v for v in cache.values.values())
    # The cached answer is still a complete one: a hit serves the same grant.
    again = await cnous.student_grant(person, ctx)
    assert again.provenance.cached and again.echelon == grant.echelon
    assert orjson.loads(next(iter(cache.values.values())))["data"]["est_boursier"] is True


async def test_cached_without_the_day_asked(person: PivotIdentity, ctx: CallContext) -> None:
    seen: list[Request] = []
    cnous = agency(ok(grant_data()), seen, cache=MemoryCache(10))
    await cnous.student_grant(person, ctx)
    later = CallContext(recipient=ctx.recipient, on=date(2025, 4, 1))
    assert (await cnous.student_grant(person, later)).provenance.cached
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("month", "paid"),
    [
        ("2024-08", False),  # before the start month
        ("2024-09", True),  # the start month is included
        ("2025-06", True),  # the last of ten months
        ("2025-07", False),  # start + months is excluded
    ],
)
def test_paid_in_months(month: str, paid: bool) -> None:
    assert holder(date(2024, 9, 1), 10).paid_in(month) is paid


def test_paid_in_a_start_mid_month_and_across_years() -> None:
    grant = holder(date(2024, 9, 15), 12)
    assert grant.paid_in("2024-09") and grant.paid_in("2025-08") and not grant.paid_in("2025-09")


def test_a_non_holder_is_never_paid() -> None:
    grant = StudentGrant(False, None, False, None, None, None, None, PROVENANCE)
    assert not any(grant.paid_in(f"2024-{m:02d}") for m in range(1, 13))


async def test_a_cnous_outage_leaves_the_mesri_answering(
    person: PivotIdentity, ctx: CallContext
) -> None:
    def handler(request: Request) -> RawResponse:
        if "/cnous/" in request.url.path:
            return error(502, "26999", "CNOUS")
        return error(404, "25003", "MESRI")

    http = make_client("https://api.example", transport=FakeTransport(handler))
    cnous, mesri = Cnous(http, NoCache(), fixed_clock), Mesri(http, NoCache(), fixed_clock)
    for _ in range(5):
        with pytest.raises(UpstreamUnavailable):
            await cnous.student_grant(person, ctx)
    assert http.circuits()["CNOUS"] == "open"
    assert not (await mesri.student_status(person, ctx)).registered
    assert http.circuits()["MESRI"] == "closed"
