"""GraphQL inputs: who the query is about, and in which context."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from connectors import ConnectorError, FranceConnectToken, PivotIdentity
from exchange import AccessContext, PersonReference
from exchange.errors import PersonTokenRefused

REF = "Who the query is about."
CONTEXT = "Why the data is read: purpose, recipient and case reference, all audited."


@strawberry.enum(description="Sex at the civil registry (sexe état civil).")
class Sex(Enum):
    M = strawberry.enum_value("M", description="Male (masculin).")
    F = strawberry.enum_value("F", description="Female (féminin).")


@strawberry.input(description="API Particulier's pivot identity.")
class PivotIdentityInput:
    birth_name: str = strawberry.field(description="Nom de naissance: birth name.")
    given_names: list[str] = strawberry.field(
        description="Given names (prénoms), in the civil registry's order."
    )
    birth_date: date = strawberry.field(description="Birth date.")
    sex: Sex = strawberry.field(description="Sex at the civil registry.")
    birth_country: str = strawberry.field(description="INSEE COG code, 99100 for France.")
    birth_place: str | None = strawberry.field(
        default=None,
        description="INSEE COG code of the birth commune, for a person born in France.",
    )
    usage_name: str | None = strawberry.field(
        default=None, description="Nom d'usage: the name used, when not the birth name."
    )


@strawberry.input(
    description="Who the query is about: exactly one of identity, handle, "
    "franceConnectToken, or franceConnect (a citizen reading their own data)."
)
class PersonRef:
    identity: PivotIdentityInput | None = strawberry.field(
        default=None, description="The person's pivot identity (API Particulier's)."
    )
    handle: str | None = strawberry.field(
        default=None, description="A handle this gateway returned to your sector."
    )
    france_connect_token: str | None = strawberry.field(
        default=None, description="The citizen's FranceConnect access token (citizen present)."
    )
    france_connect: bool | None = strawberry.field(
        default=None, description="true: the person of the calling citizen's own token."
    )
    france_travail_id: str | None = strawberry.field(
        default=None, description="The France Travail identifier, needed for employment."
    )

    def to_reference(self) -> PersonReference:
        identity = None
        if self.identity is not None:
            i = self.identity
            identity = PivotIdentity(
                birth_name=i.birth_name,
                given_names=tuple(i.given_names),
                birth_date=i.birth_date,
                sex="M" if i.sex is Sex.M else "F",
                birth_country=i.birth_country,
                birth_place=i.birth_place,
                usage_name=i.usage_name,
            )
        return PersonReference(
            identity=identity,
            handle=self.handle,
            france_connect=_france_connect(self.france_connect_token),
            self_=bool(self.france_connect),
            france_travail_id=self.france_travail_id,
        )


def _france_connect(token: str | None) -> FranceConnectToken | None:
    if token is None:
        return None
    try:
        return FranceConnectToken(token)
    except ConnectorError:
        # A token that cannot be one is refused as any token the provider refuses would be.
        raise PersonTokenRefused("FranceConnect token refused: malformed token") from None


@strawberry.input(description="Why the data is asked for: every data query carries it.")
class AccessContextInput:
    purpose: str = strawberry.field(
        description="A purpose of the policy catalogue, by id: the `purposes` query lists "
        "those the caller may use."
    )
    recipient: str = strawberry.field(
        description="SIRET (14 digits) of the public body using the data."
    )
    object: str = strawberry.field(description="Case or procedure reference, at most 50 chars.")

    def to_context(self) -> AccessContext:
        return AccessContext(purpose=self.purpose, recipient=self.recipient, object=self.object)
