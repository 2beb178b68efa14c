"""Citizens' consents over GraphQL: what they granted, to whom, and taking it back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from exchange import Citizen
from policies import Consent
from schema.context import RequestContext
from schema.errors import typed_error


@strawberry.type(name="Consent", description="A consent the person gave, and its state.")
class ConsentType:
    id: str = strawberry.field(description="The consent's id: revokeConsent takes it.")
    client: str | None = strawberry.field(description="The client id it was given to.")
    client_name: str | None = strawberry.field(description="That client's organisation.")
    purpose: str | None = strawberry.field(description="The purpose id it was given for.")
    purpose_label: str | None = strawberry.field(
        description="That purpose's label in the policy catalogue, in French; null when it is "
        "no longer there."
    )
    categories: list[str] = strawberry.field(
        description="The data categories it covers (the policy catalogue's ids)."
    )
    granted_at: datetime = strawberry.field(description="When it was given (UTC).")
    valid_from: date = strawberry.field(description="First day of validity.")
    valid_until: date = strawberry.field(description="Last day of validity (included).")
    revoked_at: datetime | None = strawberry.field(
        description="When it was taken back (UTC); null while not revoked."
    )
    active: bool = strawberry.field(description="In force today: valid and not revoked.")


def consent_type(consent: Consent, context: RequestContext) -> ConsentType:
    catalogue = context.catalogue
    client = catalogue.clients.get(consent.client_id) if consent.client_id else None
    purpose = catalogue.purposes.get(consent.purpose) if consent.purpose else None
    return ConsentType(
        id=consent.id,
        client=consent.client_id,
        client_name=client.name if client else None,
        purpose=consent.purpose,
        purpose_label=purpose.label if purpose else None,
        categories=sorted(consent.categories),
        granted_at=consent.granted_at,
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        revoked_at=consent.revoked_at,
        active=consent.active(context.on),
    )


def citizen_of(context: RequestContext) -> Citizen:
    if not isinstance(context.caller, Citizen):
        raise typed_error(
            "consents are managed by the person, with their FranceConnect token", "FORBIDDEN"
        )
    return context.caller


@strawberry.input(
    description="A consent to give: to one client or for one purpose (exactly one of them)."
)
class GrantConsentInput:
    client: str | None = strawberry.field(
        default=None, description="A client id, of a client of a consent-based purpose."
    )
    purpose: str | None = strawberry.field(
        default=None, description="A purpose id, of a purpose resting on consent."
    )
    categories: list[str] = strawberry.field(
        description="Data categories covered (the policy catalogue's ids)."
    )
    until: date = strawberry.field(description="Last day of validity (included).")


@strawberry.type(description="Changes to the calling citizen's consents.")
class ConsentMutation:
    @strawberry.mutation(description="Give a consent to one client or for one purpose.")
    async def grant_consent(
        self,
        info: strawberry.Info[RequestContext, None],
        input: Annotated[GrantConsentInput, strawberry.argument(description="What to consent to.")],
    ) -> ConsentType:
        context = info.context
        citizen = citizen_of(context)
        consent = await context.consents.grant(
            citizen,
            client_id=input.client,
            purpose=input.purpose,
            categories=input.categories,
            until=input.until,
            now=context.now,
        )
        return consent_type(consent, context)

    @strawberry.mutation(description="Take a consent back; it stops at once.")
    async def revoke_consent(
        self,
        info: strawberry.Info[RequestContext, None],
        id: Annotated[str, strawberry.argument(description="The consent's id.")],
    ) -> ConsentType:
        context = info.context
        citizen = citizen_of(context)
        consent = await context.consents.revoke(citizen, id, context.now)
        return consent_type(consent, context)


async def my_consents(info: strawberry.Info[RequestContext, None]) -> list[ConsentType]:
    context = info.context
    citizen = citizen_of(context)
    return [consent_type(c, context) for c in await context.consents.mine(citizen)]
