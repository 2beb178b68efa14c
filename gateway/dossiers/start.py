"""From an offer's link to a prefilled dossier on démarches-simplifiées.

``GET /mon-espace/demandes/<form>?offre=<token>`` (in the citizen space, whose session it
needs): the person, signed in with FranceConnect
(sent to sign in first, and back), sees which procedure their dossier will be filed with,
which administration reads which data for it, under which purpose and legal basis, and — when
the purpose rests on consent — a box to tick. With several procedures for the form (two
départements with their own), the person says which département they live in.

``POST`` (CSRF-checked) records the consent, reads the data under the procedure's purpose
(decided and audited like any access), converts it for the procedure's champs, creates the
dossier through DS's API, keeps a link from the dossier to the offer (the person's identity
sealed, to read their data again when they submit), and sends the browser to the dossier.

Only the person the offer was made to can go on: the link alone, forwarded or leaked, opens
nothing about anyone. Nothing about the person is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from connectors import ConnectorError
from connectors.demarches import CreatedDossier
from exchange import PersonReference
from exchange.errors import ExchangeError
from gateway.citizen.pages import proactive_pseudonym
from gateway.citizen.signin import SignedCitizen, SignIn, error_page, identity_data, login_url
from gateway.client_store import ClientSource
from gateway.dossiers.acting import ProcedureUnavailable, Registered, acting_for
from gateway.dossiers.announce import to_type
from gateway.offer_link import linked_offer
from gateway.optout import HEADERS, invalid
from gateway.sealing import Sealer
from gateway.state import services_of
from gateway.web.csrf import CsrfRejected, checked_form
from gateway.web.render import render
from prefill import FormDef, fields_needed, geo, load_forms
from prefill.ds_payload import DsPayload, ds_payload
from proactive.links import OFFER_PARAM, offer_token
from runtime import Services
from schema.eligibility import eligibility_fields
from schema.prefill import fill_form
from store import Offer, StoreError
from store.dossiers import DossierLink
from store.offers import OPEN

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DOSSIERS = "/mon-espace/demandes"  # /mon-espace/demandes/<form>: the citizen space's session
TEMPLATE = "offres/preremplir.html"
CREATED = "offres/dossier-cree.html"  # kept by no cache (render): it links with a token
CONSENT_DAYS = 90  # the consent covers reading the data again when the person submits


def dossier_path(form: str) -> str:
    return f"{DOSSIERS}/{form}"


def binding(number: int) -> str:
    """What a dossier's sealed identity is bound to: its row."""
    return f"dossier:{number}"


class DossierStart:
    def __init__(self, signin: SignIn, clients: ClientSource, clock: Clock) -> None:
        self._signin = signin
        self._clients = clients
        self._clock = clock
        self._forms = load_forms()

    async def _mine(self, request: Request, offer: Offer, back: str) -> SignedCitizen | Response:
        signed = await self._signin.current(request)
        if signed is None:
            return RedirectResponse(login_url(back), status_code=303)
        if proactive_pseudonym(services_of(request), signed.citizen) != offer.person:
            return error_page(
                request,
                "Demande préparée pour une autre personne",
                "Cette demande a été préparée pour une autre personne que celle qui est "
                "connectée. Si ce lien vous a été envoyé, déconnectez-vous puis reconnectez-vous "
                "avec votre propre compte FranceConnect.",
                403,
            )
        # A detected offer too: nobody could be written to, but the person found it in their
        # space.
        if offer.status not in OPEN:
            return error_page(
                request,
                "Proposition close",
                "Cette proposition est close : la demande a déjà été envoyée, refusée ou a "
                "expiré. Vos demandes sont dans votre espace, rubrique « Aides proposées ».",
                410,
            )
        return signed

    async def show(self, request: Request) -> Response:
        token = request.query_params.get(OFFER_PARAM, "")
        found = await linked_offer(request, self._forms, token)
        if isinstance(found, Response):
            return found
        form, offer = found
        signed = await self._mine(request, offer, f"{dossier_path(form.id)}?{OFFER_PARAM}={token}")
        if isinstance(signed, Response):
            return signed
        procedures = await _procedures(services_of(request), form.id)
        if not procedures:
            return _not_online(request)
        chosen = _chosen(procedures, request.query_params.get("procedure"))
        earlier = [
            d.number
            for d in await services_of(request).dossiers.for_person(offer.person)
            if d.offer_id == offer.id
        ]
        return self._page(request, form, offer, procedures, chosen, earlier=earlier)

    async def create(self, request: Request) -> Response:
        try:
            fields = await checked_form(request)
        except CsrfRejected:
            return invalid(request, "Ce formulaire a expiré : rouvrez le lien reçu.", 403)
        token = _one(fields, OFFER_PARAM)
        found = await linked_offer(request, self._forms, token)
        if isinstance(found, Response):
            return found
        form, offer = found
        signed = await self._mine(request, offer, f"{dossier_path(form.id)}?{OFFER_PARAM}={token}")
        if isinstance(signed, Response):
            return signed
        services = services_of(request)
        procedures = await _procedures(services, form.id)
        if not procedures:  # removed since the page was shown
            return _not_online(request)
        chosen = _chosen(procedures, _one(fields, "procedure"))
        if chosen is None:
            return self._page(request, form, offer, procedures, None, error="departement")
        purpose = services.catalogue.purposes[chosen.procedure.purpose]
        consent_needed = purpose.lawful_ground == "consent"
        if consent_needed and _one(fields, "accord") != "oui":
            return self._page(request, form, offer, procedures, chosen, error="accord")
        now = self._clock()
        try:
            registry = await self._clients.current(request)
            rc = acting_for(services, registry, chosen.procedure.client, now)
            if consent_needed:
                await _consent(services, signed, chosen, form, now)
            ref = PersonReference(identity=signed.citizen.identity)
            view, filled = await fill_form(rc, ref, chosen.context(), form)
            failed = view.agency_failures()
            if failed:
                # An agency that may answer later: no dossier half filled for good; the same
                # link works once it answers (the read stays audited, as any access).
                log.warning(
                    "dossier not created: an agency failed",
                    extra={"sources": ",".join(f"{f}={c}" for f, c in sorted(failed.items()))},
                )
                return _unavailable(request, 503)
            payload = ds_payload(form, filled, chosen.procedure, chosen.champs)
            created = await services.demarches.create_dossier(chosen.procedure.number, payload.body)
            sealer = Sealer(services.seal_key)
            await services.dossiers.create(
                _link(sealer, chosen, form, offer, signed, view.access_id, created, now, payload)
            )
        except ProcedureUnavailable:
            log.warning("dossier not created: the procedure's client cannot act")
            return _unavailable(request, 503)
        except ConnectorError as error:
            log.warning("dossier not created: DS failed: %s", type(error).__name__)
            return _unavailable(request, 502)
        except (ExchangeError, StoreError) as error:
            log.warning("dossier not created: %s", type(error).__name__)
            return _unavailable(request, 503)
        # Field ids and codes only (never a value): what the person will have to type, and
        # the sources refused (not consented to, not released to the purpose, unknown).
        withheld = ",".join(f"{f}={x.code}" for f, x in sorted(view.failures.items()))
        left = ",".join(sorted(x.field for x in payload.left_out))
        if withheld or left:
            log.info(
                "dossier created with fields left for the person",
                extra={"left_out": left, "withheld": withheld},
            )
        else:
            log.info("dossier created")
        typed = to_type(filled, payload)
        if typed:
            # Said before DS opens: what the person will type, and why (labels only).
            context = {"title": form.title, "number": created.number, "url": created.url}
            return render(request, CREATED, {**context, "fields": typed}, headers=HEADERS)
        return RedirectResponse(created.url, status_code=303, headers=HEADERS)

    def _page(
        self,
        request: Request,
        form: FormDef,
        offer: Offer,
        procedures: Sequence[Registered],
        chosen: Registered | None,
        error: str | None = None,
        earlier: Sequence[int] = (),
    ) -> Response:
        services = services_of(request)
        catalogue = services.catalogue
        shown = chosen or procedures[0]
        purpose = catalogue.purposes[shown.procedure.purpose]
        client = catalogue.clients.get(shown.procedure.client)
        categories = [
            catalogue.categories[c].label
            for c in _categories(services, form, shown, self._clock().date())
        ]
        context = {
            "title": form.title,
            "action": dossier_path(form.id),
            "param": OFFER_PARAM,
            "token": offer_token(offer.id),
            "choices": [
                {"number": r.procedure.number, "territory": _territory(r)} for r in procedures
            ]
            if len(procedures) > 1
            else [],
            "chosen": chosen.procedure.number if chosen else None,
            "organisation": client.name if client else shown.procedure.client,
            "purpose": purpose.label,
            "legal_basis": purpose.legal_basis,
            "consent": purpose.lawful_ground == "consent",
            "days": CONSENT_DAYS,
            "earlier": list(earlier),
            "categories": categories,
            "error": error,
        }
        status = 400 if error else 200
        return render(request, TEMPLATE, context, status=status, headers=HEADERS)


def _link(
    sealer: Sealer,
    chosen: Registered,
    form: FormDef,
    offer: Offer,
    signed: SignedCitizen,
    access_id: str,
    created: CreatedDossier,
    now: datetime,
    payload: DsPayload,
) -> DossierLink:
    # The link lives as long as the purpose keeps what it read: never longer.
    retention = timedelta(days=max(1, chosen.retention_days))
    return DossierLink(
        number=created.number,
        procedure=chosen.procedure.number,
        form=form.id,
        offer_id=offer.id,
        person=offer.person,
        sealed=sealer.seal(identity_data(signed.citizen.identity), binding(created.number)),
        access_id=access_id,
        status="created",
        created_at=now,
        updated_at=now,
        expires_at=now + retention,
        sent=payload.sent,
    )


async def _procedures(services: Services, form: str) -> list[Registered]:
    records = await services.procedures.for_form(form)
    out = []
    for record in sorted(records, key=lambda r: r.number):
        registered = Registered.of(record)
        purpose = services.catalogue.purposes.get(registered.procedure.purpose)
        if purpose is not None:
            out.append(registered.with_retention(purpose.retention_days))
    return out


def _chosen(procedures: Sequence[Registered], wanted: object) -> Registered | None:
    if len(procedures) == 1:
        return procedures[0]
    for registered in procedures:
        if str(registered.procedure.number) == wanted:
            return registered
    return None


def _territory(registered: Registered) -> str:
    places = sorted(registered.procedure.territory)
    if not places:
        return "Autres départements"
    names = [geo.departement_label(code) for code in places]
    return ("Département : " if len(names) == 1 else "Départements : ") + ", ".join(names)


def _categories(services: Services, form: FormDef, registered: Registered, on: date) -> list[str]:
    """The categories the procedure's purpose reads for this form, and for evaluating its
    benefit again when the person submits: what the consent covers."""
    catalogue = services.catalogue
    needed = fields_needed(form) | (
        eligibility_fields([form.benefit]) if form.benefit else frozenset()
    )
    granted = catalogue.purposes[registered.procedure.purpose].categories_on(on)
    return sorted(
        c.id for c in catalogue.categories.values() if c.fields & needed and c.id in granted
    )


def _one(fields: FormData, name: str) -> str | None:
    values = fields.getlist(name)
    value = values[0] if len(values) == 1 else None
    return value if isinstance(value, str) else None


async def _consent(
    services: Services, signed: SignedCitizen, chosen: Registered, form: FormDef, now: datetime
) -> None:
    """The person's consent to the procedure's client for what the form and its benefit read,
    for :data:`CONSENT_DAYS`; not recorded again when one in force already covers it (the same
    link followed again after a failure)."""
    wanted = set(_categories(services, form, chosen, now.date()))
    until = now.date() + timedelta(days=CONSENT_DAYS)
    for consent in await services.consents.mine(signed.citizen):
        if (
            consent.client_id == chosen.procedure.client
            and consent.active(now.date())
            and wanted <= consent.categories
            and consent.valid_until >= until - timedelta(days=1)
        ):
            return
    await services.consents.grant(
        signed.citizen,
        client_id=chosen.procedure.client,
        purpose=None,
        categories=sorted(wanted),
        until=until,
        now=now,
    )


def _not_online(request: Request) -> Response:
    return error_page(
        request,
        "Demande en ligne indisponible",
        "Cette demande ne peut pas encore être faite en ligne avec vos informations "
        "préremplies. Rapprochez-vous de l'organisme qui vous a écrit.",
        503,
    )


def _unavailable(request: Request, status: int) -> Response:
    return error_page(
        request,
        "Dossier non préparé",
        "Votre dossier n'a pas pu être préparé pour le moment. Rien n'a été envoyé : "
        "réessayez dans quelques minutes avec le même lien.",
        status,
    )


def dossier_routes(start: DossierStart) -> list[Route]:
    path = DOSSIERS + "/{form}"
    return [
        Route(path, start.show, methods=["GET"]),
        Route(path, start.create, methods=["POST"]),
    ]
