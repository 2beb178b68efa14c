"""``exchange.partners``: a person's partner identified and read under the same request, or
what is missing of them and why (a unit test: the exchange's identification runs for real
against a fake registry; its person reads are a fake that records what was asked)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest

from connectors import Connectors, NotFound, Provenance
from connectors.errors import Ambiguous, ConnectorError, UpstreamTimeout
from connectors.records import (
    BenefitStatus,
    HouseholdMember,
    Identification,
    Resources,
    Retirement,
)
from eligibility.inputs import PARTNER_FIELDS
from exchange import (
    AUDIT_SECTOR,
    AccessContext,
    AccessRefused,
    Client,
    Exchange,
    FieldFailure,
    PartnerReader,
    PartnerRequest,
    PersonRequest,
    PersonView,
    PolicyDecider,
)
from exchange.service import IdentifyRequest
from exchange.window import Window
from policies import load_catalogue
from tests.catalogue import with_everything
from tests.exchange.fakes import NOW, MemorySink, auditor
from tests.exchange.test_identify import (
    CATALOGUE,
    PARTNER,
    PSEUDONYMS,
    TRAITS,
    Bundle,
    Registry,
    found,
)

ON = date(2025, 7, 10)
CHECK = AccessContext("eligibility_check", "13002526500013", "entretien-7")
DEPARTEMENT = Client("demo-agency-app", frozenset({"person:read"}), "departement")
CITIZEN_PREFILL = AccessContext("citizen_prefill", "13002526500013", "formulaire-3")
BUILDER = Client("demo-form-builder", frozenset({"person:read"}), "forms")
MEMBER = HouseholdMember("DUPONT", None, "MARIE CLAIRE", date(1982, 3, 4), "F")
RESOURCES = Resources((), (), Provenance("GIP-MDS", "gip_mds.ressources", ON, NOW))
AAH = BenefitStatus("aah", True, date(2020, 1, 1), None, Provenance("CNAF", "caf.aah", ON, NOW))


class Reads(Exchange):
    """The real exchange, but person reads answered from a table (and recorded)."""

    def __init__(self, registry: Registry, sink: MemorySink, answer: PersonView) -> None:
        decider = PolicyDecider(CATALOGUE, None, PSEUDONYMS)
        super().__init__(
            cast(Connectors, Bundle(registry)), decider, PSEUDONYMS, auditor(PSEUDONYMS, sink)
        )
        self.answer = answer
        self.asked: list[PersonRequest] = []

    async def person(self, request: PersonRequest) -> PersonView:
        self.asked.append(request)
        return self.answer


def _view(fields: dict[str, object], failures: dict[str, FieldFailure] | None = None) -> Any:
    return PersonView(
        fields, failures or {}, cast(Any, None), (), Window.ending_before(ON, 18), None
    )


def _request(
    member: HouseholdMember = MEMBER,
    context: AccessContext = CHECK,
    caller: Client = DEPARTEMENT,
) -> PartnerRequest:
    return PartnerRequest(
        caller,
        member,
        context,
        PARTNER_FIELDS,
        ON,
        "access-of-the-examined-person",
        months=18,
        period_on=date(2025, 6, 1),
    )


def _reader(
    outcome: Identification | ConnectorError, view: Any = None
) -> tuple[PartnerReader, Reads, Registry, MemorySink]:
    registry, sink = Registry(outcome), MemorySink()
    exchange = Reads(registry, sink, view or _view({"resources": RESOURCES, "benefits.aah": AAH}))
    return PartnerReader(exchange), exchange, registry, sink


async def test_the_partner_is_identified_then_read_under_the_same_request() -> None:
    reader, exchange, registry, sink = _reader(found())
    read = await reader.read(_request())
    assert read.missing is None and read.fields == {"resources": RESOURCES, "benefits.aah": AAH}
    # Searched by the file's traits: three given names at most, no birthplace.
    assert [traits for traits, _ in registry.asked] == [
        TRAITS.__class__("DUPONT", ("MARIE", "CLAIRE"), TRAITS.birth_date, "F")
    ]
    [asked] = exchange.asked
    # The resources and the AAH status (which GIP-MDS does not declare), in one read.
    assert asked.ref.identity == PARTNER
    assert asked.fields == frozenset({"resources", "benefits.aah"})
    assert (asked.caller, asked.context, asked.on) == (DEPARTEMENT, CHECK, ON)
    assert (asked.household_of, asked.months, asked.period_on) == (
        "access-of-the-examined-person",
        18,
        date(2025, 6, 1),
    )
    # The identification is an access about the partner, recorded as a household member's.
    [entry] = sink.entries
    assert entry.person == PSEUDONYMS.pseudonym(PARTNER, AUDIT_SECTOR)
    assert entry.details == (
        ("about", "household_member"),
        ("household_of", "access-of-the-examined-person"),
    )
    assert (entry.purpose, entry.recipient, entry.object) == (
        CHECK.purpose,
        CHECK.recipient,
        CHECK.object,
    )
    partner = CATALOGUE.purposes["eligibility_check"].partner
    assert partner is not None and entry.legal_basis == (
        partner.legal_basis.title,
        partner.legal_basis.href,
    )


async def test_a_purpose_without_a_partner_section_searches_nobody() -> None:
    reader, exchange, registry, sink = _reader(found())
    read = await reader.read(_request(context=CITIZEN_PREFILL, caller=BUILDER))
    assert read.missing == "partner benefits.aah, partner resources (not allowed by the purpose)"
    assert read.fields == {}
    assert registry.asked == [] and exchange.asked == [] and sink.entries == []


@pytest.mark.parametrize(
    ("member", "outcome", "missing"),
    [
        (
            HouseholdMember("DUPONT", None, "MARIE", None, "F"),
            found(),
            "partner identification (no birth date or sex on the household's file)",
        ),
        (
            HouseholdMember("DUPONT", None, "MARIE", date(1982, 3, 4), None),
            found(),
            "partner identification (no birth date or sex on the household's file)",
        ),
        (
            MEMBER,
            Ambiguous("several", provider="civil_registry"),
            "partner identification (several persons match)",
        ),
        (
            MEMBER,
            NotFound("nobody", provider="civil_registry"),
            "partner identification (nobody matches)",
        ),
        (
            MEMBER,
            UpstreamTimeout("slow", provider="civil_registry"),
            "partner identification (the agency did not answer in time)",
        ),
        (
            MEMBER,
            Identification(PARTNER, date(2025, 1, 2), found().provenance),
            "partner identification (the person found is deceased)",
        ),
    ],
    ids=["no birth date", "no sex", "several", "nobody", "registry timeout", "deceased"],
)
async def test_an_uncertain_partner_is_never_guessed(
    member: HouseholdMember, outcome: Identification | ConnectorError, missing: str
) -> None:
    reader, exchange, _, _ = _reader(outcome)
    read = await reader.read(_request(member=member))
    assert (read.missing, read.fields) == (missing, {})
    assert exchange.asked == []  # no resources read of anyone
    # Only the registry failing to answer may read otherwise when asked again.
    assert read.agency_failed == isinstance(outcome, UpstreamTimeout)


async def test_resources_not_released_are_named_with_why() -> None:
    failed = {"resources": FieldFailure("UPSTREAM_UNAVAILABLE", "down", "gip_mds")}
    reader, _, _, _ = _reader(found(), _view({}, failed))
    read = await reader.read(_request())
    assert read.missing == "partner resources (the agency is unavailable)"
    assert read.agency_failed


async def test_resources_the_agency_answered_it_does_not_hold_are_not_an_agency_failure() -> None:
    failed = {"resources": FieldFailure("NOT_FOUND", "unknown", "gip_mds")}
    reader, _, _, _ = _reader(found(), _view({}, failed))
    read = await reader.read(_request())
    assert read.missing == "partner resources (unknown to the agency)"
    assert not read.agency_failed


async def test_the_aah_status_not_released_is_named_and_the_resources_kept() -> None:
    failed = {"benefits.aah": FieldFailure("UPSTREAM_TIMEOUT", "slow", "caf")}
    reader, _, _, _ = _reader(found(), _view({"resources": RESOURCES}, failed))
    read = await reader.read(_request())
    assert read.missing == "partner benefits.aah (the agency did not answer in time)"
    assert read.agency_failed
    # What was released is handed over: the rules take the unknown AAH at its bounds.
    assert read.fields == {"resources": RESOURCES}


async def test_the_exchange_refuses_a_partner_read_the_purpose_does_not_allow(
    tmp_path: Path,
) -> None:
    # A purpose granting every category of the person, but without a partner section.
    catalogue = load_catalogue(with_everything(tmp_path, "everything"))
    sink = MemorySink()
    exchange = Exchange(
        cast(Connectors, Bundle(Registry(found()))),
        PolicyDecider(catalogue, None, PSEUDONYMS),
        PSEUDONYMS,
        auditor(PSEUDONYMS, sink),
    )
    everything = AccessContext("everything", "13002526500013", "x")
    verdict = exchange.partner_verdict(DEPARTEMENT, everything, frozenset({"identity"}), ON)
    assert verdict.request.rule_id == "partner.not_granted"
    with pytest.raises(AccessRefused):
        await exchange.identify(IdentifyRequest(DEPARTEMENT, TRAITS, everything, ON, "a1"))
    [entry] = sink.entries
    assert entry.outcome == "refused" and entry.person is None
    assert dict(entry.details) == {"about": "household_member", "household_of": "a1"}
    # The same identification for the examined person's own purpose would be released.
    released = await exchange.identify(IdentifyRequest(DEPARTEMENT, TRAITS, everything, ON))
    assert released.identity == PARTNER


PENSION = Retirement((), False, None, None, Provenance("CNAV", "cnav.retraite", ON, NOW))
RSA = AccessContext("rsa_instruction", "13002526500013", "dossier-4")


def _with_pension(context: AccessContext = CHECK) -> PartnerRequest:
    return replace(_request(context=context), optional=frozenset({"pension"}))


async def test_the_partners_pension_is_read_with_their_resources_when_allowed() -> None:
    released = {"resources": RESOURCES, "benefits.aah": AAH, "pension": PENSION}
    reader, exchange, _, _ = _reader(found(), _view(released))
    read = await reader.read(_with_pension())
    assert read.missing is None and read.fields == released
    [asked] = exchange.asked  # one read: the exchange audits it as any partner read
    assert asked.fields == frozenset({"resources", "benefits.aah", "pension"})


async def test_the_partners_pension_is_left_out_where_the_purpose_does_not_allow_it() -> None:
    # The RSA instruction's partner section grants no retraite: the resources are still read.
    reader, exchange, _, _ = _reader(found())
    read = await reader.read(_with_pension(RSA))
    assert read.missing is None and set(read.fields) == {"resources", "benefits.aah"}
    [asked] = exchange.asked
    assert asked.fields == PARTNER_FIELDS


async def test_a_pension_not_released_is_named_after_the_resources() -> None:
    pension = {"pension": FieldFailure("UPSTREAM_UNAVAILABLE", "down", "cnav")}
    reader, _, _, _ = _reader(
        found(), _view({"resources": RESOURCES, "benefits.aah": AAH}, pension)
    )
    read = await reader.read(_with_pension())
    assert read.missing == "partner pension (the agency is unavailable)"
    assert set(read.fields) == {"resources", "benefits.aah"}
    both = {**pension, "resources": FieldFailure("UPSTREAM_TIMEOUT", "slow", "gip_mds")}
    reader, _, _, _ = _reader(found(), _view({"benefits.aah": AAH}, both))
    read = await reader.read(_with_pension())
    assert read.missing == "partner resources (the agency did not answer in time)"
