"""The civil registry's identification by traits: against an in-memory transport for the
mapping of every answer, and against the sandbox (contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import orjson
import pytest

from connectors import (
    CallContext,
    CircuitBreaker,
    InvalidInput,
    NotFound,
    UpstreamClient,
    UpstreamInvalid,
    UpstreamUnavailable,
)
from connectors.cache import MemoryCache, NoCache
from connectors.civil_registry import CivilRegistry, Traits
from connectors.errors import Ambiguous, ConnectorError
from connectors.oauth import ClientCredentials
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from sandbox.person import Identity
from tests.connectors.conftest import (
    FakeMonotonic,
    FakeTransport,
    Request,
    answer,
    fixed_clock,
    no_sleep,
)
from tests.sandbox.twins import with_twin

TRAITS = Traits("MARTIN", ("SAMUEL", "PAUL"), date(1980, 9, 20), "M")
RECORD = {
    "identite": {
        "nom_naissance": "MARTIN",
        "prenoms": ["SAMUEL", "PAUL"],
        "date_naissance": "1980-09-20",
        "sexe": "M",
    },
    "nom_usage": None,
    "code_cog_insee_commune_naissance": "08480",
    "code_cog_insee_pays_naissance": "99100",
    "date_deces": None,
}


def error(status: int, code: str) -> Any:
    body = {
        "errors": [
            {
                "code": code,
                "title": "t",
                "detail": "d",
                "source": None,
                "meta": {"provider": "INSEE"},
            }
        ]
    }
    return answer(status, content=orjson.dumps(body))


def _fake(handler: Any, cache: Any = None) -> tuple[CivilRegistry, FakeTransport]:
    transport = FakeTransport(handler)
    clock = FakeMonotonic()
    client = UpstreamClient(
        "civil_registry",
        "https://insee.example/api",
        provider="INSEE",
        timeout=5.0,
        pool_size=2,
        breaker=CircuitBreaker(clock=clock),
        monotonic=clock,
        sleep=no_sleep,
        transport=transport,
    )
    return CivilRegistry(client, cache or NoCache(), fixed_clock), transport


def ok(data: dict[str, Any]) -> Any:
    return answer(json={"data": data, "links": {}, "meta": {"as_of": "2025-03-01"}})


async def test_one_match_is_the_full_pivot_identity(ctx: CallContext) -> None:
    registry, transport = _fake(lambda request: ok(RECORD))
    found = await registry.find(TRAITS, ctx)
    identity = found.identity
    assert (identity.birth_country, identity.birth_place) == ("99100", "08480")
    assert identity.given_names == ("SAMUEL", "PAUL") and identity.birth_date == TRAITS.birth_date
    assert found.death_date is None
    assert (
        found.provenance.agency == "INSEE" and found.provenance.source == "civil_registry.recherche"
    )
    sent: Request = transport.requests[0]
    assert sent.url.path == "/api/v1/etat-civil/recherche"
    assert sent.url.query.getall("prenoms[]") == ["SAMUEL", "PAUL"]
    assert dict(sent.url.query) | {"prenoms[]": ""} == {
        "recipient": ctx.recipient,
        "nomNaissance": "MARTIN",
        "prenoms[]": "",
        "anneeDateNaissance": "1980",
        "moisDateNaissance": "9",
        "jourDateNaissance": "20",
        "sexeEtatCivil": "M",
    }
    assert "codeCogInseePaysNaissance" not in sent.url.query


async def test_a_search_is_cached_like_a_record(ctx: CallContext) -> None:
    registry, transport = _fake(lambda request: ok(RECORD), MemoryCache(100))
    first = await registry.find(TRAITS, ctx)
    again = await registry.find(TRAITS, ctx)
    assert again.identity == first.identity and again.provenance.cached
    assert len(transport.requests) == 1


async def test_the_dead_are_identified_with_their_death(ctx: CallContext) -> None:
    registry, _ = _fake(lambda request: ok(RECORD | {"date_deces": "2024-01-02"}))
    assert (await registry.find(TRAITS, ctx)).death_date == date(2024, 1, 2)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (404, "55003", NotFound),
        (409, "55009", Ambiguous),
        (422, "00366", InvalidInput),
        (503, "55001", UpstreamUnavailable),
    ],
)
async def test_statuses_are_typed_errors(
    ctx: CallContext, status: int, code: str, kind: type[ConnectorError]
) -> None:
    registry, transport = _fake(lambda request: error(status, code))
    with pytest.raises(kind) as raised:
        await registry.find(TRAITS, ctx)
    assert raised.type is kind
    assert "MARTIN" not in raised.value.message
    if status == 409:
        assert raised.value.code == "AMBIGUOUS" and len(transport.requests) == 1


@pytest.mark.parametrize(
    "data",
    [
        RECORD | {"identite": RECORD["identite"] | {"nom_naissance": "DURAND"}},
        RECORD | {"identite": RECORD["identite"] | {"prenoms": ["PAUL"]}},
        RECORD | {"identite": RECORD["identite"] | {"date_naissance": "1980-09-21"}},
        RECORD | {"identite": RECORD["identite"] | {"sexe": "F"}},
        RECORD | {"code_cog_insee_commune_naissance": None},  # born in France, no commune
        RECORD | {"code_cog_insee_pays_naissance": "France"},
        RECORD | {"date_deces": "1970-01-01"},
        {k: v for k, v in RECORD.items() if k != "identite"},
    ],
)
async def test_an_answer_about_someone_else_or_malformed_is_refused(
    ctx: CallContext, data: dict[str, Any]
) -> None:
    registry, _ = _fake(lambda request: ok(data))
    with pytest.raises(UpstreamInvalid):
        await registry.find(TRAITS, ctx)


async def test_an_answer_without_its_date_is_refused(ctx: CallContext) -> None:
    registry, _ = _fake(lambda request: answer(json={"data": RECORD, "links": {}, "meta": {}}))
    with pytest.raises(UpstreamInvalid):
        await registry.find(TRAITS, ctx)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Traits("", ("A",), date(1980, 1, 1), "M"),
        lambda: Traits("MARTIN", (), date(1980, 1, 1), "M"),
        lambda: Traits("MARTIN", ("A", "B", "C", "D"), date(1980, 1, 1), "M"),
        lambda: Traits("MARTIN", ("A",), date(1980, 1, 1), "X"),
        lambda: Traits("MARTIN<", ("A",), date(1980, 1, 1), "M"),
        lambda: Traits("MARTIN", ("A",), date(1870, 1, 1), "M"),
    ],
)
def test_traits_are_validated(make: Any) -> None:
    with pytest.raises(InvalidInput):
        make()


async def test_a_bad_recipient_calls_nobody() -> None:
    registry, transport = _fake(lambda request: ok(RECORD))
    with pytest.raises(InvalidInput):
        await registry.find(TRAITS, CallContext(recipient="123", on=date(2025, 3, 14)))
    assert transport.requests == []


# --- Contract: the sandbox's registry --------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(size=100)
    population = config.population()
    adults = [p for p in population.persons if p.date_deces is None]
    with start_in_thread(config, with_twin(population, adults[0], adults[-1])) as running:
        yield running


@pytest.fixture
async def live(sandbox: RunningSandbox) -> AsyncIterator[CivilRegistry]:
    clock = FakeMonotonic()
    client = UpstreamClient(
        "civil_registry",
        sandbox.urls["civil_registry"],
        provider="INSEE",
        timeout=5.0,
        pool_size=4,
        breaker=CircuitBreaker(clock=clock),
    )
    client.auth = ClientCredentials(client, sandbox.client_id, sandbox.client_secret)
    yield CivilRegistry(client, NoCache(), fixed_clock)
    await client.aclose()


def traits_of(identity: Identity) -> Traits:
    return Traits(identity.nom_naissance, identity.prenoms, identity.date_naissance, identity.sexe)


async def test_the_sandbox_identifies_by_traits(
    sandbox: RunningSandbox, live: CivilRegistry, ctx: CallContext
) -> None:
    persons = sandbox.population.persons
    twin = next(p for p in persons if p.date_deces is None)
    others = [p for p in persons if p.identity.nom_naissance != twin.identity.nom_naissance]
    for person in others[:10]:
        found = await live.find(traits_of(person.identity), ctx)
        identity = person.identity
        assert found.identity.birth_country == identity.code_pays_naissance
        assert found.identity.birth_place == identity.code_commune_naissance
        assert found.death_date == person.date_deces
        # The identity found reads the person's own record.
        status = await live.civil_status(found.identity, ctx)
        assert status.birth_date == identity.date_naissance
    with pytest.raises(Ambiguous):
        await live.find(traits_of(twin.identity), ctx)
    unknown = Traits("PERSONNE INCONNUE", ("ALICE",), date(1980, 1, 1), "F")
    with pytest.raises(NotFound):
        await live.find(unknown, ctx)
