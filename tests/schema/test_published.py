"""schema.graphql, the published schema, is the one the code builds."""

from __future__ import annotations

from cli.schema import PUBLISHED, sdl


def test_the_published_schema_is_the_codes() -> None:
    built = sdl()
    published = PUBLISHED.read_text(encoding="utf-8") if PUBLISHED.exists() else ""
    assert published == built, (
        "schema.graphql differs from the schema the code builds: regenerate it with "
        "`make schema` (or `unefois schema print --output schema.graphql`) and commit it"
    )


def test_the_schema_names_the_renamed_fields() -> None:
    text = sdl()
    household = text[text.index("type Household {") :]
    household = household[: household.index("\n}")]
    assert "familyQuotient: Int!" in household and "  value:" not in household
    member = text[text.index("type HouseholdMember {") :]
    assert "givenNames: [String!]!" in member[: member.index("\n}")]
