"""The démarches-simplifiées prefill body of a filled form, for one registered procedure,
and the form's values read back from a dossier.

The body has DS's keys: ``identite_nom``, ``identite_prenom``, ``identite_genre`` for the
identity block of a procedure for individuals, and ``champ_<champ id>`` for each champ,
a repetition being a list of rows with their own ``champ_<id>`` keys. A field with no value
is left out (the person fills it on DS); a field whose value DS would not take is left out
too and reported in ``left_out``, so that the caller can tell the person which fields to
type and why, instead of DS dropping them silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prefill.champs import ChampDescriptor, stable_id
from prefill.ds_values import WRITTEN_ONLY, Unconvertible, convert_rows, from_ds, to_ds
from prefill.errors import InvalidValue
from prefill.model import FieldDef, FormDef, PrefilledForm
from prefill.procedure import CIVILITE_LABELS, ChampMapping, Procedure, validate_procedure


@dataclass(frozen=True)
class LeftOut:
    field: str  # form field id; a repetition's cell is "enfants[1].date_naissance"
    reason: str


@dataclass(frozen=True)
class DsPayload:
    body: dict[str, Any]
    left_out: tuple[LeftOut, ...]
    # The form fields the body carries a value for (the identity block's included).
    sent: tuple[str, ...] = ()


def empty(value: Any) -> bool:
    """Whether a form value says nothing (null, an empty text, table or object)."""
    return value is None or value == "" or value == [] or value == {}


def _identity(
    procedure: Procedure,
    values: Mapping[str, Any],
    body: dict[str, Any],
    left: list[LeftOut],
    sent: list[str],
) -> None:
    for key, ids in procedure.identity.items():
        field_id = next((i for i in ids if not empty(values.get(i))), None)
        if field_id is None:
            continue
        value = values[field_id]
        if key == "genre":
            if value not in CIVILITE_LABELS:
                left.append(LeftOut(field_id, "not a civilité (M, F, M. or Mme)"))
                continue
            value = CIVILITE_LABELS[value]
        elif not isinstance(value, str):
            left.append(LeftOut(field_id, "not a text"))
            continue
        body[f"identite_{key}"] = value
        sent.append(field_id)


def _value(m: ChampMapping, values: Mapping[str, Any]) -> Any:
    if m.from_fields:
        roles = {r: values.get(f) for r, f in m.from_fields.items()}
        return None if all(empty(v) for v in roles.values()) else roles
    return values.get(m.field)


def ds_payload(
    form: FormDef,
    filled: PrefilledForm,
    procedure: Procedure,
    champs: Sequence[ChampDescriptor],
) -> DsPayload:
    """The body of DS's prefill call for ``filled`` and what had to be left out.

    The mapping is validated against the form and the descriptors first (``MappingError``):
    a payload is never built on ids DS does not know.
    """
    validate_procedure(procedure, form, champs)
    by_id = {c.id: c for c in champs}
    values = {f.id: f.value for f in filled.fields}
    body: dict[str, Any] = {}
    left: list[LeftOut] = []
    sent: list[str] = []
    _identity(procedure, values, body, left, sent)
    for field_id, m in procedure.champs.items():
        field = form.field(field_id)
        champ = by_id[m.champ]
        assert field is not None  # validated
        value = _value(m, values)
        if empty(value):
            continue
        try:
            if champ.type == "repetition":
                rows, problems = convert_rows(field, champ, m, value)
                left.extend(LeftOut(f"{field_id}[{i}].{c}".rstrip("."), r) for i, c, r in problems)
                if rows:
                    body[f"champ_{champ.id}"] = rows
                    sent.append(field_id)
            else:
                body[f"champ_{champ.id}"] = to_ds(field, champ, m, value)
                sent.append(field_id)
        except Unconvertible as exc:
            left.append(LeftOut(field_id, exc.reason))
    return DsPayload(body, tuple(left), tuple(sorted(set(sent))))


def _identity_back(
    form: FormDef, procedure: Procedure, demandeur: Mapping[str, Any], out: dict[str, Any]
) -> None:
    for key, source in (("nom", "nom"), ("prenom", "prenom"), ("genre", "civilite")):
        ids = procedure.identity.get(key)
        value = demandeur.get(source)
        if not ids or not isinstance(value, str) or not value:
            continue
        field: FieldDef | None = form.field(ids[0])
        if field is None:
            continue
        if key == "genre":
            female = value in ("Mme", "F")
            want = "Mme" if female else "M."
            value = next((c for c in field.choices if CIVILITE_LABELS.get(c) == want), want)
        out[ids[0]] = value


def from_dossier(
    form: FormDef,
    procedure: Procedure,
    champs: Sequence[ChampDescriptor],
    dossier: Mapping[str, Any],
) -> dict[str, Any]:
    """``{form field id: value}`` for every mapped field the dossier has a value for.

    ``dossier`` is DS's GraphQL ``Dossier`` node (``champs``, ``demandeur``). The identity
    block goes back to the first field of each ``identite`` list; a communes champ gives its
    ``from`` fields (postcode, INSEE code) and its commune's name to the mapped field when
    that field is not one of them. A département champ is not read back; any other value that
    cannot be read as the form's (an option the form does not have, a month in no known
    form, more decimals than an amount has) is :class:`InvalidValue` naming the field (a
    table's cell as ``table[i].column``), never dropped.
    """
    by_id = {c.id: c for c in champs}
    nodes = {
        stable_id(n.get("champDescriptorId") or n.get("id")): n
        for n in dossier.get("champs") or []
        if isinstance(n, Mapping)
    }
    out: dict[str, Any] = {}
    demandeur = dossier.get("demandeur")
    if isinstance(demandeur, Mapping):
        _identity_back(form, procedure, demandeur, out)
    for field_id, m in procedure.champs.items():
        field = form.field(field_id)
        champ = by_id.get(m.champ)
        node = nodes.get(stable_id(m.champ))
        if field is None or champ is None or node is None:
            continue
        if champ.type in WRITTEN_ONLY:
            continue  # written, never read back (prefill.resubmit.settled_fields)
        try:
            value = from_ds(field, champ, m, node)
        except Unconvertible as error:
            # What the person left there cannot be read as the form's value: refused naming
            # the field, never taken as an empty champ (which would say "nothing").
            raise InvalidValue(field_id, f"cannot be read back: {error}") from None
        if empty(value):
            continue
        if isinstance(value, dict) and m.from_fields:
            for role, target in m.from_fields.items():
                if not empty(value.get(role)):
                    out[target] = value[role]
            if field_id not in m.from_fields.values() and value.get("name"):
                out[field_id] = value["name"]
        elif not isinstance(value, dict):
            out[field_id] = value
    return out
