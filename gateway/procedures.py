"""Registering a démarches-simplifiées procedure for one of our forms, and finding it again.

An administration that builds a procedure on DS writes a mapping file (``prefill.procedure``)
saying which champ each field of our form fills. :func:`register_procedure` checks it against
everything it names before the gateway relies on it: the purpose in the policy catalogue and
among the form's, the client in the catalogue and allowed that purpose, the recipient's
SIRET, and the procedure's champs as DS describes them now (a placeholder champ id, a field
of the wrong type or an option DS does not list is refused here, not dropped silently by DS
later). The registration keeps the mapping and the descriptors in the database, shared by
every replica. :func:`procedure_for` picks the procedure serving a person's département.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.errors import ConnectorError, NotFound
from gateway.dossiers.webhook import PATH as WEBHOOK_PATH
from prefill import FormDef, load_forms, paths
from prefill.champs import descriptors_from_graphql, descriptors_to_data
from prefill.errors import DescriptorError, MappingError
from prefill.procedure import Procedure, load_procedure_file, procedure_to_data, validate_procedure
from runtime.services import Services
from store import ProcedureRecord

log = logging.getLogger(__name__)


class ProcedureRejected(Exception):
    """The mapping file cannot be registered; the message names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


def _rejected(exc: MappingError) -> ProcedureRejected:
    prefix = f"{exc.file}: {exc.key}: "
    text = str(exc)
    return ProcedureRejected(exc.file, exc.key, text.removeprefix(prefix))


def _path_of(url: object) -> str | None:
    """The ``<path>`` of DS's ``…/commencer/<path>`` address, if it has that shape."""
    if not isinstance(url, str):
        return None
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2 and parts[-2] == "commencer":
        return parts[-1]
    return None


def _check_policy(services: Services, p: Procedure, form_purposes: tuple[str, ...]) -> None:
    catalogue = services.catalogue
    if p.purpose not in catalogue.purposes:
        raise ProcedureRejected(p.source, "purpose", f"{p.purpose!r} is not in the catalogue")
    if form_purposes and p.purpose not in form_purposes:
        allowed = ", ".join(form_purposes)
        raise ProcedureRejected(
            p.source, "purpose", f"the form {p.form!r} is prefilled under {allowed} only"
        )
    if p.client not in catalogue.clients:
        raise ProcedureRejected(p.source, "client", f"{p.client!r} is not in the catalogue")
    if not catalogue.client_may_use(p.client, p.purpose):
        raise ProcedureRejected(
            p.source, "client", f"{p.client!r} may not use the purpose {p.purpose!r}"
        )


async def _descriptor(services: Services, p: Procedure) -> dict[str, Any]:
    try:
        return await services.demarches.descriptor(p.number)
    except NotFound:
        raise ProcedureRejected(
            p.source, "procedure", f"démarches-simplifiées has no procedure {p.number}"
        ) from None
    except ConnectorError as exc:
        raise ProcedureRejected(
            p.source, "procedure", f"démarches-simplifiées could not be asked ({exc.message})"
        ) from None


async def register_procedure(
    services: Services, path: Path, now: datetime
) -> tuple[Procedure, list[str]]:
    """Check the mapping file at ``path`` against the catalogue, the form and the procedure
    on DS, then store it (replacing an earlier registration of that procedure number).
    Returns the procedure and the validation's warnings; raises :class:`ProcedureRejected`."""
    try:
        procedure = load_procedure_file(path)
    except MappingError as exc:
        raise _rejected(exc) from None
    form = load_forms().get(procedure.form)
    if form is None:
        raise ProcedureRejected(procedure.source, "form", f"no form {procedure.form!r}")
    _check_policy(services, procedure, form.purposes)
    described = await _descriptor(services, procedure)
    if described.get("number") not in (None, procedure.number):
        raise ProcedureRejected(
            procedure.source, "procedure", "démarches-simplifiées described another procedure"
        )
    given = _path_of(described.get("demarcheURL"))
    if given is not None and given != procedure.path:
        raise ProcedureRejected(
            procedure.source,
            "path",
            f"is {procedure.path!r}, démarches-simplifiées says {given!r}",
        )
    try:
        champs = descriptors_from_graphql(described["revision"]["champDescriptors"])
    except DescriptorError as exc:
        raise ProcedureRejected(
            procedure.source, "procedure", f"unusable champ descriptors from DS ({exc})"
        ) from None
    try:
        warnings = validate_procedure(procedure, form, champs)
    except MappingError as exc:
        raise _rejected(exc) from None
    warnings += never_released(services, procedure, form, now.date())
    await services.procedures.register(
        ProcedureRecord(
            number=procedure.number,
            path=procedure.path,
            form=procedure.form,
            mapping=procedure_to_data(procedure),
            champs=descriptors_to_data(champs),
            registered_at=now,
        )
    )
    log.info("procedure registered for form %s", procedure.form)
    return procedure, warnings


def never_released(services: Services, p: Procedure, form: FormDef, on: date) -> list[str]:
    """The mapped fields whose source is in no category the procedure's purpose reads on
    ``on``: their champs always stay empty, for the person to fill (a warning, not a refusal:
    the catalogue may grant them later)."""
    catalogue = services.catalogue
    granted = catalogue.purposes[p.purpose].categories_on(on)
    readable = {f for c in catalogue.categories.values() if c.id in granted for f in c.fields}
    mapped = set(p.champs) | {i for ids in p.identity.values() for i in ids}
    mapped |= {t for m in p.champs.values() for t in m.from_fields.values()}
    out = []
    for field_id in sorted(mapped):
        field = form.field(field_id)
        if field is None or field.source is None:
            continue
        root = paths.parse(field.source).root
        if root not in readable:
            out.append(
                f"{field_id}: its source {root} is in no category the purpose {p.purpose} "
                "reads: the champ will stay empty, for the person to fill"
            )
    return out


def territory_of(record: ProcedureRecord) -> frozenset[str]:
    """The départements a registered procedure serves (none: everywhere)."""
    territory = record.mapping.get("territory") or []
    return frozenset(str(t) for t in territory) if isinstance(territory, list) else frozenset()


async def procedure_for(
    services: Services, form: str, departement: str | None
) -> ProcedureRecord | None:
    """The registered procedure serving ``form`` for a person of ``departement``: one whose
    territory names it first, else one without a territory; None when there is none."""
    everywhere: ProcedureRecord | None = None
    for record in await services.procedures.for_form(form):
        territory = territory_of(record)
        if departement is not None and departement in territory:
            return record
        if not territory and everywhere is None:
            everywhere = record
    return everywhere


def webhook_url(public_url: str, secret: str) -> str:
    """The address to set as a procedure's webhook on démarches-simplifiées: this gateway's
    notifications endpoint, its secret path segment included (DS signs nothing)."""
    return public_url.rstrip("/") + WEBHOOK_PATH.format(secret=secret)
