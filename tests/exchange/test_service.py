"""The exchange pipeline with a fake connector bundle (a unit test of this module only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import pytest

from connectors import (
    CallContext,
    Connectors,
    FranceConnectToken,
    PivotIdentity,
    UpstreamTimeout,
)
from exchange import (
    FIELDS,
    AccessContext,
    Client,
    Decision,
    Exchange,
    InvalidRequest,
    PersonRequest,
    ScopeDecider,
    Subjects,
)

ON = date(2025, 7, 1)
CTX = AccessContext("rsa_instruction", "13002526500013", "case-42")
READER = Client("app", frozenset({"person:read"}))
PERSON = PivotIdentity("DUPONT", ("JEAN",), date(1980, 1, 2), "M", "99100", "69123")


class _Agency:
    def __init__(self, calls: list[str], fail: set[str]) -> None:
        self._calls = calls
        self._fail = fail

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any) -> object:
            self._calls.append(method)
            if method in self._fail:
                raise UpstreamTimeout("no answer in time", provider="CNAF")
            return {"method": method, "args": args}

        return call


class FakeConnectors:
    def __init__(self, fail: set[str] | None = None) -> None:
        self.calls: list[str] = []
        for name in (
            "cnaf",
            "france_travail",
            "gip_mds",
            "dgfip",
            "cnav",
            "cnam",
            "housing",
            "civil_registry",
        ):
            setattr(self, name, _Agency(self.calls, fail or set()))


def _exchange(fake: FakeConnectors, decider: Any = None) -> Exchange:
    return Exchange(cast(Connectors, fake), decider or ScopeDecider())


def _request(
    fields: set[str], subjects: Subjects | None = None, client: Client = READER
) -> PersonRequest:
    return PersonRequest(client, subjects or Subjects(PERSON), CTX, frozenset(fields), ON)


async def test_only_sources_of_selected_fields_are_called() -> None:
    fake = FakeConnectors()
    view = await _exchange(fake).person(_request({"benefits.rsa", "pension", "benefits.aspa"}))
    # pension and benefits.aspa share the CNAV answer: one call.
    assert sorted(fake.calls) == ["benefit", "retirement"]
    assert view.fields["pension"] is view.fields["benefits.aspa"]
    assert not view.failures


async def test_a_failing_source_fails_only_its_fields() -> None:
    fake = FakeConnectors(fail={"benefit"})
    view = await _exchange(fake).person(_request({"benefits.rsa", "identity"}))
    assert view.failures["benefits.rsa"].code == "UPSTREAM_TIMEOUT"
    assert view.failures["benefits.rsa"].provider == "CNAF"
    assert "identity" in view.fields


async def test_denied_fields_are_never_fetched() -> None:
    fake = FakeConnectors()
    stranger = Client("other", frozenset())
    view = await _exchange(fake).person(_request(set(FIELDS), client=stranger))
    assert fake.calls == []
    assert {f.code for f in view.failures.values()} == {"FORBIDDEN"}


async def test_a_france_connect_subject_reaches_only_what_accepts_it() -> None:
    fake = FakeConnectors()
    subjects = Subjects(FranceConnectToken("fc-token-123456"))
    view = await _exchange(fake).person(_request({"benefits.rsa", "resources"}, subjects))
    assert fake.calls == ["benefit"]
    assert view.failures["resources"].code == "BAD_USER_INPUT"


async def test_employment_needs_the_france_travail_identifier() -> None:
    fake = FakeConnectors()
    view = await _exchange(fake).person(_request({"employment.status"}))
    assert view.failures["employment.status"].code == "BAD_USER_INPUT"
    assert fake.calls == []
    subjects = Subjects(PERSON, france_travail_id="1234567A")
    view = await _exchange(fake).person(_request({"employment.status"}, subjects))
    assert fake.calls == ["status"]


async def test_unknown_fields_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        await _exchange(FakeConnectors()).person(_request({"secrets"}))


async def test_an_unexpected_defect_is_contained() -> None:
    fake = FakeConnectors()

    class Broken:
        async def benefit(self, *args: Any) -> object:
            raise RuntimeError("bug")

    fake.cnaf = Broken()  # type: ignore[attr-defined]
    view = await _exchange(fake).person(_request({"benefits.rsa", "identity"}))
    assert view.failures["benefits.rsa"].code == "INTERNAL"
    assert "identity" in view.fields


class _OnlyIdentity:
    def decide(
        self, client: Client, context: AccessContext, fields: frozenset[str], on: date
    ) -> Mapping[str, Decision]:
        return {
            f: Decision("allow" if f == "identity" else "deny", "test", ("not for you",), None, "t")
            for f in fields
        }


async def test_the_decider_is_consulted_per_field() -> None:
    fake = FakeConnectors()
    view = await _exchange(fake, _OnlyIdentity()).person(_request({"identity", "resources"}))
    assert fake.calls == ["civil_status"]
    assert view.failures["resources"].message == "not for you"


def test_call_context_is_explicit() -> None:
    assert CallContext(recipient="13002526500013", on=ON).on == ON
