"""Every client × purpose × category × date around each boundary of the shipped catalogue.

The expected effect is read from the YAML files here, with plain ``yaml.safe_load`` and a
straightforward walk over the dated keys, never with the loader's or the engine's helpers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies import SHIPPED, Consent, decide, load_catalogue

CATALOGUE = load_catalogue()
RAW_CATEGORIES: dict[str, list[str]] = {
    c["id"]: c["fields"]
    for c in yaml.safe_load((SHIPPED / "categories.yaml").read_text(encoding="utf-8"))["categories"]
}
RAW_CLIENTS: dict[str, list[str]] = {
    c["id"]: c["groups"]
    for c in yaml.safe_load((SHIPPED / "clients.yaml").read_text(encoding="utf-8"))["clients"]
}
RAW_PURPOSES: dict[str, dict[str, Any]] = {
    path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted(Path(SHIPPED, "purposes").glob("*.yaml"))
}


def _as_date(key: Any) -> date:
    # safe_load reads unquoted keys as dates, quoted ones as strings: accept both.
    return key if isinstance(key, date) else date.fromisoformat(str(key))


def _timeline(raw: dict[str, Any]) -> list[tuple[date, list[str] | None]]:
    return sorted((_as_date(k), v) for k, v in raw["categories"].items())


def _boundaries() -> list[date]:
    """For every dated key: the day before and the day itself (a start, or an end)."""
    days = {date(1990, 1, 1), date(2099, 12, 31)}
    for raw in RAW_PURPOSES.values():
        for start, _ in _timeline(raw):
            days |= {start - timedelta(days=1), start}
    return sorted(days)


DAYS = _boundaries()
CALLERS = [(client, "client") for client in RAW_CLIENTS] + [("citizen-portal", "citizen")]


def _expected(pid: str, client: str, caller: str, category: str, on: date, consented: bool) -> str:
    """The rule that must decide this category, read straight from the YAML."""
    raw = RAW_PURPOSES[pid]
    granted: list[str] | None = None
    for start, value in _timeline(raw):
        if start <= on:
            granted = value
    if granted is None:
        return "purpose.not_in_force"
    if caller == "citizen":
        allowed = "citizen" in raw["groups"]
    else:
        allowed = client in raw["clients"] or bool(set(RAW_CLIENTS[client]) & set(raw["groups"]))
    if not allowed:
        return "purpose.client_not_allowed"
    if category not in granted:
        return "field.outside_purpose"
    if raw["lawful_ground"] != "consent":
        return "field.purpose_grant"
    return "field.consent" if consented else "field.consent_required"


def _consents(client: str, pid: str, on: date) -> dict[str, tuple[tuple[Consent, ...], bool]]:
    """Consent situations: name → (the person's consents, whether they should release)."""
    every = frozenset(RAW_CATEGORIES)
    at = datetime(2000, 1, 1)

    def consent(**changes: Any) -> Consent:
        base: dict[str, Any] = {
            "id": "c",
            "person": "p",
            "client_id": client,
            "purpose": None,
            "categories": every,
            "granted_at": at,
            "valid_from": on,
            "valid_until": on,
        }
        return Consent(**{**base, **changes})

    return {
        "none": ((), False),
        "to the client": ((consent(),), True),
        "for the purpose": ((consent(client_id=None, purpose=pid),), True),
        "to another client": ((consent(client_id="someone-else"),), False),
        "for another purpose": ((consent(client_id=None, purpose="other"),), False),
        "revoked": ((consent(revoked_at=at),), False),
        "lapsed": (
            (consent(valid_from=on - timedelta(days=30), valid_until=on - timedelta(1)),),
            False,
        ),
        "not yet valid": (
            (consent(valid_from=on + timedelta(days=1), valid_until=on + timedelta(9)),),
            False,
        ),
    }


@pytest.mark.parametrize("pid", sorted(RAW_PURPOSES))
def test_every_client_category_and_boundary_day(pid: str) -> None:
    checked = 0
    fields = frozenset(f for fs in RAW_CATEGORIES.values() for f in fs)
    for client, caller in CALLERS:
        for on in DAYS:
            situations = _consents(client, pid, on)
            if RAW_PURPOSES[pid]["lawful_ground"] != "consent":
                situations = {"to the client": situations["to the client"]}
            for situation, (consents, releases) in situations.items():
                verdict = decide(
                    CATALOGUE,
                    client_id=client,
                    caller="citizen" if caller == "citizen" else "client",
                    purpose_id=pid,
                    fields=fields,
                    consents=consents,
                    on=on,
                )
                assert set(verdict.fields) == fields
                for category, members in RAW_CATEGORIES.items():
                    rule = _expected(pid, client, caller, category, on, releases)
                    for name in members:
                        decision = verdict.fields[name]
                        where = f"{client}/{caller} {pid} {category} {on} consent {situation}"
                        assert decision.rule_id == rule, where
                        assert decision.effect == (
                            "allow" if rule in ("field.purpose_grant", "field.consent") else "deny"
                        ), where
                        assert decision.policy_revision == CATALOGUE.revision
                        if decision.effect == "allow":
                            assert decision.legal_basis is not None
                            assert (
                                decision.legal_basis.href
                                == RAW_PURPOSES[pid]["legal_basis"]["href"]
                            )
                        else:
                            assert pid in " ".join(decision.reasons), where
                            code = (
                                "CONSENT_REQUIRED"
                                if rule == "field.consent_required"
                                else "FORBIDDEN"
                            )
                            assert decision.code == code, where
                        checked += 1
    assert checked >= len(CALLERS) * len(DAYS) * len(fields)


# Read from the law as the catalogue encodes it: the cases a reviewer checks first.
SPOT_CHECKS = [
    ("demo-agency-app", "rsa_instruction", "emploi", "2024-12-31", "field.outside_purpose"),
    ("demo-agency-app", "rsa_instruction", "emploi", "2025-01-01", "field.purpose_grant"),
    ("demo-agency-app", "rsa_instruction", "fiscal", "2025-01-01", "field.outside_purpose"),
    ("demo-agency-app", "rsa_instruction", "identite", "2009-05-31", "purpose.not_in_force"),
    ("demo-cpam", "rsa_instruction", "identite", "2025-01-01", "purpose.client_not_allowed"),
    ("demo-caf", "housing_aid", "fiscal", "2020-12-31", "field.purpose_grant"),
    ("demo-caf", "housing_aid", "fiscal", "2021-01-01", "field.outside_purpose"),
    ("demo-caf", "housing_aid", "ressources", "2020-12-31", "field.outside_purpose"),
    ("demo-caf", "housing_aid", "ressources", "2021-01-01", "field.purpose_grant"),
    ("demo-proactive", "proactive_detection", "ressources", "2022-02-22", "purpose.not_in_force"),
    ("demo-proactive", "proactive_detection", "ressources", "2022-02-23", "field.purpose_grant"),
    ("demo-proactive", "proactive_detection", "emploi", "2022-02-23", "field.purpose_grant"),
    ("demo-cpam", "css_attribution", "emploi", "2019-11-01", "field.purpose_grant"),
    ("demo-cpam", "css_attribution", "etudes", "2019-11-01", "field.outside_purpose"),
    ("demo-carsat", "aspa_instruction", "retraite", "2025-06-01", "field.purpose_grant"),
    ("demo-cpam", "css_attribution", "css", "2019-11-01", "field.purpose_grant"),
    ("demo-cpam", "css_attribution", "css", "2019-10-31", "purpose.not_in_force"),
    ("demo-auditor", "audit_control", "identite", "2025-06-01", "field.outside_purpose"),
    ("demo-form-builder", "citizen_prefill", "adresse", "2025-06-01", "field.consent_required"),
    (
        "demo-form-builder",
        "citizen_prefill",
        "prestations_caf",
        "2025-06-01",
        "field.outside_purpose",
    ),
    ("demo-form-builder", "self_access", "identite", "2025-06-01", "purpose.client_not_allowed"),
]


@pytest.mark.parametrize(("client", "pid", "category", "day", "rule"), SPOT_CHECKS)
def test_spot_checks(client: str, pid: str, category: str, day: str, rule: str) -> None:
    on = date.fromisoformat(day)
    assert _expected(pid, client, "client", category, on, consented=False) == rule
    field = RAW_CATEGORIES[category][0]
    verdict = decide(
        CATALOGUE,
        client_id=client,
        caller="client",
        purpose_id=pid,
        fields=frozenset({field}),
        consents=(),
        on=on,
    )
    assert verdict.fields[field].rule_id == rule
