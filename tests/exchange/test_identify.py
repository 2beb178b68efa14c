"""``Exchange.identify``: the civil registry's identification by traits as an access, with a
fake registry (a unit test of the exchange only)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest

from connectors import CallContext, Connectors, NotFound, PivotIdentity, Provenance
from connectors.civil_registry import Traits
from connectors.errors import Ambiguous, ConnectorError
from connectors.records import Identification
from exchange import (
    AUDIT_SECTOR,
    FIELDS,
    AccessContext,
    AccessRefused,
    Client,
    Exchange,
    PolicyDecider,
    Pseudonyms,
)
from exchange.errors import NotRecorded
from exchange.service import IdentifyRequest
from policies import load_catalogue
from tests.exchange.fakes import NOW, MemorySink, auditor

ON = date(2025, 7, 1)
PROACTIVE = AccessContext("proactive_detection", "13002526500013", "rsa-2025-06")
CAMPAIGN = Client("demo-proactive", frozenset({"person:read"}), "proactive")
PARTNER = PivotIdentity("DUPONT", ("MARIE",), date(1982, 3, 4), "F", "99100", "69123")
TRAITS = Traits("DUPONT", ("MARIE",), date(1982, 3, 4), "F")
CATALOGUE = load_catalogue(known_fields=frozenset(FIELDS))
PSEUDONYMS = Pseudonyms(b"s" * 32)


class Registry:
    def __init__(self, outcome: Identification | ConnectorError) -> None:
        self.outcome = outcome
        self.asked: list[tuple[Traits, CallContext]] = []

    async def find(self, traits: Traits, ctx: CallContext) -> Identification:
        self.asked.append((traits, ctx))
        if isinstance(self.outcome, ConnectorError):
            raise self.outcome
        return self.outcome


class Bundle:
    def __init__(self, registry: Registry) -> None:
        self.civil_registry = registry


def _exchange(registry: Registry, sink: MemorySink) -> Exchange:
    decider = PolicyDecider(CATALOGUE, None, PSEUDONYMS)
    connectors = cast(Connectors, Bundle(registry))
    return Exchange(connectors, decider, PSEUDONYMS, auditor(PSEUDONYMS, sink))


def found() -> Identification:
    return Identification(PARTNER, None, Provenance("INSEE", "civil_registry.recherche", ON, NOW))


async def test_an_identification_is_an_audited_access_to_the_person_found() -> None:
    sink, registry = MemorySink(), Registry(found())
    got = await _exchange(registry, sink).identify(IdentifyRequest(CAMPAIGN, TRAITS, PROACTIVE, ON))
    assert got.identity == PARTNER
    assert registry.asked == [(TRAITS, CallContext(recipient=PROACTIVE.recipient, on=ON))]
    [entry] = sink.entries
    assert entry.kind == "person_access" and entry.outcome == "released"
    assert entry.person == PSEUDONYMS.pseudonym(PARTNER, AUDIT_SECTOR)
    assert (entry.purpose, entry.object, entry.client) == (
        "proactive_detection",
        "rsa-2025-06",
        "demo-proactive",
    )
    assert entry.released == ("identity",) and entry.agencies == ("civil_registry",)
    assert entry.legal_basis is not None


@pytest.mark.parametrize(
    "error",
    [Ambiguous("INSEE: several", provider="INSEE"), NotFound("INSEE: none", provider="INSEE")],
)
async def test_nobody_or_several_is_a_failed_access_naming_nobody(error: ConnectorError) -> None:
    sink = MemorySink()
    with pytest.raises(type(error)):
        await _exchange(Registry(error), sink).identify(
            IdentifyRequest(CAMPAIGN, TRAITS, PROACTIVE, ON)
        )
    [entry] = sink.entries
    assert entry.outcome == "failed" and entry.person is None
    assert entry.denied == (("identity", error.code),) and entry.released == ()


@pytest.mark.parametrize(
    ("caller", "context"),
    [
        # A client outside the purpose's groups.
        (Client("demo-agency-app", frozenset({"person:read"}), "social"), PROACTIVE),
        # Another purpose than the client's.
        (CAMPAIGN, AccessContext("rsa_instruction", "13002526500013", "x")),
        # No person:read scope.
        (Client("demo-proactive", frozenset(), "proactive"), PROACTIVE),
    ],
)
async def test_refused_identifications_call_nobody(caller: Any, context: AccessContext) -> None:
    sink, registry = MemorySink(), Registry(found())
    with pytest.raises(AccessRefused):
        await _exchange(registry, sink).identify(IdentifyRequest(caller, TRAITS, context, ON))
    assert registry.asked == []
    [entry] = sink.entries
    assert entry.outcome == "refused" and entry.person is None and entry.released == ()


async def test_nothing_is_released_when_the_audit_log_is_down() -> None:
    with pytest.raises(NotRecorded):
        await _exchange(Registry(found()), MemorySink(broken=True)).identify(
            IdentifyRequest(CAMPAIGN, TRAITS, PROACTIVE, ON)
        )
