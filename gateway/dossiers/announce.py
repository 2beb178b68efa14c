"""What the person will type themselves on démarches-simplifiées, said before the dossier opens.

A dossier is created with everything the agencies gave. Some fields stay empty although a
source was asked: the procedure's purpose does not release it, it needs the person's
consent, no agency knows it, or its value could not be converted to the procedure's champ
(an address given as lines where the champ wants a national address label). Rather than let
the person find empty boxes on DS, the gateway names them first, with why, in words: labels
and reasons only, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefill.ds_payload import DsPayload, empty
from prefill.model import PrefilledForm

# A source's failure code, as the person reads it (the transient ones never create a dossier).
WHY = {
    "FORBIDDEN": "cette démarche ne permet pas de la lire",
    "CONSENT_REQUIRED": "elle demande votre accord",
    "NOT_FOUND": "aucune administration ne la connaît",
    # The only source asked by an identifier other than the identity: France Travail's.
    "BAD_USER_INPUT": "elle se lit avec votre identifiant France Travail, que nous n'avons pas",
}
WHY_OTHER = "elle n'a pas pu être lue"
NOT_CONVERTED = "elle n'a pas pu être reprise dans le format du formulaire"


@dataclass(frozen=True)
class ToType:
    label: str  # the form field's label
    why: str


def to_type(filled: PrefilledForm, payload: DsPayload) -> list[ToType]:
    """The form's fields left empty on DS although a source was asked for them, in the
    form's order: withheld by their source, or left out of the payload (a table's cell
    counts for its table)."""
    left = {x.field.split("[", 1)[0] for x in payload.left_out}
    out: list[ToType] = []
    for field in filled.fields:
        if field.reason is not None and empty(field.value):
            out.append(ToType(field.label, WHY.get(field.reason, WHY_OTHER)))
        elif field.id in left:
            out.append(ToType(field.label, NOT_CONVERTED))
    return out
