from __future__ import annotations

from typing import Any

import pytest

from connectors import CallContext, FranceTravail, InvalidInput, NoCache, UpstreamInvalid
from connectors.transport import RawResponse
from tests.connectors.conftest import FakeTransport, Request, answer, fixed_clock, make_client


def agency(data: dict[str, Any], seen: list[Request] | None = None) -> FranceTravail:
    def handler(request: Request) -> RawResponse:
        if seen is not None:
            seen.append(request)
        return answer(200, json={"data": data, "links": {}, "meta": {}})

    http = make_client("https://api.example", transport=FakeTransport(handler))
    return FranceTravail(http, NoCache(), fixed_clock)


@pytest.mark.parametrize("identifier", ["", "a/b", "../x", "x" * 33, "é", "a b"])
async def test_identifier_is_validated(identifier: str, ctx: CallContext) -> None:
    with pytest.raises(InvalidInput):
        await agency({}).status(identifier, ctx)


async def test_answer_for_another_identifier_is_refused(ctx: CallContext) -> None:
    with pytest.raises(UpstreamInvalid, match="another person"):
        await agency({"identifiant": "OTHER", "paiements": []}).payments("ME123", ctx)


async def test_status_reads_registration_at_the_reference_date(ctx: CallContext) -> None:
    seen: list[Request] = []
    data = {
        "identifiant": "ME123",
        "inscription": {
            "date_debut": "2024-01-01",
            "date_fin": "2025-03-01",
            "categorie": {"code": 1, "libelle": "X"},
        },
    }
    status = await agency(data, seen).status("ME123", ctx)
    assert status.registered is False  # ended before 2025-03-14
    assert status.registered_since is not None and status.category_code == 1
    assert seen[0].url.path == "/v3/france_travail/statut/identifiant"
    assert seen[0].url.query["identifiant"] == "ME123"


async def test_payments_split_by_kind(ctx: CallContext) -> None:
    data = {
        "identifiant": "ME123",
        "paiements": [
            {
                "date_versement": "2025-02-01",
                "montant_total": 150.0,
                "montant_allocations": 100.0,
                "montant_aides": 50.0,
                "montant_autres": 0.0,
            },
            {"date_versement": "2025-01-01", "montant_total": 80.0},
        ],
    }
    payments = await agency(data).payments("ME123", ctx)
    assert [(p.date.isoformat(), p.kind, p.gross) for p in payments.payments] == [
        ("2025-01-01", "unspecified", 80.0),
        ("2025-02-01", "allowance", 100.0),
        ("2025-02-01", "aid", 50.0),
    ]


async def test_malformed_payment_date(ctx: CallContext) -> None:
    data = {"identifiant": "ME123", "paiements": [{"date_versement": "01/02/2025"}]}
    with pytest.raises(UpstreamInvalid, match="date_versement"):
        await agency(data).payments("ME123", ctx)


async def test_contact_keeps_a_usable_email_and_the_first_mobile(ctx: CallContext) -> None:
    data = {
        "identifiant": "ME123",
        "contact": {
            "email": " jo.martin@example.fr ",
            "telephone": "01 45 67 89 10",
            "telephone2": "07.12.34.56.78",
        },
    }
    contact = await agency(data).contact("ME123", ctx)
    assert contact.email == "jo.martin@example.fr"
    assert contact.mobile == "+33712345678"  # the landline cannot receive a text
    assert contact.provenance.agency == "France Travail"


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("not an address", "1122334455"),
        ("a@b", "+4915112345678"),
        ("x" * 250 + "@example.fr", "06123"),
        (None, None),
    ],
)
async def test_unusable_contact_details_read_as_absent(
    email: str | None, phone: str | None, ctx: CallContext
) -> None:
    data = {
        "identifiant": "ME123",
        "contact": {"email": email, "telephone": phone, "telephone2": None},
    }
    contact = await agency(data).contact("ME123", ctx)
    assert contact.email is None and contact.mobile is None


async def test_contact_of_another_person_or_of_the_wrong_type_is_refused(
    ctx: CallContext,
) -> None:
    with pytest.raises(UpstreamInvalid, match="another person"):
        await agency({"identifiant": "OTHER", "contact": {}}).contact("ME123", ctx)
    with pytest.raises(UpstreamInvalid, match="email"):
        await agency({"identifiant": "ME123", "contact": {"email": 3}}).contact("ME123", ctx)
