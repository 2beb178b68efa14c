"""The purposes a caller may declare, read from the policy catalogue.

Every data query carries a purpose (``AccessContextInput.purpose``); ``purposes`` lets a
client discover the ones open to it, with what each releases, when and under which law,
instead of learning them from refusals. It reads the catalogue only: no person, no agency, no
audit entry. A purpose whose lawful ground is consent releases a category only where the
person consented to it.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from policies import Catalogue, Provision, Purpose, usable_purposes
from schema.audit import LegalBasisType
from schema.context import RequestContext


@strawberry.enum(description="What makes the processing lawful (GDPR, article 6(1)).")
class LawfulGround(Enum):
    PUBLIC_TASK = strawberry.enum_value(
        "public_task",
        description="A task carried out in the public interest or in the exercise of official "
        "authority (GDPR art. 6(1)(e)): the purpose grants its categories.",
    )
    LEGAL_OBLIGATION = strawberry.enum_value(
        "legal_obligation",
        description="A legal obligation of the body using the data (GDPR art. 6(1)(c)): the "
        "purpose grants its categories.",
    )
    CONSENT = strawberry.enum_value(
        "consent",
        description="The person's consent (GDPR art. 6(1)(a)): a category is released only "
        "where an active consent of the person covers it.",
    )


@strawberry.type(
    name="DataCategory", description="A category of data the policy catalogue grants as a whole."
)
class DataCategoryType:
    id: str = strawberry.field(description="The category's id, e.g. `ressources`.")
    label: str = strawberry.field(description="What it holds, in French.")
    fields: list[str] = strawberry.field(
        description="The person-view fields it covers: a root field of Person (`resources`) "
        "or a nested one (`benefits.rsa`, `employment.status`)."
    )


@strawberry.type(
    name="PurposeProvision",
    description="The categories a purpose releases during a period.",
)
class ProvisionType:
    start: date = strawberry.field(description="First day in force.")
    end: date | None = strawberry.field(
        description="First day no longer in force (excluded); null: still in force."
    )
    categories: list[DataCategoryType] = strawberry.field(
        description="The categories released during the period."
    )


@strawberry.type(
    name="PartnerAccess",
    description="What a purpose may read about the partner the examined person's household "
    "names (the household's resources count for the benefit), under its own legal basis.",
)
class PartnerAccessType:
    legal_basis: LegalBasisType = strawberry.field(
        description="The text that makes the partner's data necessary."
    )
    categories: list[DataCategoryType] = strawberry.field(
        description="The categories readable about the partner today; empty when none."
    )


@strawberry.type(
    name="Purpose",
    description="A purpose of the policy catalogue the caller may declare in "
    "`AccessContextInput.purpose`.",
)
class PurposeType:
    id: str = strawberry.field(description="The id to declare, e.g. `rsa_instruction`.")
    label: str = strawberry.field(description="What the data is for, in French.")
    lawful_ground: LawfulGround = strawberry.field(description="What makes it lawful.")
    legal_basis: LegalBasisType = strawberry.field(
        description="The text that sets the task or obligation, or the consent's article."
    )
    consent_required: bool = strawberry.field(
        description="true: data is released only where the person consented to its category."
    )
    in_force: bool = strawberry.field(
        description="In force today: a query under it is admitted (the error of an unknown "
        "purpose lists these in `extensions.validPurposes`)."
    )
    categories: list[DataCategoryType] = strawberry.field(
        description="The categories it releases today; empty when not in force."
    )
    provisions: list[ProvisionType] = strawberry.field(
        description="Every period of the purpose with its categories, oldest first."
    )
    partner: PartnerAccessType | None = strawberry.field(
        description="What it may read about the person's partner; null: nothing."
    )
    retention_days: int = strawberry.field(
        description="How long, in days, the receiving body may keep the data."
    )


def _categories(catalogue: Catalogue, ids: frozenset[str]) -> list[DataCategoryType]:
    # In the catalogue's order, which is its file's.
    return [
        DataCategoryType(id=c.id, label=c.label, fields=sorted(c.fields))
        for c in catalogue.categories.values()
        if c.id in ids
    ]


def _provision(catalogue: Catalogue, provision: Provision) -> ProvisionType:
    return ProvisionType(
        start=provision.period.start,
        end=provision.period.end,
        categories=_categories(catalogue, provision.categories),
    )


def purpose_type(catalogue: Catalogue, purpose: Purpose, on: date) -> PurposeType:
    partner = purpose.partner
    return PurposeType(
        id=purpose.id,
        label=purpose.label,
        lawful_ground=LawfulGround(purpose.lawful_ground),
        legal_basis=LegalBasisType(title=purpose.legal_basis.title, href=purpose.legal_basis.href),
        consent_required=purpose.lawful_ground == "consent",
        in_force=purpose.in_force(on),
        categories=_categories(catalogue, purpose.categories_on(on)),
        provisions=[_provision(catalogue, p) for p in purpose.provisions],
        partner=None
        if partner is None
        else PartnerAccessType(
            legal_basis=LegalBasisType(
                title=partner.legal_basis.title, href=partner.legal_basis.href
            ),
            categories=_categories(catalogue, partner.categories_on(on)),
        ),
        retention_days=purpose.retention_days,
    )


async def purposes(info: strawberry.Info[RequestContext, None]) -> list[PurposeType]:
    rc = info.context
    catalogue = rc.catalogue
    ids = usable_purposes(catalogue, client_id=rc.caller.id, caller=rc.caller.kind)
    return [purpose_type(catalogue, catalogue.purposes[pid], rc.on) for pid in ids]
