"""The exchange pipeline with a fake connector bundle (a unit test of this module only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any, cast

import pytest

from connectors import CallContext, Connectors, FranceConnectToken, PivotIdentity, UpstreamTimeout
from exchange import (
    FIELDS,
    AccessContext,
    AccessRefused,
    Citizen,
    Client,
    Exchange,
    InvalidRequest,
    PersonReference,
    PersonRequest,
    PersonView,
    PolicyDecider,
    Pseudonyms,
)
from policies import Consent, load_catalogue
from tests.exchange.fakes import MemorySink, auditor

ON = date(2025, 7, 1)
EVERYTHING = AccessContext("self_access", "13002526500013", "case-42")
RSA = AccessContext("rsa_instruction", "13002526500013", "case-42")
DEPARTEMENT = Client("demo-agency-app", frozenset({"person:read"}), "social")
PERSON = PivotIdentity("DUPONT", ("JEAN",), date(1980, 1, 2), "M", "99100", "69123")
CATALOGUE = load_catalogue(known_fields=frozenset(FIELDS))
PSEUDONYMS = Pseudonyms(b"s" * 32)
CITIZEN = Citizen(PERSON, FranceConnectToken("fc-token-123456"))


class _Agency:
    def __init__(self, calls: list[str], fail: set[str], args: list[tuple[Any, ...]]) -> None:
        self._calls = calls
        self._fail = fail
        self._args = args

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any) -> object:
            self._calls.append(method)
            self._args.append(args)
            if method in self._fail:
                raise UpstreamTimeout("no answer in time", provider="CNAF")
            return {"method": method, "args": args}

        return call


class FakeConnectors:
    def __init__(self, fail: set[str] | None = None) -> None:
        self.calls: list[str] = []
        self.args: list[tuple[Any, ...]] = []
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
            setattr(self, name, _Agency(self.calls, fail or set(), self.args))


class Consents:
    def __init__(self, consents: Sequence[Consent] = ()) -> None:
        self.consents = list(consents)
        self.reads = 0

    async def active(self, person: str, on: date) -> Sequence[Consent]:
        self.reads += 1
        return [c for c in self.consents if c.person == person and c.active(on)]


def _exchange(
    fake: FakeConnectors, consents: Consents | None = None, sink: MemorySink | None = None
) -> Exchange:
    decider = PolicyDecider(CATALOGUE, consents or Consents(), PSEUDONYMS)
    return Exchange(cast(Connectors, fake), decider, PSEUDONYMS, auditor(PSEUDONYMS, sink))


def _request(
    fields: set[str],
    ref: PersonReference | None = None,
    caller: Client | Citizen = CITIZEN,
    context: AccessContext = EVERYTHING,
) -> PersonRequest:
    if ref is None:
        ref = (
            PersonReference(self_=True)
            if isinstance(caller, Citizen)
            else PersonReference(identity=PERSON)
        )
    return PersonRequest(caller, ref, context, frozenset(fields), ON)


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


async def test_fields_outside_the_purpose_are_never_fetched() -> None:
    fake = FakeConnectors()
    view = await _exchange(fake).person(
        _request({"identity", "pension", "healthCoverage"}, caller=DEPARTEMENT, context=RSA)
    )
    assert fake.calls == ["civil_status"]
    assert {view.failures[f].code for f in ("pension", "healthCoverage")} == {"FORBIDDEN"}
    assert "rsa_instruction" in view.failures["pension"].message


async def test_a_refused_request_fetches_nothing() -> None:
    fake = FakeConnectors()
    stranger = Client("stranger", frozenset({"person:read"}))
    with pytest.raises(AccessRefused):
        await _exchange(fake).person(_request(set(FIELDS), caller=stranger, context=RSA))
    no_scope = Client("demo-agency-app", frozenset())
    with pytest.raises(AccessRefused):
        await _exchange(fake).person(_request({"identity"}, caller=no_scope, context=RSA))
    assert fake.calls == []


async def test_a_citizen_reads_only_themselves() -> None:
    with pytest.raises(AccessRefused):
        await _exchange(FakeConnectors()).person(
            _request({"identity"}, ref=PersonReference(identity=PERSON))
        )


async def test_the_citizen_token_is_used_where_the_agency_takes_it() -> None:
    fake = FakeConnectors()
    await _exchange(fake).person(_request({"benefits.rsa", "resources"}))
    subjects = dict(zip(fake.calls, (a[0] for a in fake.args), strict=True))
    # API Particulier answers in its FranceConnect mode; GIP-MDS takes the pivot identity.
    assert subjects["benefit"] == CITIZEN.token
    assert subjects["resources"] == PERSON


async def test_employment_needs_the_france_travail_identifier() -> None:
    fake = FakeConnectors()
    view = await _exchange(fake).person(_request({"employment.status"}))
    assert view.failures["employment.status"].code == "BAD_USER_INPUT"
    assert fake.calls == []
    ref = PersonReference(self_=True, france_travail_id="1234567A")
    await _exchange(fake).person(_request({"employment.status"}, ref))
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


async def test_consents_are_read_only_for_consent_purposes() -> None:
    consents = Consents()
    await _exchange(FakeConnectors(), consents).person(
        _request({"identity"}, caller=DEPARTEMENT, context=RSA)
    )
    assert consents.reads == 0


async def test_a_consent_purpose_needs_the_persons_consent() -> None:
    form = Client("demo-form-builder", frozenset({"person:read"}), "forms")
    prefill = AccessContext("citizen_prefill", "13002526500013", "form-1")
    consents = Consents()
    fake = FakeConnectors()
    view = await _exchange(fake, consents).person(
        _request({"identity", "resources"}, caller=form, context=prefill)
    )
    assert {f.code for f in view.failures.values()} == {"CONSENT_REQUIRED"}
    assert fake.calls == []
    from datetime import UTC, datetime

    consents.consents.append(
        Consent(
            id="c1",
            person=PSEUDONYMS.pseudonym(PERSON, "consent"),
            client_id="demo-form-builder",
            purpose=None,
            categories=frozenset({"identite"}),
            granted_at=datetime(2025, 6, 1, tzinfo=UTC),
            valid_from=date(2025, 6, 1),
            valid_until=date(2025, 12, 31),
        )
    )
    view = await _exchange(fake, consents).person(
        _request({"identity", "resources"}, caller=form, context=prefill)
    )
    assert "identity" in view.fields
    assert view.failures["resources"].code == "CONSENT_REQUIRED"
    assert fake.calls == ["civil_status"]


async def test_clients_get_their_sector_handle_and_can_use_it() -> None:
    fake = FakeConnectors()
    view = await _exchange(fake).person(_request({"identity"}, caller=DEPARTEMENT, context=RSA))
    assert view.handle is not None
    again = await _exchange(fake).person(
        _request({"identity"}, PersonReference(handle=view.handle), DEPARTEMENT, RSA)
    )
    assert again.handle == view.handle


def test_call_context_is_explicit() -> None:
    assert CallContext(recipient="13002526500013", on=ON).on == ON


async def test_every_access_is_recorded_before_the_answer() -> None:
    sink = MemorySink()
    fake = FakeConnectors(fail={"retirement"})
    view = await _exchange(fake, sink=sink).person(
        _request({"identity", "pension", "healthCoverage"}, caller=DEPARTEMENT, context=RSA)
    )
    (entry,) = sink.entries
    assert entry.id == view.access_id and entry.kind == "person_access"
    assert entry.client == "demo-agency-app" and entry.purpose == "rsa_instruction"
    assert entry.released == ("identity",)
    assert dict(entry.denied)["healthCoverage"].startswith("purpose 'rsa_instruction'")
    assert entry.agencies == ("civil_registry",)
    assert entry.outcome == "partial"
    assert entry.person is not None and "DUPONT" not in entry.person
    assert entry.legal_basis is not None and "L262-40" in entry.legal_basis[0]


async def test_a_refused_request_is_recorded_too() -> None:
    sink = MemorySink()
    stranger = Client("stranger", frozenset({"person:read"}))
    with pytest.raises(AccessRefused):
        await _exchange(FakeConnectors(), sink=sink).person(
            _request({"identity"}, caller=stranger, context=RSA)
        )
    (entry,) = sink.entries
    assert entry.outcome == "refused" and entry.released == () and entry.person is None


async def test_nothing_is_released_when_the_audit_log_fails() -> None:
    from exchange.errors import NotRecorded

    with pytest.raises(NotRecorded):
        await _exchange(FakeConnectors(), sink=MemorySink(broken=True)).person(
            _request({"identity"}, caller=DEPARTEMENT, context=RSA)
        )


async def test_fields_narrowed_once_the_person_is_known_are_neither_decided_nor_read() -> None:
    sink = MemorySink()
    fake = FakeConnectors()
    seen: list[PivotIdentity] = []

    def narrow(person: PivotIdentity) -> frozenset[str]:
        seen.append(person)
        return frozenset({"identity", "benefits.rsa"})  # not the pension, for this person

    request = replace(
        _request({"identity", "benefits.rsa", "pension"}, caller=DEPARTEMENT, context=RSA),
        narrow=narrow,
    )
    view = await _exchange(fake, sink=sink).person(request)
    assert seen == [PERSON]
    assert sorted(fake.calls) == ["benefit", "civil_status"] and "pension" not in view.failures
    (entry,) = sink.entries
    assert entry.released == ("benefits.rsa", "identity") and "pension" not in dict(entry.denied)
    # Many at once: decided per person, each narrowed.
    views = await _exchange(FakeConnectors(), sink=sink).persons([request, request])
    assert all(isinstance(v, PersonView) and "pension" not in v.fields for v in views)
