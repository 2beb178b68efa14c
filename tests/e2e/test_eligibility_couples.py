"""Couples in an interactive eligibility query: the partner named by the CAF household is
identified at the civil registry and their resources read under the same request, each
access audited about the partner and shown in the partner's own journal; a purpose without a
partner section, or a partner who cannot be told from a homonym, leaves the couple
unevaluated, naming the partner's data and why."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit import AuditFilter
from connectors import PivotIdentity
from eligibility import EligibilityService
from eligibility.engine import evaluate_one
from eligibility.inputs import (
    HISTORY_MONTHS,
    INPUT_FIELDS,
    PARTNER_FIELDS,
    person_data_from_fields,
    with_partner,
)
from eligibility.stated import FAMILY_BASE_UNKNOWN
from exchange import AUDIT_SECTOR, AccessContext, Client, PersonReference, PersonRequest
from exchange.oversight import HOUSEHOLD_MEMBER_NOTE
from runtime import Services
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from sandbox.population import Population
from tests.e2e.conftest import RECIPIENT, Gateway, identity, open_gateway
from tests.sandbox.twins import with_twin

MONTH = "2025-06"
COUPLE = "couple-deux-enfants-salaire-1400"  # one earner at 1,400 €, a partner without income
CONFIG = SandboxConfig(size=40, reference_month=MONTH)
SCOPES = "person:read eligibility:read"
CHECK = {"purpose": "eligibility_check", "recipient": RECIPIENT, "object": "entretien-couple"}
# The request path's own purpose: every category of the person, no partner section.
NO_PARTNER = {"purpose": "e2e_everything", "recipient": RECIPIENT, "object": "essai-couple"}
BENEFITS = ("rsa", "ppa", "css", "aspa", "aide_logement")
Q = """query($ref: PersonRef!, $ctx: AccessContextInput!, $month: String!) {
  eligibility(ref: $ref, context: $ctx, month: $month,
              benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT]) {
    benefit status monthlyAmount missing explanation { criteria { text } } } }"""
VIEW = """query($ref: PersonRef!, $ctx: AccessContextInput!) {
  person(ref: $ref, context: $ctx) { accessId
    eligibility(benefits: [RSA, PPA, CSS, ASPA, AIDE_LOGEMENT], month: "2025-06") {
      benefit status monthlyAmount missing explanation { criteria { text } } } } }"""
JOURNAL = "{ myAccessLog { items { organisation purpose legalBasis { title } categories note } } }"


@pytest.fixture(scope="module")
def population() -> Population:
    return CONFIG.population()


@pytest.fixture(scope="module")
def couple_sandbox(population: Population) -> Iterator[RunningSandbox]:
    with start_in_thread(CONFIG, population) as running:
        yield running


@pytest.fixture(scope="module")
def twinned_sandbox(population: Population) -> Iterator[RunningSandbox]:
    """The same population, where a generated adult is the partner's homonym born elsewhere."""
    partner = population.persons[_couple(population)[1]]
    stranger = next(
        p for p in population.persons if p.index not in population.scenario_of and not p.date_deces
    )
    with start_in_thread(CONFIG, with_twin(population, partner, stranger)) as running:
        yield running


def _couple(population: Population) -> tuple[int, int]:
    """(the earner, their partner): the scenario household's two adults."""
    adults = [
        i
        for i, scenario in population.scenario_of.items()
        if scenario == COUPLE and i in population.household_of(population.persons[i]).adults
    ]
    earner = next(i for i in adults if population.persons[i].truth.ppa_non_claimant)
    return earner, next(i for i in adults if i != earner)


@pytest.fixture
async def gateway(
    couple_sandbox: RunningSandbox, tmp_path: Path, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    async with open_gateway(couple_sandbox, tmp_path, rules) as gw:
        yield gw


@pytest.fixture
async def twinned(
    twinned_sandbox: RunningSandbox, tmp_path: Path, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    async with open_gateway(twinned_sandbox, tmp_path, rules) as gw:
        yield gw


async def _listed(gateway: Gateway) -> tuple[dict[str, Any], dict[str, Any]]:
    """(earner, partner) as the sandbox's population listing describes them."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{COUPLE}", "limit": 10},
        )
    adults = [e for e in answer.json()["data"] if e["role"] == "adult"]
    assert len(adults) == 2 and len({e["household"] for e in adults}) == 1
    earner = next(e for e in adults if e["truth"]["ppa_non_claimant"])
    return earner, next(e for e in adults if e is not earner)


def _pivot(entry: dict[str, Any]) -> PivotIdentity:
    i = identity(entry)
    return PivotIdentity(
        i["birthName"],
        tuple(i["givenNames"]),
        date.fromisoformat(i["birthDate"]),
        i["sex"],
        i["birthCountry"],
        i.get("birthPlace"),
    )


def _services(gateway: Gateway) -> Services:
    services: Services = gateway.http._transport.app.state.services  # type: ignore[attr-defined]
    return services


async def _ask(gateway: Gateway, entry: dict[str, Any], ctx: dict[str, str]) -> dict[str, Any]:
    token = gateway.token_for("demo-agency-app", SCOPES)
    variables = {"ref": {"identity": identity(entry)}, "ctx": ctx, "month": MONTH}
    body = (await gateway.query(Q, variables, token=token)).json()
    assert "errors" not in body, body.get("errors")
    return {r["benefit"].lower(): r for r in body["data"]["eligibility"]}


def _unknown_partner(got: dict[str, Any], why: str) -> None:
    """The partner's data is unknown for ``why``: each benefit either answers CANNOT_EVALUATE
    naming it, or, when the partner's resources at their bounds cannot change the answer,
    answers with the note naming it; the earner alone at 1,400 € does not settle the prime
    d'activité, which the partner's earnings would change."""
    for benefit in ("rsa", "ppa", "css", "aide_logement"):
        result = got[benefit]
        if result["status"] == "CANNOT_EVALUATE":
            assert why in result["missing"], result
        else:
            note = result["explanation"]["criteria"][-1]["text"]
            assert note.startswith("Données manquantes sans effet"), result
            assert why in note, result
    assert got["ppa"]["status"] == "CANNOT_EVALUATE", got["ppa"]


async def _read(
    gateway: Gateway, entry: dict[str, Any], fields: frozenset[str]
) -> dict[str, object]:
    """The records of ``entry`` the exchange releases under eligibility_check, read in this
    process by the same reference as the query's (the pivot identity alone)."""
    view = await _services(gateway).exchange.person(
        PersonRequest(
            caller=Client("demo-agency-app", frozenset({"person:read"})),
            ref=PersonReference(identity=_pivot(entry)),
            context=AccessContext("eligibility_check", RECIPIENT, "calcul-de-reference"),
            fields=fields,
            on=gateway.clock.now.date(),
            months=HISTORY_MONTHS,
            period_on=date(2025, 6, 1),
        )
    )
    return dict(view.fields)


async def _expected(gateway: Gateway, earner: dict[str, Any], partner: dict[str, Any]) -> Any:
    """What the rules answer, in this process, on the same agencies' records of both."""
    read = functools.partial(_read, gateway)
    # The same reference as the query's (the pivot identity alone), so the same records.
    data = person_data_from_fields(await read(earner, INPUT_FIELDS))
    assert data is not None
    completed = with_partner(data, await read(partner, PARTNER_FIELDS))
    assert completed is not None
    return {r.benefit: r for r in evaluate_one(completed, BENEFITS, MONTH)}


async def test_a_couple_is_evaluated_with_the_partner_resources(gateway: Gateway) -> None:
    earner, partner = await _listed(gateway)
    got = await _ask(gateway, earner, CHECK)
    expected = await _expected(gateway, earner, partner)
    for benefit in BENEFITS:
        result, want = got[benefit], expected[benefit]
        assert not any(m.startswith("partner") for m in result["missing"]), result
        assert result["status"] == want.status, (benefit, result, want)
        if want.monthly_amount is None:
            assert result["monthlyAmount"] is None, (benefit, result)
        else:
            assert result["monthlyAmount"] == pytest.approx(want.monthly_amount, abs=0.005)
    # The prime d'activité of a couple with two children and one wage: evaluated, not refused.
    assert got["ppa"]["status"] in ("ELIGIBLE", "NOT_ELIGIBLE")
    # The same answer through the person view's eligibility, under the same request.
    token = gateway.token_for("demo-agency-app", SCOPES)
    body = (
        await gateway.query(
            VIEW, {"ref": {"identity": identity(earner)}, "ctx": CHECK}, token=token
        )
    ).json()
    assert "errors" not in body, body.get("errors")
    viewed = {r["benefit"].lower(): r for r in body["data"]["person"]["eligibility"]}
    assert viewed == got


async def test_the_partner_accesses_are_audited_and_shown_in_their_journal(
    gateway: Gateway,
) -> None:
    earner, partner = await _listed(gateway)
    await _ask(gateway, earner, CHECK)
    services = _services(gateway)
    about = services.pseudonyms.pseudonym(_pivot(partner), AUDIT_SECTOR)
    mine = services.pseudonyms.pseudonym(_pivot(earner), AUDIT_SECTOR)
    page = await services.audit_reader.entries(AuditFilter(person=about), first=10)
    entries = [s.entry for s in page.items]
    # One read of the partner's resources and AAH status (GIP-MDS does not declare the AAH).
    assert sorted((e.released, e.agencies, e.outcome) for e in entries) == [
        (("benefits.aah", "resources"), ("cnaf", "gip_mds"), "released"),
        (("identity",), ("civil_registry",), "released"),
    ]
    (own,) = [
        s.entry for s in (await services.audit_reader.entries(AuditFilter(person=mine))).items
    ]
    for entry in entries:
        assert (entry.client, entry.purpose, entry.recipient, entry.object) == (
            own.client,
            own.purpose,
            own.recipient,
            own.object,
        )
        assert dict(entry.details) == {"about": "household_member", "household_of": own.id}
        # The household's resources, not the purpose's own basis.
        assert entry.legal_basis is not None and "R262-6" in entry.legal_basis[0]
    assert dict(own.details) == {}
    citizen = await gateway.citizen_token(partner["index"])
    journal = (await gateway.query(JOURNAL, token=citizen)).json()["data"]["myAccessLog"]
    assert len(journal["items"]) == 2
    for item in journal["items"]:
        assert item["note"] == HOUSEHOLD_MEMBER_NOTE
        assert "membre du foyer d'une personne dont les droits étaient examinés" in item["note"]
        assert item["organisation"].startswith("Conseil départemental")
        assert item["purpose"].startswith("Examen des droits")
    # The examined person's own journal shows their own access, with no such note.
    own_token = await gateway.citizen_token(earner["index"])
    theirs = (await gateway.query(JOURNAL, token=own_token)).json()["data"]["myAccessLog"]
    assert [i["note"] for i in theirs["items"]] == [None]


async def test_a_purpose_without_a_partner_section_names_what_it_lacks(gateway: Gateway) -> None:
    earner, partner = await _listed(gateway)
    got = await _ask(gateway, earner, NO_PARTNER)
    _unknown_partner(got, "partner benefits.aah, partner resources (not allowed by the purpose)")
    # Nobody was searched for, nothing read about the partner.
    services = _services(gateway)
    about = services.pseudonyms.pseudonym(_pivot(partner), AUDIT_SECTOR)
    assert (await services.audit_reader.entries(AuditFilter(person=about))).items == ()
    page = await services.audit_reader.entries(AuditFilter(purpose="e2e_everything"))
    assert [s.entry.released != () for s in page.items] == [True]  # the earner's access only


async def test_a_partner_with_a_homonym_is_not_guessed(twinned: Gateway) -> None:
    earner, partner = await _listed(twinned)
    got = await _ask(twinned, earner, CHECK)
    _unknown_partner(got, "partner identification (several persons match)")
    assert all("partner resources" not in r["missing"] for r in got.values())
    services = _services(twinned)
    page = await services.audit_reader.entries(AuditFilter(outcome="failed"))
    ((failed),) = [s.entry for s in page.items]
    assert failed.person is None and failed.denied == (("identity", "AMBIGUOUS"),)
    assert dict(failed.details)["about"] == "household_member"
    about = services.pseudonyms.pseudonym(_pivot(partner), AUDIT_SECTOR)
    assert (await services.audit_reader.entries(AuditFilter(person=about))).items == ()


PENSIONERS = "couple-retraites-petites-pensions"  # married, 70 and 68, 600 € and 300 € net


async def test_a_pensioner_couples_aspa_reads_the_partners_pension(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": f"scenario:{PENSIONERS}", "limit": 10},
        )
    adults = [e for e in answer.json()["data"] if e["role"] == "adult"]
    claimant, partner = sorted(adults, key=lambda e: identity(e)["birthDate"])
    got = await _ask(gateway, claimant, CHECK)
    # The partner's gross pensions come from their CNAV record: the ASPA is decided.
    assert got["aspa"]["status"] in ("ELIGIBLE", "NOT_ELIGIBLE"), got["aspa"]
    assert not any(m.startswith("partner") for m in got["aspa"]["missing"]), got["aspa"]
    # The CNAV record read with the partner's resources and AAH status, in the same audited access.
    services = _services(gateway)
    about = services.pseudonyms.pseudonym(_pivot(partner), AUDIT_SECTOR)
    page = await services.audit_reader.entries(AuditFilter(person=about), first=10)
    assert sorted((s.entry.released, s.entry.outcome) for s in page.items if s.entry.released) == [
        (("benefits.aah", "pension", "resources"), "released"),
        (("identity",), "released"),
    ]
    # The same rules in this process, on the same records, the partner's CNAV record included.
    read = functools.partial(_read, gateway)
    data = person_data_from_fields(await read(claimant, INPUT_FIELDS))
    assert data is not None
    completed = with_partner(data, await read(partner, PARTNER_FIELDS | {"pension"}))
    assert completed is not None and completed.partner_retirement is not None
    (want,) = evaluate_one(completed, ("aspa",), MONTH)
    assert got["aspa"]["status"] == want.status
    assert got["aspa"]["monthlyAmount"] == pytest.approx(want.monthly_amount, abs=0.005)


async def test_partners_filing_apart_have_both_tax_households_read(
    gateway: Gateway, population: Population
) -> None:
    # Concubins with children: each files their own return, and the family benefits' N-2
    # base (counted by the RSA, the PPA and the CSS) is the couple's income.
    household = next(
        population.household_of(p)
        for p in population.persons
        if population.household_of(p).situation == "concubin"
        and population.household_of(p).children
        and len(population.household_of(p).adults) == 2
    )
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            gateway.sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "couple_children", "limit": 100},
        )
    adults = [
        e for e in answer.json()["data"] if e["household"] == household.id and e["role"] == "adult"
    ]
    first, second = sorted(adults, key=lambda e: e["index"])
    got = await _ask(gateway, first, CHECK)
    for benefit in ("rsa", "ppa", "css"):
        assert FAMILY_BASE_UNKNOWN.what not in got[benefit]["missing"], got[benefit]
    # The partner's own tax household was read with their resources, in the same access.
    services = _services(gateway)
    about = services.pseudonyms.pseudonym(_pivot(second), AUDIT_SECTOR)
    page = await services.audit_reader.entries(AuditFilter(person=about), first=10)
    assert sorted(s.entry.released for s in page.items if s.entry.released) == [
        ("benefits.aah", "resources", "taxHousehold"),
        ("identity",),
    ]
    # The same answers as the rules in this process on both households' records.
    read = functools.partial(_read, gateway)
    data = person_data_from_fields(await read(first, INPUT_FIELDS))
    assert data is not None
    completed = with_partner(data, await read(second, PARTNER_FIELDS | {"taxHousehold"}))
    assert completed is not None and completed.partner_tax is not None
    for want in evaluate_one(completed, ("rsa", "ppa", "css"), MONTH):
        assert (got[want.benefit]["status"], got[want.benefit]["monthlyAmount"]) == (
            want.status,
            want.monthly_amount
            if want.monthly_amount is None
            else pytest.approx(want.monthly_amount, abs=0.005),
        ), want
