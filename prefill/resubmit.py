"""What a person did with a prefilled dossier, as a submission: confirmed, corrected, provided.

A dossier comes back from démarches-simplifiées with the values the person left in it. Field
by field, against the form prefilled again from the agencies: a value as prefilled is a
confirmation, a different one a correction, a value where none was prefilled a value provided.
A prefilled value the person emptied is a correction to nothing (no rows for a table), which a
required field refuses; an empty list shown (no child known) and left empty is confirmed. Only the
fields the procedure carries are the person's to settle: the others were never shown.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from prefill import geo
from prefill.champs import ChampDescriptor
from prefill.ds_values import WRITTEN_ONLY
from prefill.model import FormDef, PrefilledForm, Submission
from prefill.procedure import Procedure


def settled_fields(
    form: FormDef, procedure: Procedure, champs: Sequence[ChampDescriptor]
) -> frozenset[str]:
    """The form's fields the procedure shows the person and reads back from the dossier (its
    champs and identity block). A champ fed ``from`` other fields settles them: a commune
    gives back its postcode and INSEE code, and its name to the field it is mapped from when
    that is not one of them; a département champ gives nothing back (a département is not
    the postcode it was drawn from), so nothing waits on it."""
    types = {c.id: c.type for c in champs}
    ids: set[str] = set()
    for fields in procedure.identity.values():
        ids.update(fields)
    for field_id, m in procedure.champs.items():
        if types.get(m.champ) in WRITTEN_ONLY:
            continue
        ids.add(field_id)
        ids.update(m.from_fields.values())
    return frozenset(i for i in ids if form.field(i) is not None)


def commune_fields(procedure: Procedure, champs: Sequence[ChampDescriptor]) -> frozenset[str]:
    """The form's fields a communes champ gives back as an INSEE code: compared as communes
    (``prefill.geo.same_commune``), since DS holds today's commune for a former one."""
    types = {c.id: c.type for c in champs}
    return frozenset(
        m.from_fields["insee"]
        for m in procedure.champs.values()
        if types.get(m.champ) == "communes" and "insee" in m.from_fields
    )


def left_unseen(
    form: FormDef,
    settled: Collection[str],
    not_sent: Collection[str],
    submitted: Mapping[str, Any],
) -> frozenset[str]:
    """``settled`` without the champs the dossier showed empty and the person left empty: they
    were not theirs to settle (a value the agencies give only since the dossier was made), so
    nothing waits on them — unless the form requires a value there."""
    required = {f.id for f in form.fields if f.required}
    unseen = {f for f in not_sent if f not in required and submitted.get(f) in (None, "", [])}
    return frozenset(settled) - unseen


def _identity_back(
    filled: PrefilledForm,
    submitted: Mapping[str, Any],
    identity: Mapping[str, tuple[str, ...]] | None,
) -> dict[str, Any]:
    """DS's identity block (nom, prénom, civilité) was filled from the first of its fields
    with a value: what comes back belongs to that field, not to the first of the list (a usage
    name nobody gave is not "provided" because the birth name came back)."""
    out = dict(submitted)
    for ids in (identity or {}).values():
        if not ids or ids[0] not in out:
            continue
        source = next((i for i in ids if _value(filled, i) not in (None, "")), ids[0])
        if source != ids[0]:
            out[source] = out.pop(ids[0])
    return out


def _value(filled: PrefilledForm, field_id: str) -> Any:
    shown = filled.field(field_id)
    return None if shown is None else shown.value


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return round(float(value), 2)
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _same(prefilled: Any, submitted: Any) -> bool:
    if isinstance(prefilled, list) and isinstance(submitted, list):
        if len(prefilled) != len(submitted):
            return False
        # A repetition's row carries only the columns the procedure maps: compare those.
        return all(
            isinstance(p, dict)
            and isinstance(s, dict)
            and all(_norm(p.get(k)) == _norm(v) for k, v in s.items())
            for p, s in zip(prefilled, submitted, strict=True)
        )
    return bool(_norm(prefilled) == _norm(submitted))


def submission_of(
    form: FormDef,
    filled: PrefilledForm,
    submitted: Mapping[str, Any],
    settled: Collection[str],
    identity: Mapping[str, tuple[str, ...]] | None = None,
    not_sent: Collection[str] = (),
    communes: Collection[str] = (),
) -> Submission:
    """``not_sent``: the fields the dossier was created without (a value DS could not take,
    such as the agencies' address lines for an address champ): what the person typed there is
    theirs, provided, not a correction of a value they never saw. ``communes``: the fields
    holding an INSEE commune code read back from a communes champ (``commune_fields``): a
    former commune sent as the commune it is part of today comes back as that commune, the
    same place, confirmed rather than corrected."""
    confirmed: list[str] = []
    corrections: dict[str, Any] = {}
    provided: dict[str, Any] = {}
    submitted = _identity_back(filled, submitted, identity)
    block = {i for ids in (identity or {}).values() for i in ids}
    for field in form.fields:
        if field.id not in settled:
            continue
        shown = filled.field(field.id)
        before = None if shown is None or field.id in not_sent else shown.value
        after = submitted.get(field.id)
        if after is None or after == "" or after == []:
            if shown is not None and shown.value == [] and shown.state == "TO_CONFIRM":
                # An empty list shown (no child known: an empty table, which a payload does
                # not carry) and left empty: that is confirmed.
                confirmed.append(field.id)
            elif field.id not in block and not (before is None or before == "" or before == []):
                # A prefilled value the person emptied: they say it is not so (a child who
                # left, charges they do not pay). A required field is refused as empty. (DS's
                # identity block gives back one of its fields, and is never empty.)
                corrections[field.id] = [] if field.type == "repetition" else None
            continue
        if before is None or before == "" or before == []:
            provided[field.id] = after
        elif _same(before, after) or (
            field.id in communes and geo.same_commune(str(before), str(after))
        ):
            if shown is not None and shown.state == "TO_CONFIRM":
                confirmed.append(field.id)  # a KNOWN value kept as it was needs no confirmation
        else:
            corrections[field.id] = after
    return Submission(form.id, tuple(confirmed), corrections, provided)
