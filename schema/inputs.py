"""GraphQL inputs: who the query is about, and in which context."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from connectors import FranceConnectToken, PivotIdentity
from exchange import AccessContext, InvalidRequest, Subjects


@strawberry.enum
class Sex(Enum):
    M = "M"
    F = "F"


@strawberry.input(description="API Particulier's pivot identity.")
class PivotIdentityInput:
    birth_name: str
    given_names: list[str]
    birth_date: date
    sex: Sex
    birth_country: str = strawberry.field(description="INSEE COG code, 99100 for France.")
    birth_place: str | None = strawberry.field(
        default=None,
        description="INSEE COG code of the birth commune, for a person born in France.",
    )
    usage_name: str | None = None


@strawberry.input(description="Who the query is about: one of identity or franceConnectToken.")
class PersonRef:
    identity: PivotIdentityInput | None = None
    france_connect_token: str | None = strawberry.field(
        default=None, description="The citizen's FranceConnect access token (citizen present)."
    )
    france_travail_id: str | None = strawberry.field(
        default=None, description="The France Travail identifier, needed for employment."
    )

    def to_subjects(self) -> Subjects:
        if (self.identity is None) == (self.france_connect_token is None):
            raise InvalidRequest("give exactly one of ref.identity and ref.franceConnectToken")
        person: PivotIdentity | FranceConnectToken
        if self.identity is not None:
            i = self.identity
            person = PivotIdentity(
                birth_name=i.birth_name,
                given_names=tuple(i.given_names),
                birth_date=i.birth_date,
                sex=i.sex.value,
                birth_country=i.birth_country,
                birth_place=i.birth_place,
                usage_name=i.usage_name,
            )
        else:
            assert self.france_connect_token is not None
            person = FranceConnectToken(self.france_connect_token)
        return Subjects(person=person, france_travail_id=self.france_travail_id)


@strawberry.input(description="Why the data is asked for: every data query carries it.")
class AccessContextInput:
    purpose: str = strawberry.field(description="A purpose of the policy catalogue.")
    recipient: str = strawberry.field(description="SIRET of the public body using the data.")
    object: str = strawberry.field(description="Case or procedure reference, at most 50 chars.")

    def to_context(self) -> AccessContext:
        return AccessContext(purpose=self.purpose, recipient=self.recipient, object=self.object)
