"""The hardened schema: no suggestions, bounded depth/aliases/tokens, cached parse+validate.

It is an Apollo Federation 2 subgraph (``schema.federation``): ``_service { sdl }`` answers the
subgraph's SDL, with its federation directives, and ``_entities`` reads ``Person`` entities.

The limiters' validation rules are created once and reused by every request: per-request
rule classes would make the validation cache miss (strawberry issue #4635).
"""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from graphql import ASTValidationRule, GraphQLError, print_schema
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.boundary import ErrorBoundary
from schema.consents import ConsentMutation
from schema.federation import FEDERATION_VERSION
from schema.plan import PlannedExecution
from schema.prefill import PrefillMutations
from schema.query import PLANNED_ROOTS, Query


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    introspection: bool = False
    cache_size: int = 1024


@strawberry.type(
    description="Writes: a citizen's consents, and a prefilled form checked and submitted."
)
class Mutation(ConsentMutation, PrefillMutations):
    pass


class _Schema(strawberry.federation.Schema):
    def as_str(self) -> str:
        """The executable schema's SDL, federation's root fields and types included but not
        its directives, whose definitions strawberry's printer leaves out (``@link`` imports
        them): any GraphQL implementation builds it. A router reads ``_service { sdl }``."""
        return print_schema(self._schema)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Strawberry logs every error with the query text, which can hold names: errors are
        reported to the client typed, and defects logged where they are formatted."""


def _rules(limits: SchemaLimits) -> list[type[ASTValidationRule]]:
    rules: list[type[ASTValidationRule]] = []
    rules += QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
    rules += MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(limits: SchemaLimits) -> strawberry.Schema:
    rules = _rules(limits)

    def validation_rules() -> SchemaExtension:
        return AddValidationRules(rules)

    def tokens() -> SchemaExtension:
        return MaxTokensLimiter(max_token_count=limits.max_tokens)

    def parser_cache() -> SchemaExtension:
        return ParserCache(maxsize=limits.cache_size)

    def validation_cache() -> SchemaExtension:
        return ValidationCache(maxsize=limits.cache_size)

    return _Schema(
        query=Query,
        mutation=Mutation,
        # The boundary last: it sees the validation cache's errors, and every result.
        extensions=[tokens, parser_cache, validation_rules, validation_cache, ErrorBoundary],
        config=StrawberryConfig(disable_field_suggestions=True),
        federation_version=FEDERATION_VERSION,
    )


def planned_execution(schema: strawberry.Schema, size: int = 1024) -> PlannedExecution:
    """The schema's execution with compiled plans for the documents it has already run."""
    return PlannedExecution(schema, PLANNED_ROOTS, size=size)
