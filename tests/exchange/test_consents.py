from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from connectors import FranceConnectToken, PivotIdentity
from exchange import FIELDS, Citizen, InvalidRequest, Pseudonyms
from exchange.consents import ConsentNotFoundError, Consents
from policies import Consent, load_catalogue
from store import ConsentNotFound
from tests.exchange.fakes import auditor

NOW = datetime(2025, 7, 10, 12, tzinfo=UTC)
ALICE = Citizen(
    PivotIdentity("DURAND", ("ALICE",), date(1990, 1, 1), "F", "99100", "69123"),
    FranceConnectToken("token-alice-123"),
)
BOB = Citizen(
    PivotIdentity("MARTIN", ("BOB",), date(1985, 2, 2), "M", "99100", "75056"),
    FranceConnectToken("token-bob-4567"),
)


class Store:
    def __init__(self) -> None:
        self.rows: dict[str, Consent] = {}

    async def grant(self, consent: Consent) -> Consent:
        self.rows[consent.id] = consent
        return consent

    async def revoke(self, person: str, consent_id: str, at: datetime) -> Consent:
        row = self.rows.get(consent_id)
        if row is None or row.person != person:
            raise ConsentNotFound(consent_id)
        self.rows[consent_id] = replace(row, revoked_at=row.revoked_at or at)
        return self.rows[consent_id]

    async def for_person(self, person: str) -> list[Consent]:
        return [c for c in self.rows.values() if c.person == person]


def _consents() -> tuple[Consents, Store]:
    store = Store()
    ids = iter(f"id-{i}" for i in range(100))
    catalogue = load_catalogue(known_fields=frozenset(FIELDS))
    pseudonyms = Pseudonyms(b"s" * 32)
    consents = Consents(store, catalogue, pseudonyms, auditor(pseudonyms), new_id=lambda: next(ids))
    return consents, store


async def test_grant_list_revoke() -> None:
    consents, _ = _consents()
    granted = await consents.grant(
        ALICE,
        client_id="demo-form-builder",
        purpose=None,
        categories=["identite", "ressources"],
        until=date(2025, 12, 31),
        now=NOW,
    )
    assert granted.categories == {"identite", "ressources"}
    assert "DURAND" not in granted.person  # filed under a pseudonym
    assert [c.id for c in await consents.mine(ALICE)] == [granted.id]
    assert await consents.mine(BOB) == []
    revoked = await consents.revoke(ALICE, granted.id, NOW)
    assert revoked.revoked_at == NOW and not revoked.active(NOW.date())


async def test_nobody_revokes_another_persons_consent() -> None:
    consents, _ = _consents()
    granted = await consents.grant(
        ALICE,
        client_id=None,
        purpose="citizen_prefill",
        categories=["identite"],
        until=date(2025, 8, 1),
        now=NOW,
    )
    with pytest.raises(ConsentNotFoundError) as exc:
        await consents.revoke(BOB, granted.id, NOW)
    assert exc.value.code == "NOT_FOUND"
    assert (await consents.mine(ALICE))[0].revoked_at is None


@pytest.mark.parametrize(
    ("client", "purpose", "categories", "until"),
    [
        (None, None, ["identite"], date(2025, 8, 1)),
        ("demo-form-builder", "citizen_prefill", ["identite"], date(2025, 8, 1)),
        ("nobody", None, ["identite"], date(2025, 8, 1)),
        (None, "nothing", ["identite"], date(2025, 8, 1)),
        (None, "rsa_instruction", ["identite"], date(2025, 8, 1)),  # not a consent purpose
        ("demo-form-builder", None, [], date(2025, 8, 1)),
        ("demo-form-builder", None, ["secrets"], date(2025, 8, 1)),
        ("demo-form-builder", None, ["identite"], date(2025, 7, 9)),
        ("demo-form-builder", None, ["identite"], date(2030, 1, 1)),
    ],
)
async def test_bad_grants_are_refused(
    client: str | None, purpose: str | None, categories: list[str], until: date
) -> None:
    consents, store = _consents()
    with pytest.raises(InvalidRequest):
        await consents.grant(
            ALICE, client_id=client, purpose=purpose, categories=categories, until=until, now=NOW
        )
    assert store.rows == {}


async def test_an_unknown_purpose_is_refused_with_the_consent_purposes() -> None:
    consents, _ = _consents()
    with pytest.raises(InvalidRequest) as refused:
        await consents.grant(
            ALICE,
            client_id=None,
            purpose="nothing",
            categories=["identite"],
            until=date(2025, 8, 1),
            now=NOW,
        )
    assert refused.value.valid_purposes == ("citizen_prefill",)
    assert refused.value.message.endswith("may be given for: citizen_prefill")


def test_only_consent_purposes_and_their_clients_can_be_consented_to() -> None:
    from exchange.consents import consent_categories, consent_purposes, consent_targets
    from policies import SHIPPED

    catalogue = load_catalogue(SHIPPED, known_fields=frozenset(FIELDS))
    today = date(2026, 12, 3)
    assert consent_purposes(catalogue, today) == ["citizen_prefill"]
    targets = consent_targets(catalogue, today)
    assert targets["purpose:citizen_prefill"][0] == "purpose"
    assert targets["client:demo-form-builder"][0] == "client"
    assert "client:demo-agency-app" not in targets  # it uses no consent purpose
    granted = catalogue.purposes["citizen_prefill"].categories_on(today)
    assert set(consent_categories(catalogue, today)) == set(granted)
