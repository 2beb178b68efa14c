"""The schema's error boundary: one pass over an execution's errors, after it ran.

Resolvers raise their packages' errors as they come; this extension turns every error of the
result into what a client may see (``schema.errors.typed``), so no resolver holds a ``try``
and no path skips the masking. It also refuses, before validation, a document of several
operations sent without ``operationName``: the GraphQL specification makes that a request
error (§6.1 GetOperation), where strawberry would run the first operation.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult as CoreResult
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from schema.errors import typed

MANY_OPERATIONS = "Must provide operation name if query contains multiple operations."


class ErrorBoundary(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # The name the client sent, not strawberry's fallback to the first operation's name.
        if context._provided_operation_name is None and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                # Set before validation runs, which then leaves the request refused as is.
                context.pre_execution_errors = [
                    *(context.pre_execution_errors or ()),
                    GraphQLError(MANY_OPERATIONS),
                ]
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        # Before execution strawberry's result is set; after it, graphql-core's.
        if isinstance(result, ExecutionResult | CoreResult) and result.errors:
            result.errors = [typed(e) for e in result.errors]
