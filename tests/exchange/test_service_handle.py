"""Handles are given for persons an agency may know, never for an identity no agency knows."""

from __future__ import annotations

from typing import Any, cast

from connectors import Connectors, NotFound, PivotIdentity
from exchange import Exchange, PersonReference, PolicyDecider, Pseudonyms
from tests.exchange.fakes import auditor
from tests.exchange.test_service import (
    CATALOGUE,
    DEPARTEMENT,
    PERSON,
    RSA,
    Consents,
    FakeConnectors,
    _exchange,
    _request,
)

SECRET = b"s" * 32


class _Unknown:
    """An agency that does not know the person for the methods in ``unknown``."""

    def __init__(self, agency: Any, unknown: set[str]) -> None:
        self._agency = agency
        self._unknown = unknown

    def __getattr__(self, method: str) -> Any:
        if method not in self._unknown:
            return getattr(self._agency, method)

        async def call(*args: Any) -> object:
            raise NotFound("unknown person", provider="INSEE")

        return call


def _connectors(unknown: set[str]) -> FakeConnectors:
    fake = FakeConnectors()
    for name in ("civil_registry", "cnaf"):
        setattr(fake, name, _Unknown(getattr(fake, name), unknown))
    return fake


async def test_an_identity_no_agency_knows_gets_no_handle() -> None:
    fake = _connectors({"civil_status", "benefit"})
    view = await _exchange(fake).person(
        _request({"identity", "benefits.rsa"}, caller=DEPARTEMENT, context=RSA)
    )
    assert not view.fields
    assert {f.code for f in view.failures.values()} == {"NOT_FOUND"}
    assert view.handle is None
    assert view.access_id  # the access is still logged


async def test_one_agency_knowing_the_person_is_enough() -> None:
    fake = _connectors({"civil_status"})
    view = await _exchange(fake).person(
        _request({"identity", "benefits.rsa"}, caller=DEPARTEMENT, context=RSA)
    )
    assert view.failures["identity"].code == "NOT_FOUND"
    assert view.handle is not None


async def test_nothing_asked_says_nothing_and_the_handle_is_given() -> None:
    view = await _exchange(_connectors({"civil_status"})).person(
        _request(set(), caller=DEPARTEMENT, context=RSA)
    )
    assert view.handle is not None
    again = await _exchange(_connectors(set())).person(
        _request({"identity"}, PersonReference(handle=view.handle), DEPARTEMENT, RSA)
    )
    assert again.handle == view.handle


async def test_the_handle_is_sealed_only_when_read_and_once() -> None:
    sealed: list[str] = []

    class Counting(Pseudonyms):
        def handle(self, identity: PivotIdentity, sector: str) -> str:
            sealed.append(sector)
            return super().handle(identity, sector)

    pseudonyms = Counting(SECRET)
    exchange = Exchange(
        cast(Connectors, FakeConnectors()),
        PolicyDecider(CATALOGUE, Consents(), pseudonyms),
        pseudonyms,
        auditor(pseudonyms, None),
    )
    view = await exchange.person(_request({"benefits.rsa"}, caller=DEPARTEMENT, context=RSA))
    assert sealed == []  # the answer did not ask for it
    handle = view.handle
    assert handle is not None and sealed == [DEPARTEMENT.sector]
    assert view.handle == handle and len(sealed) == 1
    assert pseudonyms.open(handle, DEPARTEMENT.sector) == PERSON
