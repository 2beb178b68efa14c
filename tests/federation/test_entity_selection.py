"""The person fields of an ``_entities`` selection: only what is asked ``... on Person``."""

from __future__ import annotations

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.selection import person_selection


def _selection(query: str, on: str | None) -> frozenset[str]:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    field = operation.selection_set.selections[0]
    assert isinstance(field, FieldNode)
    return person_selection([field], fragments, {}, on=on).fields


QUERY = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Person { identity { birthName } ...more }
  ... on Other { pension { pensions { scheme } } }
} }
fragment more on Person { benefits { rsa { receiving } } }
fragment elsewhere on Other { housing { status } }"""


def test_only_fragments_on_person_count() -> None:
    assert _selection(QUERY, "Person") == {"identity", "benefits.rsa"}


def test_without_a_type_every_fragment_counts_as_before() -> None:
    assert _selection(QUERY, None) == {"identity", "benefits.rsa", "pension"}
