"""Which OAuth2 scopes each root field needs, checked before its resolver runs.

Every data operation reads the person view, so each needs ``person:read`` (which the
exchange checks again, and audits) and the operation's own scope on top. Citizens are not
clients: a person token carries no scope, and their own rules (self access only) apply. The
audit fields need no scope, since none is issued for them: the catalogue's ``audit_control``
purpose names the auditors. The citizen's own fields refuse clients in their resolvers.

A permission runs only on the field it guards, so the check costs one set comparison per
root field, nothing per nested field. A nested field needing a scope of its own (a person's
``eligibility``, which runs the rules as the root ``eligibility`` does) is checked by the root
that reads the person, before anything is read: :func:`require`, from the selection.
"""

from __future__ import annotations

import functools
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from exchange import PERSON_READ_SCOPE, Citizen
from schema.context import RequestContext
from schema.errors import typed_error

ELIGIBILITY_READ = "eligibility:read"
PREFILL_READ = "prefill:read"
PREFILL_WRITE = "prefill:write"


class NeedsScopes(BasePermission):
    def __init__(self, *scopes: str) -> None:
        self.error_extensions = {"code": "FORBIDDEN"}
        self.scopes = frozenset(scopes)
        self.message = "this operation needs the scopes " + " ".join(sorted(self.scopes))

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context: RequestContext = info.context
        caller = context.caller
        return isinstance(caller, Citizen) or self.scopes <= caller.scopes


def require(context: RequestContext, scopes: frozenset[str]) -> None:
    """Refuse (``FORBIDDEN``) a caller lacking ``scopes`` (and ``person:read``) for what its
    document selects, before any agency is called or any access recorded. No scope beyond
    the root's (most requests): nothing to check again."""
    if not scopes:
        return
    needs = _needs(scopes)
    if not needs.has_permission(None, _Info(context)):
        raise typed_error(str(needs.message), "FORBIDDEN")


@functools.cache
def _needs(scopes: frozenset[str]) -> NeedsScopes:
    return NeedsScopes(PERSON_READ_SCOPE, *scopes)


class _Info:
    """What :meth:`NeedsScopes.has_permission` reads of a resolver's ``info``."""

    def __init__(self, context: RequestContext) -> None:
        self.context = context


def scoped(*scopes: str) -> list[FieldExtension]:
    """The field extensions of a root field needing ``scopes`` (and ``person:read``)."""
    needs = NeedsScopes(PERSON_READ_SCOPE, *scopes)
    # No directive: the schema does not advertise its guards to introspection.
    return [PermissionExtension(permissions=[needs], use_directives=False)]
