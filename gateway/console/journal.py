"""The journal: search the accesses, open one, export a search.

Every search, entry opened and export is itself an audited query, made through the
oversight service in the agent's name (:mod:`.oversight`). The person searched for is the
audit pseudonym kept in the console session: their identity is POSTed once, turned into it,
and forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from exchange import Client
from exchange.errors import AccessRefused, InvalidRequest, NotRecorded
from exchange.oversight import AuditQuery, ExportFormat, Oversight, Record
from gateway.console.access import Clock, SignedIn, page, problem_page, signed_in, to_sign_in
from gateway.console.filters import (
    NAMES,
    PAGE_SIZE,
    Problem,
    Search,
    read_identity,
    read_search,
)
from gateway.console.oversight import caller_of, oversight_for, pseudonym_of
from gateway.console.spreadsheet import spreadsheet
from gateway.console.words import (
    CALLERS,
    KINDS,
    OUTCOME_BADGES,
    OUTCOMES,
    PARIS,
    category,
    detail,
    field_name,
    paris,
    reason,
)
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.sessions import web_sessions
from runtime import Services

log = logging.getLogger(__name__)

JOURNAL = "/console/journal"
UNAVAILABLE = (
    "Le journal des accès ne peut pas enregistrer votre consultation pour le moment : "
    "rien n'est affiché tant qu'elle ne l'est pas. Réessayez dans quelques minutes."
)
REFUSED = "Votre organisme n'est plus autorisé à consulter le journal des accès."
EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/jsonl; charset=utf-8", "jsonl"),
    # For reading in a spreadsheet set up for French (gateway.console.spreadsheet).
    "tableur": ("text/csv; charset=utf-8", "csv"),
}
LAST_SEQ = 2**62  # beyond any log; keeps a typed number inside the database's integers
# A partner's entry and the examined person's entry come from one request.
HOUSEHOLD_WINDOW = timedelta(minutes=10)


def options(request: Request) -> dict[str, Any]:
    """The form's closed lists, from the catalogue, in words."""
    catalogue = services_of(request).catalogue
    purposes = sorted(((p.id, p.label) for p in catalogue.purposes.values()), key=lambda x: x[1])
    clients = sorted(((c.id, c.name) for c in catalogue.clients.values()), key=lambda x: x[1])
    names = sorted({c.name for c in catalogue.clients.values()})
    return {
        "purposes": purposes,
        "clients": clients,
        "organisations": [(name, name) for name in names],
        "kinds": sorted(KINDS.items(), key=lambda x: x[1]),
        "outcomes": list(OUTCOMES.items()),
    }


def row(record: Record) -> dict[str, Any]:
    entry = record.entry
    return {
        "seq": record.seq,
        "time": paris(entry.time),
        "organisation": record.organisation.name,
        "purpose": record.purpose_label or entry.purpose,
        "object": entry.object or "",
        "kind": KINDS.get(entry.kind, entry.kind),
        "outcome": OUTCOMES.get(entry.outcome, entry.outcome),
        "badge": OUTCOME_BADGES.get(entry.outcome, ""),
    }


class JournalPages:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def _today(self) -> date:
        return self._clock().astimezone(PARIS).date()

    async def search(self, request: Request) -> Response:
        who = await signed_in(request, self._clock)
        if who is None:
            return to_sign_in()
        search = read_search(services_of(request), request.query_params)
        return await self._results(request, who, search)

    async def _results(
        self,
        request: Request,
        who: SignedIn,
        search: Search,
        person_values: dict[str, str] | None = None,
        person_problems: list[Problem] | None = None,
    ) -> Response:
        person = who.session.data.get("person")
        context: dict[str, Any] = {
            **options(request),
            "search": search,
            "values": search.values,
            "problems": [*search.problems, *(person_problems or [])],
            "person": person_values or {"pays": "99100"},
            "person_set": isinstance(person, str),
            "filters": search.link(),
            "rows": None,
            "next": None,
        }
        status = 400 if context["problems"] else 200
        if not context["problems"]:
            services = services_of(request)
            oversight = oversight_for(services, who.agent, self._clock)
            query = search.query(person if isinstance(person, str) else None)
            try:
                found = await oversight.log(
                    caller_of(who.agent),
                    query,
                    first=PAGE_SIZE,
                    after=search.after,
                    on=self._today(),
                )
            except (AccessRefused, NotRecorded, InvalidRequest) as exc:
                return self._failed(request, who, exc)
            context["rows"] = [row(r) for r in found.items]
            if found.next_after is not None:
                context["next"] = search.link(apres=str(found.next_after))
            context["first_page"] = search.link(apres=None) if search.after else None
        return page(request, "console/journal.html", who, context, section="journal", status=status)

    async def person(self, request: Request) -> Response:
        """The person searched for: their identity in, the pseudonym kept, or forgotten."""
        who = await signed_in(request, self._clock)
        if who is None:
            return to_sign_in()
        try:
            form = await checked_form(request)
        except CsrfRejected:
            message = "Ce formulaire a expiré : rechargez la page puis recommencez."
            return problem_page(request, who, "Formulaire expiré", message, 403, JOURNAL)
        kept = _filters(str(form.get("filtres", "")))
        sessions = web_sessions(request, self._clock)
        services = services_of(request)
        if form.get("action") == "oublier":
            await sessions.update(who.session, {**who.session.data, "person": None})
        else:
            values, problems, identity = read_identity({k: str(v) for k, v in form.items()})
            if identity is None:
                search = read_search(services, dict(parse_qsl(kept)))
                search.problems.clear()  # shown again once the person is right
                return await self._results(request, who, search, values, problems)
            pseudonym = pseudonym_of(services, identity)
            await sessions.update(who.session, {**who.session.data, "person": pseudonym})
        return RedirectResponse(JOURNAL + ("?" + kept if kept else ""), status_code=303)

    async def entry(self, request: Request) -> Response:
        who = await signed_in(request, self._clock)
        if who is None:
            return to_sign_in()
        seq = int(request.path_params["seq"])
        if not 0 < seq < LAST_SEQ:
            message = f"Le journal ne contient pas d'accès n° {seq}."
            return problem_page(request, who, "Accès introuvable", message, 404, JOURNAL)
        services = services_of(request)
        oversight = oversight_for(services, who.agent, self._clock)
        caller, today = caller_of(who.agent), self._today()
        try:
            record = await oversight.entry(caller, seq, on=today)
            household = None
            if record is not None:
                household = await self._household(oversight, caller, record, today)
        except (AccessRefused, NotRecorded, InvalidRequest) as exc:
            return self._failed(request, who, exc)
        if record is None:
            message = f"Le journal ne contient pas d'accès n° {seq}."
            return problem_page(request, who, "Accès introuvable", message, 404, JOURNAL)
        return page(
            request,
            "console/acces.html",
            who,
            _entry_context(services, record, household),
            section="journal",
        )

    async def _household(
        self, oversight: Oversight, caller: Client, record: Record, today: date
    ) -> dict[str, Any] | None:
        """The entry of the person whose household led to this partner's access, if any."""
        details = dict(record.entry.details)
        wanted = details.get("household_of")
        if details.get("about") != "household_member" or not wanted:
            return None
        entry = record.entry
        query = AuditQuery(
            client=entry.client,
            purpose=entry.purpose,
            object=entry.object,
            kind="person_access",
            start=entry.time - HOUSEHOLD_WINDOW,
            end=entry.time + HOUSEHOLD_WINDOW,
        )
        found = await oversight.log(caller, query, first=200, after=None, on=today)
        # The pages show a corrected entry as its correction, which names it.
        match = next((r for r in found.items if wanted in (r.entry.id, r.entry.corrects)), None)
        return {"id": wanted, "seq": match.seq if match else None}

    async def export(self, request: Request) -> Response:
        who = await signed_in(request, self._clock)
        if who is None:
            return to_sign_in()
        format = request.path_params["format"]
        if format not in EXPORTS:
            return problem_page(
                request,
                who,
                "Format inconnu",
                "Exportez pour un tableur, en CSV ou en JSON Lines.",
                404,
                JOURNAL,
            )
        services = services_of(request)
        search = read_search(services, request.query_params)
        if search.problems:
            return await self._results(request, who, search)
        person = who.session.data.get("person")
        oversight = oversight_for(services, who.agent, self._clock)
        query = search.query(person if isinstance(person, str) else None)
        caller, today = caller_of(who.agent), self._today()
        body: AsyncIterator[bytes]
        try:
            if format == "tableur":
                records = await oversight.export_records(
                    caller, query, on=today, shown_as="spreadsheet"
                )
                body = spreadsheet(records, services.catalogue)
            else:
                exported: ExportFormat = "csv" if format == "csv" else "jsonl"
                text = await oversight.export(caller, query, exported, on=today)
                body = _encoded(text)
        except (AccessRefused, NotRecorded, InvalidRequest) as exc:
            return self._failed(request, who, exc)
        media, extension = EXPORTS[format]
        # The file's name in the auditor's time, as the rest of the console.
        stamp = self._clock().astimezone(PARIS).strftime("%Y%m%d-%H%M%S")
        name = "journal-unefois-tableur" if format == "tableur" else "journal-unefois"
        headers = {
            "Content-Disposition": f'attachment; filename="{name}-{stamp}.{extension}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(body, media_type=media, headers=headers)

    def _failed(self, request: Request, who: SignedIn, exc: Exception) -> Response:
        if isinstance(exc, AccessRefused):
            return problem_page(request, who, "Accès refusé", REFUSED, 403)
        if isinstance(exc, NotRecorded):
            log.warning("console query not recorded in the audit log")
            return problem_page(request, who, "Journal indisponible", UNAVAILABLE, 503)
        message = "Cette recherche n'est pas possible. Vérifiez les filtres puis recommencez."
        return problem_page(request, who, "Recherche impossible", message, 400, JOURNAL)


async def _encoded(pieces: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for piece in pieces:
        yield piece.encode("utf-8")


def _filters(text: str) -> str:
    """A search's query string, sent back with the person form: only the form's own names."""
    pairs = [(k, v) for k, v in parse_qsl(text[:2000]) if k in NAMES and v]
    return urlencode(pairs)


def _entry_context(
    services: Services, record: Record, household: dict[str, Any] | None
) -> dict[str, Any]:
    entry = record.entry
    catalogue = services.catalogue
    purpose = catalogue.purposes.get(entry.purpose)
    client = catalogue.clients.get(entry.client)
    details = [detail(k, v) for k, v in entry.details if k not in ("about", "household_of")]
    return {
        "seq": record.seq,
        "corrected_by": record.corrected_by,
        "entry": entry,
        "time": paris(entry.time),
        "organisation": record.organisation.name,
        "listed": record.organisation.listed,
        "client": entry.client,
        "client_name": client.name if client else None,
        "caller": CALLERS.get(entry.caller, entry.caller),
        "kind": KINDS.get(entry.kind, entry.kind),
        "purpose_label": record.purpose_label,
        "purpose_known": purpose is not None or record.purpose_label is not None,
        "legal_basis": record.legal_basis,
        "outcome": OUTCOMES.get(entry.outcome, entry.outcome),
        "badge": OUTCOME_BADGES.get(entry.outcome, ""),
        "released": [(f, field_name(f), category(catalogue, f)) for f in entry.released],
        "denied": [(f, field_name(f), reason(why)) for f, why in entry.denied],
        "details": details,
        "household": household,
    }
