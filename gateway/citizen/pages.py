"""The signed-in citizen's pages: who read my data, my consents, the offers made to me.

Each page opens the person's ``citizen`` session (none: back to the space's home, which offers
FranceConnect) and works through the exchange's own APIs, as the GraphQL face does for a
person token: the journal (:meth:`Oversight.journal`), consents (:class:`Consents`: every
change audited, the store read again on each agency request, so a revocation holds at once),
and the offers and opt-out filed under the person's proactive pseudonym. Every form posts its
CSRF token; each change answers with a redirect to the page it came from (post/redirect/get).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from exchange import Citizen
from exchange.consents import consent_categories, consent_targets
from exchange.errors import InvalidRequest
from exchange.pseudonyms import PROACTIVE_SECTOR
from gateway.citizen import wording
from gateway.citizen.signin import HOME, PREFIX, SignedCitizen, SignIn, error_page
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.render import render
from prefill import load_forms
from proactive.links import form_url
from runtime import Services
from store import GrantStore
from store.offers import OPEN

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
JOURNAL = PREFIX + "/consultations"
CONSENTS = PREFIX + "/consentements"
REVOKE = CONSENTS + "/retrait"
OFFERS = PREFIX + "/propositions"
DECLINE = OFFERS + "/refus"
OPT_OUT = OFFERS + "/desinscription"
RENEWALS = PREFIX + "/renouvellements"
REFUSAL = RENEWALS + "/{renewal}/refus"
GRANTS = PREFIX + "/droits-automatiques"
GRANT_REFUSAL = GRANTS + "/{grant}/refus"
PAGE_SIZE = 20
# What a change's redirect says on the page it lands on: a fixed word, never a value.
DONE = {
    "accorde": "Votre consentement est enregistré.",
    "retire": "Votre consentement est retiré : il ne sert plus à aucune demande.",
    "refuse": "C'est noté : nous ne vous relancerons pas pour cette aide.",
    "desinscrit": "C'est noté : vous ne recevrez plus d'information sur les aides.",
    "renouvellement-refuse": "C'est noté : ce renouvellement est annulé auprès de l'Assurance "
    "maladie. Votre complémentaire santé solidaire se termine à sa date de fin d'avant.",
    "deja-annule": "Ce renouvellement était déjà annulé : rien de plus n'a été fait.",
    "attribution-refusee": "C'est noté : cette complémentaire santé solidaire est annulée "
    "auprès de l'Assurance maladie.",
    "attribution-deja-annulee": "Ce droit était déjà annulé : rien de plus n'a été fait.",
}


class SpacePages:
    def __init__(self, signin: SignIn, clock: Clock) -> None:
        self._signin = signin
        self._clock = clock
        forms = load_forms()
        self._forms = {form.benefit: fid for fid, form in forms.items()}
        # A form's fields by id, and a table's columns as "table.column".
        self._field_labels = {
            fid: {
                **{f.id: f.label for f in form.fields},
                **{f"{f.id}.{c.id}": c.label for f in form.fields for c in f.children},
            }
            for fid, form in forms.items()
        }

    async def _signed(self, request: Request) -> SignedCitizen | None:
        return await self._signin.current(request)

    def _render(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        done = DONE.get(request.query_params.get("fait", ""))
        values = {"signed_in": True, "done": done, "error": None, **context}
        return render(request, template, values, status=status)

    # --- Home and journal -------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        signed = await self._signed(request)
        if signed is None:
            return render(request, "mon-espace/accueil.html", {"signed_in": False})
        return await self._journal(request, signed, HOME)

    async def journal(self, request: Request) -> Response:
        signed = await self._signed(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        return await self._journal(request, signed, JOURNAL)

    async def _journal(self, request: Request, signed: SignedCitizen, path: str) -> Response:
        raw = request.query_params.get("apres", "")
        after = int(raw) if raw.isdigit() and len(raw) < 19 else None
        services = services_of(request)
        journal = await services.oversight.journal(signed.citizen, first=PAGE_SIZE, after=after)
        person = proactive_pseudonym(services, signed.citizen)
        renewals = await services.renewals.for_person(person)
        grants = await GrantStore(services.database).for_person(person)
        items = [
            {
                "organisation": item.organisation,
                "when": wording.moment(item.time),
                "purpose": item.purpose,
                "legal_basis": item.legal_basis,
                "categories": item.categories,
                "action": item.action,
                "contest": wording.CONTEST.get(item.act or ""),
                "note": item.note,
            }
            for item in journal.items
        ]
        context = {
            "current": "consultations",
            "items": items,
            "first_page": after is None,
            "next": None if journal.next_after is None else f"{path}?apres={journal.next_after}",
            "path": path,
            "renewals": [
                {
                    "reference": r.id,
                    "refuse": refusal_path(r.id),
                    "benefit": wording.BENEFITS.get(r.benefit, r.benefit),
                    "previous_end": wording.day(r.previous_end),
                    "new_end": wording.day(r.new_end),
                    "when": wording.day(r.renewed_at.astimezone(wording.PARIS).date()),
                    "reverted": None
                    if r.reverted_at is None
                    else wording.day(r.reverted_at.astimezone(wording.PARIS).date()),
                }
                for r in renewals
            ],
            "grants": [
                {
                    "reference": g.id,
                    "refuse": grant_refusal_path(g.id),
                    "benefit": wording.BENEFITS.get(g.benefit, g.benefit),
                    "start": wording.day(g.start),
                    "end": wording.day(g.end),
                    "when": wording.day(g.granted_at.astimezone(wording.PARIS).date()),
                    "reverted": None
                    if g.ended_at is None or g.status != "reverted"
                    else wording.day(g.ended_at.astimezone(wording.PARIS).date()),
                    "closed": g.status == "closed",
                }
                for g in grants
            ],
        }
        return self._render(request, "mon-espace/consultations.html", context)

    # --- Consents ---------------------------------------------------------------------------

    async def consents(self, request: Request) -> Response:
        signed = await self._signed(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        return await self._consents(request, signed.citizen)

    async def _consents(
        self, request: Request, citizen: Citizen, error: str | None = None, status: int = 200
    ) -> Response:
        services = services_of(request)
        catalogue = services.catalogue
        today = self._clock().date()
        mine = await services.consents.mine(citizen)
        mine.sort(key=lambda c: c.granted_at, reverse=True)
        rows = []
        for consent in mine:
            state, badge = wording.consent_state(consent, today)
            if consent.client_id is not None:
                policy = catalogue.clients.get(consent.client_id)
                to = policy.name if policy else consent.client_id
            else:
                purpose = catalogue.purposes.get(consent.purpose or "")
                to = purpose.label if purpose else (consent.purpose or "")
            rows.append(
                {
                    "id": consent.id,
                    "to": to,
                    "for_purpose": consent.client_id is None,
                    "categories": sorted(
                        catalogue.categories[c].label
                        for c in consent.categories
                        if c in catalogue.categories
                    ),
                    "granted": wording.day(consent.granted_at.astimezone(wording.PARIS).date()),
                    "until": wording.day(consent.valid_until),
                    "state": state,
                    "badge": badge,
                    "active": consent.active(today),
                }
            )
        targets = consent_targets(catalogue, today)
        context = {
            "current": "consentements",
            "consents": rows,
            "clients": [(k, label) for k, (kind, label) in targets.items() if kind == "client"],
            "purposes": [(k, label) for k, (kind, label) in targets.items() if kind == "purpose"],
            "categories": [
                (cid, catalogue.categories[cid].label)
                for cid in consent_categories(catalogue, today)
            ],
            "durations": [
                (d.id, d.label, wording.day(wording.consent_end(d, today)))
                for d in wording.DURATIONS
            ],
            "action": CONSENTS,
            "revoke": REVOKE,
        }
        if error is not None:
            context["error"] = error
        return self._render(request, "mon-espace/consentements.html", context, status)

    async def grant(self, request: Request) -> Response:
        checked = await self._posted(request)
        if isinstance(checked, Response):
            return checked
        signed, form = checked
        today = self._clock().date()
        target = form.get("destinataire")
        targets = consent_targets(services_of(request).catalogue, today)
        durations = {d.id: d for d in wording.DURATIONS}
        duration = durations.get(str(form.get("duree", "")))
        categories = [str(c) for c in form.getlist("categories")]
        if not isinstance(target, str) or target not in targets:
            return await self._consents(request, signed.citizen, "Choisissez à qui.", 400)
        if not categories:
            return await self._consents(
                request, signed.citizen, "Choisissez au moins une catégorie de données.", 400
            )
        if duration is None:
            return await self._consents(request, signed.citizen, "Choisissez une durée.", 400)
        kind, _, name = target.partition(":")
        try:
            await services_of(request).consents.grant(
                signed.citizen,
                client_id=name if kind == "client" else None,
                purpose=name if kind == "purpose" else None,
                categories=categories,
                until=wording.consent_end(duration, today),
                now=self._clock(),
            )
        except InvalidRequest:
            return await self._consents(
                request, signed.citizen, "Ce consentement ne peut pas être enregistré.", 400
            )
        log.info("citizen consent granted")
        return RedirectResponse(CONSENTS + "?fait=accorde", status_code=303)

    async def revoke(self, request: Request) -> Response:
        checked = await self._posted(request)
        if isinstance(checked, Response):
            return checked
        signed, form = checked
        consent_id = form.get("consentement")
        try:
            if not isinstance(consent_id, str) or not consent_id:
                raise InvalidRequest("no consent named")
            await services_of(request).consents.revoke(signed.citizen, consent_id, self._clock())
        except InvalidRequest:
            return await self._consents(
                request, signed.citizen, "Ce consentement n'existe pas ou n'est pas le vôtre.", 404
            )
        log.info("citizen consent revoked")
        return RedirectResponse(CONSENTS + "?fait=retire", status_code=303)

    # --- Offers and opt-out -----------------------------------------------------------------

    async def offers(self, request: Request) -> Response:
        signed = await self._signed(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        services = services_of(request)
        person = proactive_pseudonym(services, signed.citizen)
        dossiers = {d.offer_id: d for d in await services.dossiers.for_person(person)}
        rows = []
        for offer in await services.offers.for_person(person):
            dossier = dossiers.get(offer.id)
            state, badge = wording.OFFER_STATES.get(offer.status, (offer.status, ""))
            form = self._forms.get(offer.benefit)
            open_ = offer.status in OPEN
            rows.append(
                {
                    "id": offer.id,
                    "benefit": wording.BENEFITS.get(offer.benefit, offer.benefit),
                    "month": wording.month(offer.month),
                    "state": state,
                    "badge": badge,
                    "when": wording.offer_when(offer),
                    "link": form_url("", form, offer.id) if form and open_ else None,
                    "declinable": offer.status in wording.DECLINABLE,
                    "dossier": None
                    if dossier is None
                    else wording.dossier_state(
                        dossier.number, dossier.status, dossier.outcome, self._labels(dossier.form)
                    ),
                    "outcome": wording.dossier_outcome(dossier.outcome if dossier else None),
                }
            )
        context = {
            "current": "propositions",
            "offers": rows,
            "opted_out": await services.offers.opted_out(person),
            "decline": DECLINE,
            "opt_out": OPT_OUT,
        }
        return self._render(request, "mon-espace/propositions.html", context)

    def _labels(self, form: str) -> Mapping[str, str]:
        return self._field_labels.get(form, {})

    async def decline(self, request: Request) -> Response:
        checked = await self._posted(request)
        if isinstance(checked, Response):
            return checked
        signed, form = checked
        services = services_of(request)
        person = proactive_pseudonym(services, signed.citizen)
        wanted = form.get("proposition")
        # Only an offer of this person's: an id from elsewhere is as unknown as a wrong one.
        mine = {o.id: o for o in await services.offers.for_person(person)}
        offer = mine.get(wanted) if isinstance(wanted, str) else None
        if offer is None:
            return error_page(
                request, "Proposition introuvable", "Cette proposition n'est pas la vôtre.", 404
            )
        await services.offers.declined(offer.id, self._clock())
        log.info("proactive offer declined")
        return RedirectResponse(OFFERS + "?fait=refuse", status_code=303)

    async def opt_out(self, request: Request) -> Response:
        checked = await self._posted(request)
        if isinstance(checked, Response):
            return checked
        signed, _ = checked
        services = services_of(request)
        # Recorded as the notification's opt-out link does: under the proactive pseudonym.
        await services.offers.opt_out(proactive_pseudonym(services, signed.citizen), self._clock())
        log.info("proactive opt-out recorded")
        return RedirectResponse(OFFERS + "?fait=desinscrit", status_code=303)

    async def _posted(self, request: Request) -> tuple[SignedCitizen, FormData] | Response:
        """A signed-in person's POSTed form, its CSRF token checked; else the page to answer
        (the form expired, or back to the space's home when nobody is signed in)."""
        signed = await self._signed(request)
        form = await self._form(request)
        if form is None:
            return form_expired(request)
        if signed is None:
            return RedirectResponse(HOME, status_code=303)
        return signed, form

    @staticmethod
    async def _form(request: Request) -> FormData | None:
        try:
            return await checked_form(request)
        except CsrfRejected as exc:
            log.info("citizen form refused", extra={"reason": exc.reason})
            return None


def refusal_path(renewal_id: str) -> str:
    return REFUSAL.replace("{renewal}", quote(renewal_id, safe=""))


def grant_refusal_path(grant_id: str) -> str:
    return GRANT_REFUSAL.replace("{grant}", quote(grant_id, safe=""))


def proactive_pseudonym(services: Services, citizen: Citizen) -> str:
    """The person's pseudonym in the proactive sector: what offers and renewals are filed
    under."""
    return services.pseudonyms.pseudonym(citizen.identity, PROACTIVE_SECTOR)


def form_expired(request: Request) -> Response:
    return error_page(
        request,
        "Formulaire expiré",
        "Ce formulaire a expiré. Rechargez la page puis recommencez.",
        403,
    )
