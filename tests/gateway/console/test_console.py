"""The auditors' console over the gateway's ASGI app, signed in through the sandbox's
ProConnect-style provider over real HTTP: who may enter, the search and its refusals, an
entry, the exports, what the log records of each query, and signing out."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from audit import AuditEntry, AuditFilter
from audit.campaigns import Campaign
from connectors import PivotIdentity
from eligibility import EligibilityService
from exchange import AUDIT_SECTOR
from gateway.app import build_app
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.sandbox.test_france_connect_pages import FORM, click

PUBLIC = "http://127.0.0.1:8000"
DPO = "Camille Martin"  # an agent of an organisation auditors.yaml lists
CLERK = "Lucas Bernard"  # an agent of an organisation it does not
RECIPIENT = "21750001600019"
PERSON = PivotIdentity(
    birth_name="Durand",
    given_names=("Alice", "Marie"),
    birth_date=date(1985, 4, 12),
    sex="F",
    birth_country="99100",
    birth_place="75056",
)
OTHER = PivotIdentity(
    birth_name="Petit",
    given_names=("Paul",),
    birth_date=date(1970, 1, 2),
    sex="M",
    birth_country="99100",
    birth_place="69123",
)
PERSON_FORM = {
    "nom": "DURAND",
    "prenoms": "Alice Marie",
    "naissance": "1985-04-12",
    "sexe": "F",
    "commune": "75056",
    "pays": "99100",
}


PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=20, scenarios=None)) as running:
        yield running


@dataclass
class Console:
    http: httpx.AsyncClient
    app: Starlette

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


def settings_of(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    return load(
        {
            "UNEFOIS_DATA_DIR": str(data_dir),
            "UNEFOIS_PUBLIC_URL": PUBLIC,
            "UNEFOIS_AGENT_CONNECT_ISSUER": sandbox.agent_connect_url,
        }
    )


@asynccontextmanager
async def console(sandbox: RunningSandbox, data_dir: Path) -> AsyncIterator[Console]:
    app = build_app(
        settings_of(sandbox, data_dir), clock=now, eligibility=EligibilityService(workers=1)
    )
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http,
    ):
        yield Console(http, app)


async def sign_in(http: httpx.AsyncClient, agent: str) -> httpx.Response:
    """The browser's round trip: the console, the provider's page, the agent clicked, back."""
    start = await http.get("/console/connexion")
    assert start.status_code == 303
    async with httpx.AsyncClient(timeout=10.0) as browser:
        login = await browser.get(start.headers["location"])
        assert login.status_code == 200
        url, body = click(str(login.url), login.text, agent)
        chosen = await browser.post(url, content=body, headers=FORM)
    back = chosen.headers["location"]
    assert back.startswith(PUBLIC + "/console/connexion/retour?")
    return await http.get(back.removeprefix(PUBLIC))


def shown(page: httpx.Response) -> str:
    return html.unescape(page.text)


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found is not None, "the page has no form token"
    return found.group(1)


def access(
    services: Services,
    identity: PivotIdentity,
    *,
    object: str,
    at: datetime,
    details: tuple[tuple[str, str], ...] = (),
    entry_id: str | None = None,
) -> AuditEntry:
    purpose = services.catalogue.purposes["rsa_instruction"]
    return AuditEntry(
        id=entry_id or uuid.uuid4().hex,
        time=at,
        kind="person_access",
        client="demo-agency-app",
        caller="client",
        purpose="rsa_instruction",
        recipient=RECIPIENT,
        object=object,
        legal_basis=(purpose.legal_basis.title, purpose.legal_basis.href),
        person=services.pseudonyms.pseudonym(identity, AUDIT_SECTOR),
        released=("identity.birthName",),
        denied=(("health.cssStatus", "purpose 'rsa_instruction' does not release category 'x'"),),
        agencies=("cnaf",),
        outcome="partial",
        policy_revision=services.catalogue.revision,
        details=details,
    )


async def queries(services: Services) -> list[AuditEntry]:
    page = await services.audit_reader.entries(AuditFilter(kind="audit_query"), first=500)
    return [stored.entry for stored in page.items]


async def test_signed_out_the_console_offers_proconnect_only(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        home = await c.http.get("/console/")
        assert home.status_code == 200
        assert "fr-connect--pro" in shown(home) and "ProConnect" in shown(home)
        for path in ("/console/journal", "/console/anomalies", "/console/integrite"):
            answer = await c.http.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/console/"
        export = await c.http.get("/console/journal/export/csv")
        assert export.status_code == 303
        assert await queries(c.services) == []


async def test_an_auditor_answers_who_read_a_person_and_why(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        services = c.services
        yesterday = now() - timedelta(days=1)
        mine = access(services, PERSON, object="RSA-2026-117", at=yesterday)
        partner = access(
            services,
            PERSON,
            object="RSA-2026-118",
            at=yesterday,
            details=(("about", "household_member"), ("household_of", "f" * 32)),
        )
        household = access(services, OTHER, object="RSA-2026-118", at=yesterday, entry_id="f" * 32)
        for entry in (mine, household, partner):
            await services.audit_log.append(entry)

        back = await sign_in(c.http, DPO)
        assert back.status_code == 303 and back.headers["location"] == "/console/"
        home = await c.http.get("/console/")
        assert "Bonjour Camille Martin" in shown(home) and "22990001400015" in shown(home)

        journal = await c.http.get("/console/journal")
        assert journal.status_code == 200
        # The console's days are Paris days (a day ahead of UTC from 23:00 UTC in winter).
        today = now().astimezone(PARIS).date()
        week = f"du={today - timedelta(days=7)}&au={today}"
        chosen = await c.http.post(
            "/console/journal/personne",
            data={**PERSON_FORM, "csrf": csrf(journal), "filtres": week},
        )
        assert chosen.status_code == 303
        assert chosen.headers["location"] == "/console/journal?" + week
        assert "DURAND" not in chosen.headers["location"]
        found = await c.http.get(chosen.headers["location"])
        assert found.status_code == 200
        seqs = [int(s) for s in re.findall(r'href="/console/journal/(\d+)"', found.text)]
        # The person's own access, the one as a partner, and this very search (recorded
        # under the person's pseudonym before it ran); not the other person's access.
        assert sorted(seqs) == [1, 3, 5]
        assert "RSA-2026-117" in shown(found) and "Conseil départemental" in shown(found)
        assert "DURAND" not in shown(found).upper().replace('DURAND"', "")  # never shown back

        # The person's identity is not in the session, only the audit pseudonym.
        cookie = c.http.cookies.get("unefois-console")
        assert cookie
        stored = await services.web_sessions.get(cookie, "console", now())
        assert stored is not None
        pseudonym = services.pseudonyms.pseudonym(PERSON, AUDIT_SECTOR)
        assert stored.data["person"] == pseudonym
        assert "Durand" not in orjson.dumps(stored.data).decode()

        entry_page = await c.http.get("/console/journal/3")
        assert entry_page.status_code == 200
        basis = services.catalogue.purposes["rsa_instruction"].legal_basis
        read = shown(entry_page)
        assert basis.title in read and basis.href in read
        assert "la finalité ne couvre pas cette catégorie de données" in read
        assert RECIPIENT in read and pseudonym in read
        assert 'href="/console/journal/2">Voir l\'accès du foyer' in read  # the partner's
        missing = await c.http.get("/console/journal/999999")
        assert missing.status_code == 404

        export = await c.http.get("/console/journal/export/csv?" + week)
        assert export.status_code == 200
        assert export.headers["content-disposition"].startswith("attachment;")
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert {r["id"] for r in rows} >= {mine.id, partner.id}
        assert household.id not in {r["id"] for r in rows}
        lines = await c.http.get("/console/journal/export/jsonl?" + week)
        assert lines.headers["content-disposition"].endswith('.jsonl"')
        exported = [orjson.loads(line) for line in shown(lines).splitlines()]
        assert {line["seq"] for line in exported} >= {1, 3}
        assert 2 not in {line["seq"] for line in exported}
        # For a spreadsheet set up for French: BOM, ';', French columns, Paris time, words.
        table = await c.http.get("/console/journal/export/tableur?" + week)
        assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
        assert "journal-unefois-tableur-" in table.headers["content-disposition"]
        assert table.content.startswith("\ufeff".encode())
        sheet = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig")), delimiter=";"))
        assert sheet[0][:3] == ["N°", "Date et heure (Paris)", "Nature"]
        by_seq = {r[0]: dict(zip(sheet[0], r, strict=True)) for r in sheet[1:]}
        assert set(by_seq) >= {"1", "3"} and "2" not in by_seq
        mine_row = by_seq["1"]
        assert mine_row["Organisme"] == "Conseil départemental (démonstration)"
        assert mine_row["Référence du dossier"] == "RSA-2026-117"
        assert mine_row["Date et heure (Paris)"] == mine.time.astimezone(PARIS).strftime(
            "%d/%m/%Y %H:%M:%S"
        )
        assert mine_row["Finalité"] == services.catalogue.purposes["rsa_instruction"].label
        assert mine_row["Personne (pseudonyme d'audit)"] == pseudonym

        # Every query is in the log: the agent by subject and SIRET, the person by pseudonym.
        recorded = await queries(services)
        assert {e.object for e in recorded} >= {"auditLog", "auditExport", "auditEntry"}
        formats = {dict(e.details).get("format") for e in recorded if e.object == "auditExport"}
        assert formats == {"csv", "jsonl", "spreadsheet"}
        # Opening an entry says which one, and whose: not an unfiltered search.
        opened = [dict(e.details) for e in recorded if e.object == "auditEntry"]
        assert {"seq": "3", "entry": partner.id} in [
            {k: d[k] for k in ("seq", "entry") if k in d} for d in opened
        ]
        assert any(
            e.object == "auditEntry" and e.person == pseudonym and dict(e.details)["seq"] == "3"
            for e in recorded
        )
        for entry in recorded:
            details = dict(entry.details)
            assert details["agent_siret"] == "22990001400015"
            assert details["agent_sub"]
            assert entry.client == "demo-auditor"
        searched = [e for e in recorded if e.person == pseudonym]
        assert {e.object for e in searched} >= {"auditLog", "auditExport"}
        text = " ".join(repr(e) for e in recorded)
        assert "Camille" not in text and "departement-demo.test" not in text

        # Signing out: refused without the form's token, then done; the old cookie opens nothing.
        refused = await c.http.post("/console/deconnexion", data={})
        assert refused.status_code == 403
        out = await c.http.post("/console/deconnexion", data={"csrf": csrf(journal)})
        assert out.status_code == 303
        assert out.headers["location"].startswith(sandbox.agent_connect_url)
        assert await services.web_sessions.get(cookie, "console", now()) is None
        c.http.cookies.set("unefois-console", cookie, path="/console")
        again = await c.http.get("/console/journal")
        assert again.status_code == 303
        bye = await c.http.get("/console/deconnexion/retour")
        assert "Vous êtes déconnecté(e)" in shown(bye)


async def test_an_access_corrected_after_the_agencies_answered_reads_as_what_happened(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        services = c.services
        yesterday = now() - timedelta(days=1)
        # Written while the agencies were called, then corrected: the CNAF did not answer.
        expected = access(services, PERSON, object="RSA-2026-300", at=yesterday)
        correction = replace(
            expected,
            id=uuid.uuid4().hex,
            released=(),
            denied=(*expected.denied, ("identity.birthName", "UPSTREAM_TIMEOUT")),
            outcome="failed",
            details=(("corrects", expected.id),),
        )
        partner = access(
            services,
            OTHER,
            object="RSA-2026-300",
            at=yesterday,
            details=(("about", "household_member"), ("household_of", expected.id)),
        )
        for entry in (expected, correction, partner):
            await services.audit_log.append(entry)
        await sign_in(c.http, DPO)
        today = now().astimezone(PARIS).date()
        journal = await c.http.get(f"/console/journal?du={today - timedelta(days=7)}&au={today}")
        seqs = {int(s) for s in re.findall(r'href="/console/journal/(\d+)"', journal.text)}
        assert {2, 3} <= seqs and 1 not in seqs  # the correction in the first entry's place
        first = shown(await c.http.get("/console/journal/1"))
        assert "l'accès s'est terminé autrement" in first
        assert 'href="/console/journal/2">Voir ce qui a été réellement transmis' in first
        second = shown(await c.http.get("/console/journal/2"))
        assert "Corrige l'entrée écrite pendant l'appel des organismes" in second
        assert expected.id in second and "terminé autrement" not in second
        # The partner's access names the household's access by its first id: found corrected.
        third = shown(await c.http.get("/console/journal/3"))
        assert 'href="/console/journal/2">Voir l\'accès du foyer' in third


async def test_an_agent_of_an_organisation_not_listed_is_refused(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        refused = await sign_in(c.http, CLERK)
        assert refused.status_code == 403
        assert "n'est pas habilité" in shown(refused)
        assert "unefois-console" not in c.http.cookies
        assert (await c.http.get("/console/journal")).status_code == 303


async def test_a_return_without_a_sign_in_in_progress_is_refused(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        answer = await c.http.get("/console/connexion/retour?code=x&state=y")
        assert answer.status_code == 400
        assert "Connexion expirée" in shown(answer)


async def test_filters_are_checked_before_any_query(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        await sign_in(c.http, DPO)
        bad = await c.http.get(
            "/console/journal",
            params={
                "du": "2026-05-10",
                "au": "2026-05-01",
                "finalite": "inconnue",
                "destinataire": "123",
            },
        )
        assert bad.status_code == 400
        assert 'href="#au"' in shown(bad) and "La date de fin doit être" in shown(bad)
        assert "Choisissez une finalité de la liste." in shown(bad)
        assert "Le destinataire est un SIRET" in shown(bad)
        not_a_date = await c.http.get("/console/anomalies", params={"du": "31/02/2026"})
        assert not_a_date.status_code == 400 and "La date de début doit être une date" in shown(
            not_a_date
        )
        beyond = await c.http.get("/console/journal/99999999999999999999")
        assert beyond.status_code == 404
        assert await queries(c.services) == []  # nothing was asked of the log

        journal = await c.http.get("/console/journal")  # a search of everything: recorded
        asked = len(await queries(c.services))
        no_token = await c.http.post("/console/journal/personne", data=PERSON_FORM)
        assert no_token.status_code == 403
        incomplete = await c.http.post(
            "/console/journal/personne",
            data={**PERSON_FORM, "naissance": "", "csrf": csrf(journal)},
        )
        assert incomplete.status_code == 400
        assert "Indiquez la date de naissance" in shown(incomplete)
        assert 'value="DURAND"' in shown(incomplete)  # typed values kept on the page only
        assert len(await queries(c.services)) == asked


async def test_anomalies_and_integrity_are_audited_queries(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        await sign_in(c.http, DPO)
        anomalies = await c.http.get("/console/anomalies")
        assert anomalies.status_code == 200
        assert "Aucune anomalie sur cette période." in shown(anomalies)
        integrity = await c.http.get("/console/integrite")
        assert integrity.status_code == 200
        assert "Dernier point de contrôle signé" in shown(integrity)
        said = " ".join(shown(integrity).split())
        assert "écrites depuis le dernier point de contrôle, s'enchaînent correctement" in said
        assert "Contrôle fait à l'ouverture de cette page, le" in said
        objects = {e.object for e in await queries(c.services)}
        assert objects == {"auditAnomalies", "auditChainStatus"}


async def test_declared_campaigns_are_shown_apart_from_anomalies(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with console(sandbox, tmp_path) as c:
        services = c.services
        at = now() - timedelta(hours=2)
        await services.oversight.declare_campaign(
            Campaign(
                object="rsa-campagne-1",
                client="demo-agency-app",
                purpose="rsa_instruction",
                start=at - timedelta(hours=1),
                end=at + timedelta(hours=1),
                declared_at=at - timedelta(hours=1),
                population=60,
            )
        )
        for object in ("rsa-campagne-1", "DOSSIER-FOURRE-TOUT"):
            for i in range(50):
                entry = access(services, PERSON, object=object, at=at)
                await services.audit_log.append(replace(entry, person=f"pseudonyme-{i}"))
        await sign_in(c.http, DPO)
        page = shown(await c.http.get("/console/anomalies"))
        flagged, declared = page.split("Campagnes déclarées", 1)
        assert "50 personnes différentes sous la référence « DOSSIER-FOURRE-TOUT »" in flagged
        assert "rsa-campagne-1" not in flagged
        assert "« rsa-campagne-1 », comme l'annonçait la campagne déclarée" in declared
        assert "60 personnes prévues" in declared
