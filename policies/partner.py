"""Decisions about the partner the examined person's household names.

Reading a household member is not reading the person the request is about: it is allowed
only by the purpose's ``partner`` section, with that section's legal basis and categories,
never by the purpose's own list. The request must first be admissible as any request is
(rules 1–4 of ``policies.engine``); then, in order:

    partner.not_granted       the purpose has no partner section in force       request denied
    partner.allowed           the request may go on, field by field
    field.unknown             the field belongs to no category                 denied
    partner.outside_purpose   its category is not in the partner section       denied
    partner.purpose_grant     the partner section grants the category          allowed

Consent never releases a partner's data: a purpose resting on consent cannot have the
section (the loader refuses it), so its partner requests are denied with
``partner.not_granted``.
"""

from __future__ import annotations

from datetime import date

from policies.catalogue import Catalogue
from policies.engine import Caller, Verdict, decide
from policies.errors import UnknownField
from policies.model import Decision


def decide_partner(
    catalogue: Catalogue,
    *,
    client_id: str,
    caller: Caller,
    purpose_id: str,
    fields: frozenset[str],
    on: date,
) -> Verdict:
    """Decide every field of ``fields`` for one read about the person's partner."""
    first = decide(
        catalogue,
        client_id=client_id,
        caller=caller,
        purpose_id=purpose_id,
        fields=fields,
        consents=(),
        on=on,
    )
    if first.request.effect != "allow":
        return first
    revision = catalogue.revision
    access = catalogue.purposes[purpose_id].partner
    granted = access.categories_on(on) if access is not None else frozenset()
    if access is None or not granted:
        why = f"purpose {purpose_id!r} does not allow reading a member of the person's household"
        denied = Decision("deny", "partner.not_granted", (why,), None, revision)
        return Verdict(denied, dict.fromkeys(fields, denied))
    basis = access.legal_basis
    admitted = Decision(
        "allow",
        "partner.allowed",
        (f"purpose {purpose_id!r} may read the partner of the person's household",),
        basis,
        revision,
    )
    out: dict[str, Decision] = {}
    for name in fields:
        try:
            category = catalogue.category_of(name)
        except UnknownField:
            why = f"the field belongs to no category, so purpose {purpose_id!r} cannot release it"
            out[name] = Decision("deny", "field.unknown", (why,), None, revision)
            continue
        if category in granted:
            why = (
                f"purpose {purpose_id!r} grants category {category!r} of the partner "
                f"({basis.title})"
            )
            out[name] = Decision("allow", "partner.purpose_grant", (why,), basis, revision)
        else:
            why = f"purpose {purpose_id!r} does not release category {category!r} of the partner"
            out[name] = Decision("deny", "partner.outside_purpose", (why,), None, revision)
    return Verdict(admitted, out)
