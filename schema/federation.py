"""The gateway as an Apollo Federation 2 subgraph: ``Person`` is an entity keyed by its handle.

A router resolving ``Person`` entities for another subgraph calls ``_entities(representations:
[{__typename: "Person", handle}])``. Each representation is read exactly as
``person(ref: {handle}, context)`` would read it: the same scope, the same field selection (the
``... on Person`` part of the router's query), the same decision and one audit entry per person.

An entity reference carries no arguments, so the access context travels in three request
headers the router forwards from its client, with the client's ``Authorization``:
``Unefois-Purpose``, ``Unefois-Recipient`` and ``Unefois-Object``. Without them, or with a value
the ``context`` argument would refuse, nothing is read and the error names the headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import strawberry

from exchange import (
    PERSON_READ_SCOPE,
    AccessContext,
    ExchangeError,
    PersonReference,
    PersonRequest,
    PersonView,
)
from schema.context import ACCESS_HEADERS, RequestContext
from schema.errors import typed_error
from schema.scopes import NeedsScopes, require
from schema.selection import coerced_variables, person_selection

ENTITY = "Person"
# The union ``_entities`` returns: ``... on _Entity { ... on Person { … } }`` selects too.
ENTITY_UNION = "_Entity"
# The Federation version the SDL links: the newest that the composition tools in use know
# (@theguild/federation-composition 0.27 stops at 2.9; strawberry would print 2.11).
FEDERATION_VERSION: Final = "2.9"
_HEADER_NAMES = ", ".join(h.title() for h in ACCESS_HEADERS)
_NEEDS = NeedsScopes(PERSON_READ_SCOPE)


def header_context(headers: Mapping[str, str]) -> AccessContext:
    """The access context of an entity read, from the request's headers (lower-case names)."""
    missing = [name.title() for name in ACCESS_HEADERS if not headers.get(name)]
    if missing:
        raise typed_error(
            f"entities are read under an access context given in the headers {_HEADER_NAMES}"
            f" (missing: {', '.join(missing)})",
            "BAD_USER_INPUT",
        )
    purpose, recipient, obj = (headers[name] for name in ACCESS_HEADERS)
    try:
        return AccessContext(purpose=purpose, recipient=recipient, object=obj)
    except ExchangeError as error:
        raise typed_error(f"headers {_HEADER_NAMES}: {error.message}", "BAD_USER_INPUT") from None


async def read_entity(
    info: strawberry.Info[RequestContext, None], handle: str
) -> tuple[PersonView, PersonRequest]:
    """One ``Person`` representation read as ``person(ref: {handle}, context)`` reads it."""
    rc = info.context
    # ``_entities`` is strawberry's own root field, without the field extensions of ``person``:
    # the same permission is checked here.
    if not _NEEDS.has_permission(None, info):
        raise typed_error(str(_NEEDS.message), "FORBIDDEN")
    context = header_context(rc.access_headers)
    raw = info._raw_info
    variables = coerced_variables(raw)
    selection = person_selection(
        list(raw.field_nodes), raw.fragments, variables, on=(ENTITY, ENTITY_UNION)
    )
    require(rc, selection.scopes)
    request = selection.request(rc.caller, PersonReference(handle=handle), context, rc.on)
    return await rc.exchange.person(request), request
