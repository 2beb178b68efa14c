"""Purposes are discoverable: the `purposes` query, and the refusal of an unknown purpose."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from graphql import GraphQLError

from connectors import FranceConnectToken, PivotIdentity
from exchange import Citizen, Client
from exchange.errors import AccessRefused, InvalidRequest
from policies import load_catalogue, usable_purposes
from schema import format_error
from schema.build import SchemaLimits, build_schema
from schema.context import RequestContext
from schema.errors import typed

CATALOGUE = load_catalogue()
ON = date(2025, 6, 2)
QUERY = """{ purposes { id label lawfulGround consentRequired inForce retentionDays
  legalBasis { title href } categories { id label fields }
  provisions { start end categories { id } }
  partner { legalBasis { title } categories { id } } } }"""


def _context(caller: Client | Citizen) -> RequestContext:
    unused = cast(Any, None)  # the purposes read the catalogue alone
    return RequestContext(
        exchange=unused,
        consents=unused,
        oversight=unused,
        eligibility=unused,
        declarations=unused,
        catalogue=CATALOGUE,
        caller=caller,
        now=datetime(2025, 6, 2, 9, tzinfo=UTC),
        on=ON,
    )


async def _purposes(caller: Client | Citizen) -> list[dict[str, Any]]:
    result = await build_schema(SchemaLimits()).execute(QUERY, context_value=_context(caller))
    assert result.errors is None
    assert result.data is not None
    return cast(list[dict[str, Any]], result.data["purposes"])


async def test_a_client_sees_the_purposes_it_may_declare() -> None:
    found = await _purposes(Client("demo-agency-app", frozenset({"person:read"})))
    ids = [p["id"] for p in found]
    assert ids == list(usable_purposes(CATALOGUE, client_id="demo-agency-app", caller="client"))
    assert "rsa_instruction" in ids and "css_attribution" not in ids
    rsa = next(p for p in found if p["id"] == "rsa_instruction")
    assert rsa["lawfulGround"] == "PUBLIC_TASK" and rsa["consentRequired"] is False
    assert rsa["inForce"] is True and rsa["retentionDays"] == 1095
    assert "L262-40" in rsa["legalBasis"]["title"]
    assert [p["start"] for p in rsa["provisions"]] == ["2009-06-01", "2025-01-01"]
    assert rsa["provisions"][0]["end"] == "2025-01-01" and rsa["provisions"][1]["end"] is None
    # Today's categories are the 2025 provision's, each with the fields it covers.
    today = {c["id"]: c["fields"] for c in rsa["categories"]}
    assert "emploi" in today and today["ressources"] == ["resources"]
    assert today["prestations_caf"] == sorted(CATALOGUE.categories["prestations_caf"].fields)
    assert {c["id"] for c in rsa["partner"]["categories"]} >= {"identite", "ressources"}


async def test_a_citizen_sees_the_citizens_purposes() -> None:
    identity = PivotIdentity("DUPONT", ("Jean",), date(1980, 1, 1), "M", "99100", "75056")
    citizen = Citizen(identity, FranceConnectToken("t" * 32))
    found = await _purposes(citizen)
    ids = [p["id"] for p in found]
    assert ids == list(usable_purposes(CATALOGUE, client_id="citizen", caller="citizen"))
    assert "self_access" in ids and "rsa_instruction" not in ids


async def test_a_client_no_purpose_names_sees_none() -> None:
    assert await _purposes(Client("nobody", frozenset({"person:read"}))) == []


def test_an_unknown_purpose_is_refused_with_the_valid_ones() -> None:
    valid = ("eligibility_check", "rsa_instruction")
    refused = AccessRefused("purpose 'x' is not in the policy catalogue", valid_purposes=valid)
    during = GraphQLError("x", original_error=refused, path=["person"])
    out = format_error(typed(during))
    assert out["extensions"] == {"code": "FORBIDDEN", "validPurposes": list(valid)}
    # Other refusals carry no list.
    plain = GraphQLError("x", original_error=AccessRefused("no"), path=["person"])
    assert format_error(typed(plain))["extensions"] == {"code": "FORBIDDEN"}
    empty = AccessRefused("unknown", valid_purposes=())
    during = GraphQLError("x", original_error=empty, path=["person"])
    assert format_error(typed(during))["extensions"]["validPurposes"] == []
    consent = InvalidRequest("unknown purpose 'x'", valid_purposes=("citizen_prefill",))
    during = GraphQLError("x", original_error=consent, path=["grantConsent"])
    assert format_error(typed(during))["extensions"] == {
        "code": "BAD_USER_INPUT",
        "validPurposes": ["citizen_prefill"],
    }
