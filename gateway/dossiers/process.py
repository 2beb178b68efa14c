"""A dossier the person submitted on démarches-simplifiées, brought back and applied.

DS tells the procedure's webhook that a dossier changed state (or ``unefois procedure sync``
asks DS for the dossiers submitted since it last looked); for a dossier the gateway created,
:func:`process_dossier`:

1. claims it (a webhook delivered twice, or a webhook and a sync, process it once);
2. reads it from DS's GraphQL API: what the person confirmed, corrected and typed;
3. reads the person's data again under the procedure's purpose (the identity kept sealed
   since the dossier was created; the consent given then still holds), as a GraphQL
   ``submitPrefill`` does;
4. compares field by field: a value as it was prefilled is a confirmation, a changed one a
   correction, a new one a value provided; fields the procedure does not carry are not the
   person's to settle;
5. records and audits the submission (``prefill_submission``), which marks the offer applied,
   and evaluates the form's benefit again on everything the person confirmed, corrected or
   provided; the outcome is kept with the dossier for the person's space.

A dossier still being written (``brouillon``) is left for later. An agency that fails in step 3
in a way that may pass (a timeout, an error, garbage, a rate limit) fails the processing
instead of recording the dossier on partial data: nothing is recorded, and DS's next call or a
sync processes it once the agency answers. A deposit the gateway cannot take as it is (a value
it refuses — a social security number without its key, a negative rent —, a field left
unsettled) is ``rejected``: nothing is recorded, the fields and the code are kept for the
person's space and answered to DS's caller, and it is processed again when the person changes
the dossier, not retried as it is. Nothing about the person is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from connectors import NotFound
from exchange import PersonReference
from gateway.citizen.signin import identity_from
from gateway.clients import ClientRegistry
from gateway.dossiers.acting import Registered, acting_for
from gateway.dossiers.start import binding
from gateway.sealing import SealBroken, Sealer
from prefill import PrefillError, SourceUnavailable, load_forms
from prefill.ds_payload import ds_payload, from_dossier
from prefill.errors import IncompleteSubmission, InvalidInput
from prefill.resubmit import commune_fields, left_unseen, settled_fields, submission_of
from runtime import Services
from schema.prefill import fill_form, settle_submission
from store.dossiers import DossierLink, DossierNotFound

log = logging.getLogger(__name__)

# DS's states of a dossier the person has submitted ("déposé"): en_construction until an
# instructor takes it, then en_instruction and a decision.
SUBMITTED = frozenset({"en_construction", "en_instruction", "accepte", "refuse", "sans_suite"})
Result = Literal["processed", "not_ours", "already", "not_submitted", "failed", "rejected"]


@dataclass(frozen=True)
class Processed:
    result: Result
    outcome: Mapping[str, Any] | None = None


async def process_dossier(
    services: Services, registry: ClientRegistry, sealer: Sealer, number: int, now: datetime
) -> Processed:
    """Process dossier ``number`` if it is one the gateway created and the person submitted;
    ``registry``: the clients as a request would see them now (the procedure's acts)."""
    try:
        link = await services.dossiers.get(number)
    except DossierNotFound:
        return Processed("not_ours")
    if link.status == "processed":
        return Processed("already")
    claimed = await services.dossiers.claim(number, now)
    if claimed is None:
        return Processed("already")
    try:
        node = await _dossier(services, number)
        if node.get("state") not in SUBMITTED:
            await services.dossiers.finish(number, "created", now)
            return Processed("not_submitted")
        if link.status == "rejected" and _unchanged(link, node):
            # Rejected, and not modified since (a sync, or DS telling of another state): the
            # same answer, without reading the person's data again.
            await services.dossiers.finish(number, "rejected", now, outcome=link.outcome)
            return Processed("rejected", link.outcome)
        outcome = await _apply(services, registry, sealer, claimed, node, now)
    except InvalidInput as error:
        # What the person deposited cannot be taken as it is (a value refused, a field left
        # unsettled): the same dossier would fail the same way at every try. Recorded as
        # rejected with the fields and the code (never a value), for the person's space and
        # DS's caller; processed again when the person changes the dossier.
        reason = "incomplete" if isinstance(error, IncompleteSubmission) else "invalid"
        named = list(error.fields)
        rejected = {
            "rejected": {"code": error.code, "reason": reason, "fields": named},
            # DS's date of the version rejected: a later one is processed again.
            MODIFIED: node.get("dateDerniereModification"),
        }
        log.warning(
            "submitted dossier rejected: %s",
            type(error).__name__,
            extra={"fields": ",".join(named)},
        )
        await services.dossiers.finish(number, "rejected", now, outcome=rejected)
        return Processed("rejected", rejected)
    except Exception as error:
        # Whatever else failed (an agency, DS, the rules, the store), the row must not stay
        # claimed: it is marked failed, and DS's next call or a sync tries it again. Logged:
        # the kind of failure, and for a prefill error its field — never the error's
        # message, which could carry a value.
        fields = getattr(error, "field", None) if isinstance(error, PrefillError) else None
        log.warning(
            "submitted dossier not processed: %s",
            type(error).__name__,
            extra={"fields": fields} if isinstance(fields, str) else {},
        )
        await services.dossiers.finish(number, "failed", now)
        return Processed("failed")
    await services.dossiers.finish(number, "processed", now, outcome=outcome)
    log.info("submitted dossier processed")
    return Processed("processed", outcome)


MODIFIED = "dossier_modified"


def _unchanged(link: DossierLink, node: Mapping[str, Any]) -> bool:
    """Whether DS's dossier is the version that was rejected (its modification date, DS's
    own clock against DS's own clock)."""
    modified = node.get("dateDerniereModification")
    return modified is not None and (link.outcome or {}).get(MODIFIED) == modified


async def _dossier(services: Services, number: int) -> Mapping[str, Any]:
    """The dossier as DS's API gives it; empty for one the API does not show: DS shows no
    API token a dossier still in brouillon, until the person deposits it."""
    try:
        return await services.demarches.dossier(number)
    except NotFound:
        return {}


async def _apply(
    services: Services,
    registry: ClientRegistry,
    sealer: Sealer,
    link: DossierLink,
    node: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    registered = Registered.of(await services.procedures.get(link.procedure))
    form = load_forms()[link.form]
    identity = identity_from(sealer.open(link.sealed, binding(link.number)))
    if identity is None:
        raise SealBroken("the sealed identity is not one")
    rc = acting_for(services, registry, registered.procedure.client, now)
    context = registered.context()
    submitted = from_dossier(form, registered.procedure, registered.champs, node)
    view, filled = await fill_form(
        rc, PersonReference(identity=identity), context, form, for_eligibility=True
    )
    failed = view.agency_failures()
    if failed:
        # Read again later rather than record what the person left on partial data.
        fields = tuple(sorted(failed))
        raise SourceUnavailable(fields, failed[fields[0]])
    settled = settled_fields(form, registered.procedure, registered.champs)
    # What the dossier was created without (an address champ takes no agency's lines, a value
    # unknown then): typed there, it is provided, not a correction; emptied, it says nothing.
    # Read from what was sent; for a dossier recorded before, as a payload made now would.
    if link.sent is not None:
        not_sent = set(settled) - set(link.sent)
    else:
        payload = ds_payload(form, filled, registered.procedure, registered.champs)
        not_sent = {x.field for x in payload.left_out}
    communes = commune_fields(registered.procedure, registered.champs)
    submission = submission_of(
        form, filled, submitted, settled, registered.procedure.identity, not_sent, communes
    )
    settled = left_unseen(form, settled, not_sent, submitted)
    done = await settle_submission(rc, context, form, view, filled, submission, settled=settled)
    return {
        "submission": done.submission_id,
        "changed": list(done.changed),
        "eligibility": [
            {
                "benefit": r.benefit.value,
                "status": r.status.value,
                "monthly_amount": r.monthly_amount,
                "missing": list(r.missing),
            }
            for r in done.eligibility
        ],
    }
