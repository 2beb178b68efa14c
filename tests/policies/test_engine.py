"""The decision engine, rule by rule, on the shipped catalogue."""

from __future__ import annotations

import timeit
from datetime import date, datetime
from typing import Any

import pytest

from exchange.catalogue import FIELDS
from policies import (
    Catalogue,
    Category,
    Consent,
    PolicyError,
    UnknownField,
    Verdict,
    decide,
    load_catalogue,
    needs_consents,
    usable_purposes,
)

CATALOGUE = load_catalogue(known_fields=frozenset(FIELDS))
ALL = frozenset(FIELDS)
ON = date(2025, 6, 1)


def _decide(
    purpose: str,
    client: str = "demo-agency-app",
    *,
    caller: Any = "client",
    fields: frozenset[str] = ALL,
    consents: tuple[Consent, ...] = (),
    on: date = ON,
) -> Verdict:
    return decide(
        CATALOGUE,
        client_id=client,
        caller=caller,
        purpose_id=purpose,
        fields=fields,
        consents=consents,
        on=on,
    )


def _consent(categories: set[str], **changes: Any) -> Consent:
    base: dict[str, Any] = {
        "id": "consent-1",
        "person": "pseudonym",
        "client_id": "demo-form-builder",
        "purpose": None,
        "categories": frozenset(categories),
        "granted_at": datetime(2025, 5, 1, 9, 30),
        "valid_from": date(2025, 5, 1),
        "valid_until": date(2025, 12, 31),
    }
    return Consent(**{**base, **changes})


@pytest.mark.parametrize(
    ("purpose", "client", "caller", "on", "rule"),
    [
        ("no_such_purpose", "demo-agency-app", "client", ON, "purpose.unknown"),
        (
            "proactive_detection",
            "demo-proactive",
            "client",
            date(2022, 2, 22),
            "purpose.not_in_force",
        ),
        ("rsa_instruction", "demo-caf", "client", ON, "purpose.client_not_allowed"),
        ("rsa_instruction", "unknown-client", "client", ON, "purpose.client_not_allowed"),
        ("rsa_instruction", "demo-agency-app", "citizen", ON, "purpose.client_not_allowed"),
        ("self_access", "demo-agency-app", "client", ON, "purpose.client_not_allowed"),
    ],
)
def test_a_refused_request_denies_every_field_with_its_reason(
    purpose: str, client: str, caller: Any, on: date, rule: str
) -> None:
    verdict = _decide(purpose, client, caller=caller, on=on)
    assert verdict.request.effect == "deny"
    assert verdict.request.rule_id == rule
    assert verdict.request.code == "FORBIDDEN"
    assert purpose in verdict.request.reasons[0]
    assert verdict.request.policy_revision == CATALOGUE.revision
    assert dict(verdict.fields) == dict.fromkeys(ALL, verdict.request)
    assert not verdict.released


def test_a_public_task_grants_its_categories_with_its_legal_basis() -> None:
    verdict = _decide("rsa_instruction")
    assert verdict.request.rule_id == "purpose.allowed"
    basis = CATALOGUE.purposes["rsa_instruction"].legal_basis
    assert "L262-40" in basis.title
    assert verdict.released == {
        "identity",
        "address",
        "household",
        "resources",
        "benefits.rsa",
        "benefits.primeActivite",
        "benefits.aah",
        "benefits.asf",
        "employment.status",
        "employment.payments",
        "studentStatus",
    }
    for name in verdict.released:
        assert verdict.fields[name].rule_id == "field.purpose_grant"
        assert verdict.fields[name].legal_basis == basis
    tax = verdict.fields["taxHousehold"]
    assert (tax.effect, tax.rule_id, tax.code, tax.legal_basis) == (
        "deny",
        "field.outside_purpose",
        "FORBIDDEN",
        None,
    )
    assert "rsa_instruction" in tax.reasons[0] and "fiscal" in tax.reasons[0]


def test_a_citizen_reads_all_their_own_data() -> None:
    verdict = _decide("self_access", "citizen-portal", caller="citizen", on=date(2026, 12, 6))
    assert verdict.released == ALL
    assert all(d.rule_id == "field.purpose_grant" for d in verdict.fields.values())
    # The CNOUS's grant was added that day: the provision before it stays as it was.
    before = _decide("self_access", "citizen-portal", caller="citizen", on=date(2026, 12, 5))
    assert before.released == ALL - {"studentGrant"}


def test_audit_control_releases_no_person_field() -> None:
    verdict = _decide("audit_control", "demo-auditor")
    assert verdict.request.effect == "allow"
    assert not verdict.released


def test_without_consent_a_consent_purpose_asks_for_it() -> None:
    verdict = _decide("citizen_prefill", "demo-form-builder")
    assert verdict.request.effect == "allow"
    address = verdict.fields["address"]
    assert (address.effect, address.rule_id, address.code) == (
        "deny",
        "field.consent_required",
        "CONSENT_REQUIRED",
    )
    assert "citizen_prefill" in address.reasons[0]
    # Outside the provision stays FORBIDDEN: consent could not help.
    assert verdict.fields["benefits.rsa"].code == "FORBIDDEN"


def test_a_consent_releases_only_what_it_covers_inside_the_purpose() -> None:
    consent = _consent({"identite", "adresse", "prestations_caf"})
    verdict = _decide("citizen_prefill", "demo-form-builder", consents=(consent,))
    assert verdict.released == {"identity", "address"}
    identity = verdict.fields["identity"]
    assert identity.rule_id == "field.consent"
    assert identity.legal_basis == CATALOGUE.purposes["citizen_prefill"].legal_basis
    assert "consent-1" in identity.reasons[0]
    # prestations_caf is consented to, but the purpose does not provide for it.
    assert verdict.fields["benefits.rsa"].rule_id == "field.outside_purpose"
    assert verdict.fields["resources"].rule_id == "field.consent_required"


def test_a_consent_given_for_the_purpose_counts_for_any_client_using_it() -> None:
    consent = _consent({"ressources"}, client_id=None, purpose="citizen_prefill")
    verdict = _decide("citizen_prefill", "demo-form-builder", consents=(consent,))
    assert verdict.released == {"resources"}


@pytest.mark.parametrize(
    "changes",
    [
        {"revoked_at": datetime(2025, 5, 20)},
        {"valid_until": date(2025, 5, 31)},
        {"valid_from": date(2025, 6, 2)},
        {"client_id": "demo-caf"},
        {"client_id": None, "purpose": "rsa_instruction"},
    ],
    ids=["revoked", "lapsed", "not yet valid", "other client", "other purpose"],
)
def test_a_dead_or_foreign_consent_releases_nothing(changes: dict[str, Any]) -> None:
    consent = _consent({"identite", "adresse"}, **changes)
    verdict = _decide("citizen_prefill", "demo-form-builder", consents=(consent,))
    assert not verdict.released


def test_a_consent_lasts_through_its_last_day() -> None:
    consent = _consent({"identite"})
    last = _decide(
        "citizen_prefill", "demo-form-builder", consents=(consent,), on=date(2025, 12, 31)
    )
    after = _decide(
        "citizen_prefill", "demo-form-builder", consents=(consent,), on=date(2026, 1, 1)
    )
    assert last.released == {"identity"} and not after.released


def test_consents_are_needed_only_for_consent_purposes() -> None:
    assert needs_consents(CATALOGUE, "citizen_prefill")
    assert not needs_consents(CATALOGUE, "rsa_instruction")
    assert not needs_consents(CATALOGUE, "no_such_purpose")


def test_unknown_fields_and_empty_requests() -> None:
    verdict = _decide("rsa_instruction", fields=frozenset({"identity", "secret.field"}))
    assert verdict.fields["secret.field"].rule_id == "field.unknown"
    assert verdict.fields["secret.field"].effect == "deny"
    assert "rsa_instruction" in verdict.fields["secret.field"].reasons[0]
    empty = _decide("rsa_instruction", fields=frozenset())
    assert empty.request.effect == "allow" and dict(empty.fields) == {}


def test_every_field_has_exactly_one_category() -> None:
    assert CATALOGUE.category_of("benefits.aspa") == "retraite"
    with pytest.raises(UnknownField):
        CATALOGUE.category_of("secret.field")
    twice = {
        "a": Category("a", "A", frozenset({"identity"})),
        "b": Category("b", "B", frozenset({"identity"})),
    }
    with pytest.raises(PolicyError, match="two categories"):
        Catalogue(purposes={}, clients={}, categories=twice, revision="r")


def test_the_catalogue_cannot_be_changed_under_the_engine() -> None:
    with pytest.raises(TypeError):
        CATALOGUE.purposes["x"] = CATALOGUE.purposes["rsa_instruction"]  # type: ignore[index]


def test_a_decision_is_cheap() -> None:
    # Budget: < 0.5 ms of gateway CPU for the whole policy step; this bound is loose on
    # purpose (shared CI machines), the measured cost is a few microseconds.
    consent = _consent({"identite", "adresse", "ressources"})
    runs = 2000
    public = timeit.timeit(lambda: _decide("rsa_instruction"), number=runs)
    consented = timeit.timeit(
        lambda: _decide("citizen_prefill", "demo-form-builder", consents=(consent,)), number=runs
    )
    assert public / runs < 100e-6
    assert consented / runs < 100e-6


def test_an_unknown_purpose_names_the_purposes_the_caller_may_use() -> None:
    verdict = _decide("no_such_purpose")
    valid = usable_purposes(CATALOGUE, client_id="demo-agency-app", caller="client", on=ON)
    assert verdict.valid_purposes == valid and "rsa_instruction" in valid
    assert "css_attribution" not in valid  # another client's
    (reason,) = verdict.request.reasons
    assert "'no_such_purpose' is not in the policy catalogue" in reason
    assert reason.endswith(": " + ", ".join(valid))
    citizen = _decide("no_such_purpose", caller="citizen")
    assert citizen.valid_purposes is not None and "self_access" in citizen.valid_purposes
    assert "rsa_instruction" not in citizen.valid_purposes
    assert _decide("no_such_purpose", "nobody").request.reasons[0].endswith(": none")
    # Known purposes refused for another reason carry no list.
    assert _decide("rsa_instruction", "demo-caf").valid_purposes is None


def test_usable_purposes_on_a_date_leaves_out_those_not_in_force() -> None:
    ever = usable_purposes(CATALOGUE, client_id="demo-proactive", caller="client")
    then = usable_purposes(
        CATALOGUE, client_id="demo-proactive", caller="client", on=date(2022, 2, 22)
    )
    assert "proactive_detection" in ever and "proactive_detection" not in then
    assert set(then) < set(ever)
