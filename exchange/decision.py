"""The "decide" step: the purpose policies, the person's consents, and the client's scope.

The engine itself is pure (``policies``); this module feeds it what it needs for one request,
reading consents only when the purpose rests on consent, so public-task requests never touch
the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from exchange.caller import PERSON_READ_SCOPE, Caller
from exchange.context import AccessContext
from exchange.pseudonyms import CONSENT_SECTOR, Pseudonyms
from exchange.reference import Subjects
from policies import (
    Catalogue,
    Consent,
    Decision,
    Verdict,
    decide,
    decide_partner,
    needs_consents,
)


class ConsentReader(Protocol):
    async def active(self, person: str, on: date) -> Sequence[Consent]: ...


class PolicyDecider:
    def __init__(
        self,
        catalogue: Catalogue,
        consents: ConsentReader | None,
        pseudonyms: Pseudonyms,
    ) -> None:
        self.catalogue = catalogue
        self._consents = consents
        self._pseudonyms = pseudonyms

    def precheck(
        self, caller: Caller, context: AccessContext, fields: frozenset[str], on: date
    ) -> Verdict:
        """The verdict before the person is known: refuses unknown purposes, purposes out of
        force and clients not allowed, with no call to anyone."""
        if PERSON_READ_SCOPE not in caller.scopes:
            return self._scope_denied(fields)
        return decide(
            self.catalogue,
            client_id=caller.id,
            caller=caller.kind,
            purpose_id=context.purpose,
            fields=fields,
            consents=(),
            on=on,
        )

    def partner(
        self, caller: Caller, context: AccessContext, fields: frozenset[str], on: date
    ) -> Verdict:
        """The verdict for a read about the partner the examined person's household names:
        the purpose's partner section decides, never its own categories nor any consent."""
        if PERSON_READ_SCOPE not in caller.scopes:
            return self._scope_denied(fields)
        return decide_partner(
            self.catalogue,
            client_id=caller.id,
            caller=caller.kind,
            purpose_id=context.purpose,
            fields=fields,
            on=on,
        )

    async def decide(
        self,
        caller: Caller,
        context: AccessContext,
        fields: frozenset[str],
        subjects: Subjects,
        on: date,
        first: Verdict,
    ) -> Verdict:
        """The final verdict: the first one, completed by the person's consents if the
        purpose rests on them."""
        if first.request.effect != "allow" or not needs_consents(self.catalogue, context.purpose):
            return first
        consents: Sequence[Consent] = ()
        if self._consents is not None:
            person = self._pseudonyms.pseudonym(subjects.identity, CONSENT_SECTOR)
            consents = await self._consents.active(person, on)
        return decide(
            self.catalogue,
            client_id=caller.id,
            caller=caller.kind,
            purpose_id=context.purpose,
            fields=fields,
            consents=consents,
            on=on,
        )

    def _scope_denied(self, fields: frozenset[str]) -> Verdict:
        denied = Decision(
            "deny",
            "scope.person_read",
            (f"the client lacks the {PERSON_READ_SCOPE} scope",),
            None,
            self.catalogue.revision,
        )
        return Verdict(request=denied, fields=dict.fromkeys(fields, denied))
