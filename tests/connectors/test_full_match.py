"""Every identifier check holds for the whole value: ``$`` also matches before a final line
break, so a pattern tried with ``re.match`` lets ``"99100\\n"`` through."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors import CallContext, FranceConnectToken, InvalidInput, PivotIdentity
from connectors.api_particulier import check_recipient
from connectors.civil_registry import Traits
from connectors.failures import codes_of, provider_of
from connectors.fields import Malformed, month, parse_day
from connectors.france_travail import check_identifier, email_address, mobile_number
from connectors.ours import month_window

BORN = date(1980, 9, 20)


def pivot(**changes: Any) -> PivotIdentity:
    values: dict[str, Any] = {
        "birth_name": "MARTIN",
        "given_names": ("SAMUEL",),
        "birth_date": BORN,
        "sex": "M",
        "birth_country": "99100",
        "birth_place": "08480",
    }
    values.update(changes)
    return PivotIdentity(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_name": "MARTIN\n"},
        {"usage_name": "DUPONT\n"},
        {"given_names": ("SAMUEL\n",)},
        {"birth_country": "99100\n"},
        {"birth_place": "08480\n"},
        {"birth_country": "99404\n", "birth_place": None},
    ],
)
def test_pivot_identity_values_are_checked_whole(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        pivot(**changes)


def test_traits_are_checked_whole() -> None:
    with pytest.raises(InvalidInput):
        Traits("MARTIN\n", ("SAMUEL",), BORN, "M")
    with pytest.raises(InvalidInput):
        Traits("MARTIN", ("SAMUEL\n",), BORN, "M")


def test_france_connect_token_is_checked_whole() -> None:
    with pytest.raises(InvalidInput):
        FranceConnectToken("abcdefgh-token\n")


def test_recipient_is_checked_whole() -> None:
    with pytest.raises(InvalidInput):
        check_recipient(CallContext("13002526500013\n", BORN), "TEST")


def test_france_travail_identifier_and_contacts_are_checked_whole() -> None:
    with pytest.raises(InvalidInput):
        check_identifier("abc123\n")
    assert email_address("jean@example.org\n") == "jean@example.org"  # stripped first
    assert email_address("jean@exam\nple.org") is None
    assert mobile_number("0612345678") == "+33612345678"
    assert mobile_number("+33612345678\n") == "+33612345678"  # whitespace is dropped
    assert mobile_number("06\u0661\u0662345678") is None  # non-ASCII digits


@pytest.mark.parametrize("value", ["2020-01-01\n", "\u0662\u0660\u0662\u0660-01-01"])
def test_days_are_checked_whole(value: str) -> None:
    with pytest.raises(Malformed):
        parse_day(value, "d")


def test_months_are_checked_whole() -> None:
    with pytest.raises(Malformed):
        month({"m": "2020-01\n"}, "m")
    with pytest.raises(InvalidInput):
        month_window("2024-01\n", "2024-12", "TEST")


def test_error_bodies_codes_and_providers_are_checked_whole() -> None:
    errors = [{"code": "37003\n", "meta": {"provider": "CNAV\n"}}]
    assert codes_of(errors) == ()
    assert provider_of(errors, "fallback") == "fallback"
