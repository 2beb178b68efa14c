"""Citizens' consents over GraphQL: what they granted, to whom, and taking it back."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from exchange import Citizen
from policies import Consent
from schema.context import RequestContext
from schema.errors import typed_error


@strawberry.type(name="Consent", description="A consent the person gave, and its state.")
class ConsentType:
    id: str
    client: str | None = strawberry.field(description="The client id it was given to.")
    client_name: str | None = strawberry.field(description="That client's organisation.")
    purpose: str | None = strawberry.field(description="The purpose it was given for.")
    purpose_label: str | None
    categories: list[str]
    granted_at: datetime
    valid_from: date
    valid_until: date
    revoked_at: datetime | None
    active: bool


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


@strawberry.input
class GrantConsentInput:
    client: str | None = strawberry.field(default=None, description="A client id.")
    purpose: str | None = strawberry.field(default=None, description="A purpose id.")
    categories: list[str] = strawberry.field(description="Data categories covered.")
    until: date = strawberry.field(description="Last day of validity (included).")


@strawberry.type
class ConsentMutation:
    @strawberry.mutation(description="Give a consent to one client or for one purpose.")
    async def grant_consent(
        self, info: strawberry.Info[RequestContext, None], input: GrantConsentInput
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
        self, info: strawberry.Info[RequestContext, None], id: str
    ) -> ConsentType:
        context = info.context
        citizen = citizen_of(context)
        consent = await context.consents.revoke(citizen, id, context.now)
        return consent_type(consent, context)


async def my_consents(info: strawberry.Info[RequestContext, None]) -> list[ConsentType]:
    context = info.context
    citizen = citizen_of(context)
    return [consent_type(c, context) for c in await context.consents.mine(citizen)]
