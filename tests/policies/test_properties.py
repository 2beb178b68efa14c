"""Properties over random catalogues, consents, dates and fields.

The oracle below reads the generated plan (a timeline per purpose, consents as plain values)
directly; the engine sees the same plan only as a built ``Catalogue``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policies import (
    Catalogue,
    Category,
    ClientPolicy,
    Consent,
    LawfulGround,
    LegalBasis,
    Period,
    Provision,
    Purpose,
    decide,
)

CATEGORIES = {"a": ("a1", "a2"), "b": ("b1",), "c": ("c1", "c2", "c3"), "d": ("d1",)}
OWNER = {f: c for c, fs in CATEGORIES.items() for f in fs}
CLIENTS = ("k1", "k2", "k3")
GROUPS = ("g1", "g2", "citizen")
PURPOSES = ("p1", "p2", "p3")
EPOCH = date(2024, 1, 1)
SPAN = 60  # days: small, so that random dates often fall on and around boundaries


@dataclass(frozen=True)
class Plan:
    client_groups: dict[str, frozenset[str]]
    grounds: dict[str, LawfulGround]
    users: dict[str, tuple[frozenset[str], frozenset[str]]]  # purpose → (clients, groups)
    timelines: dict[str, tuple[tuple[date, frozenset[str] | None], ...]]


def _day(offset: int) -> date:
    return EPOCH + timedelta(days=offset)


subsets = st.frozensets(st.sampled_from(sorted(CATEGORIES)))
timelines = st.dictionaries(st.integers(0, SPAN), st.none() | subsets, min_size=1, max_size=4).map(
    lambda d: tuple(sorted((_day(k), v) for k, v in d.items()))
)
plans = st.builds(
    Plan,
    client_groups=st.fixed_dictionaries(
        {c: st.frozensets(st.sampled_from(GROUPS[:2])) for c in CLIENTS}
    ),
    grounds=st.fixed_dictionaries(
        {p: st.sampled_from(["public_task", "legal_obligation", "consent"]) for p in PURPOSES}
    ),
    users=st.fixed_dictionaries(
        {
            p: st.tuples(
                st.frozensets(st.sampled_from(CLIENTS)), st.frozensets(st.sampled_from(GROUPS))
            )
            for p in PURPOSES
        }
    ),
    timelines=st.fixed_dictionaries({p: timelines for p in PURPOSES}),
)
consents = st.lists(
    st.builds(
        Consent,
        id=st.sampled_from(["c1", "c2", "c3", "c4"]),
        person=st.just("person"),
        client_id=st.none() | st.sampled_from(CLIENTS),
        purpose=st.none() | st.sampled_from(PURPOSES),
        categories=subsets,
        granted_at=st.just(datetime(2023, 12, 1)),
        valid_from=st.integers(-5, SPAN + 5).map(_day),
        valid_until=st.integers(-5, SPAN + 5).map(_day),
        revoked_at=st.none() | st.just(datetime(2024, 1, 15)),
    ),
    max_size=4,
)
requests = st.fixed_dictionaries(
    {
        "client_id": st.sampled_from(CLIENTS),
        "caller": st.sampled_from(["client", "citizen"]),
        "purpose_id": st.sampled_from([*PURPOSES, "unknown"]),
        "fields": st.frozensets(st.sampled_from([*OWNER, "zz.unknown"])),
        "on": st.integers(-3, SPAN + 3).map(_day),
    }
)


def _catalogue(plan: Plan) -> Catalogue:
    purposes = {}
    for pid, timeline in plan.timelines.items():
        provisions = tuple(
            Provision(Period(start, timeline[i + 1][0] if i + 1 < len(timeline) else None), cats)
            for i, (start, cats) in enumerate(timeline)
            if cats is not None
        )
        clients, groups = plan.users[pid]
        purposes[pid] = Purpose(
            id=pid,
            label=pid,
            legal_basis=LegalBasis(f"law of {pid}", f"https://example.org/{pid}"),
            lawful_ground=plan.grounds[pid],
            provisions=provisions,
            clients=clients,
            groups=groups,
            retention_days=30,
            source=f"purposes/{pid}.yaml",
        )
    return Catalogue(
        purposes=purposes,
        clients={c: ClientPolicy(c, c, g) for c, g in plan.client_groups.items()},
        categories={c: Category(c, c, frozenset(fs)) for c, fs in CATEGORIES.items()},
        revision="test-revision",
    )


def _granted(plan: Plan, pid: str, on: date) -> frozenset[str] | None:
    """The categories in force on ``on``; None when the purpose is not in force."""
    current: frozenset[str] | None = None
    for start, cats in plan.timelines[pid]:
        if start <= on:
            current = cats
    return current


def _releasable(plan: Plan, request: dict[str, Any], held: list[Consent]) -> set[str]:
    pid, on, client = request["purpose_id"], request["on"], request["client_id"]
    if pid not in plan.timelines or (granted := _granted(plan, pid, on)) is None:
        return set()
    clients, groups = plan.users[pid]
    if request["caller"] == "citizen":
        if "citizen" not in groups:
            return set()
    elif client not in clients and not plan.client_groups[client] & groups:
        return set()
    out = set()
    for f in request["fields"]:
        category = OWNER.get(f)
        if category is None or category not in granted:
            continue
        if plan.grounds[pid] == "consent" and not any(
            c.revoked_at is None
            and c.valid_from <= on <= c.valid_until
            and (c.client_id == client or c.purpose == pid)
            and category in c.categories
            for c in held
        ):
            continue
        out.add(f)
    return out


@settings(max_examples=400, deadline=None)
@given(plan=plans, held=consents, request=requests)
def test_decisions_release_exactly_what_the_purpose_and_consents_allow(
    plan: Plan, held: list[Consent], request: dict[str, Any]
) -> None:
    catalogue = _catalogue(plan)
    verdict = decide(catalogue, consents=held, **request)
    # Total: a decision for every asked field, and nothing else.
    assert set(verdict.fields) == request["fields"]
    assert verdict.released == _releasable(plan, request, held)
    if verdict.request.effect == "deny":
        assert all(d == verdict.request for d in verdict.fields.values())
    for decision in verdict.fields.values():
        assert decision.policy_revision == "test-revision"
        if decision.effect == "allow":
            basis = catalogue.purposes[request["purpose_id"]].legal_basis
            assert decision.legal_basis == basis


@settings(max_examples=200, deadline=None)
@given(plan=plans, held=consents, request=requests)
def test_revoked_or_lapsed_consents_release_nothing(
    plan: Plan, held: list[Consent], request: dict[str, Any]
) -> None:
    catalogue = _catalogue(plan)
    on = request["on"]
    dead = [replace(c, revoked_at=datetime(2024, 1, 2)) for c in held] + [
        replace(c, valid_from=on - timedelta(days=10), valid_until=on - timedelta(days=1))
        for c in held
    ]
    verdict = decide(catalogue, consents=dead, **request)
    if plan.grounds.get(request["purpose_id"]) == "consent":
        assert not verdict.released
    assert verdict.released == decide(catalogue, consents=(), **request).released


@settings(max_examples=200, deadline=None)
@given(plan=plans, held=consents, request=requests)
def test_decisions_are_deterministic(
    plan: Plan, held: list[Consent], request: dict[str, Any]
) -> None:
    first = decide(_catalogue(plan), consents=held, **request)
    again = decide(_catalogue(plan), consents=held, **request)
    assert first == again
    reordered = decide(_catalogue(plan), consents=list(reversed(held)), **request)
    # Which consent is named may change with the order; what is released may not.
    assert {f: d.effect for f, d in reordered.fields.items()} == {
        f: d.effect for f, d in first.fields.items()
    }
