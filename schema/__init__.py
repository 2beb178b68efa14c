"""The GraphQL face of the gateway (strawberry); never imports the HTTP layer."""

from schema.build import SchemaLimits, build_schema, planned_execution
from schema.context import ACCESS_HEADERS, RequestContext
from schema.errors import CODES, Code, client_error, format_error, typed_error

__all__ = [
    "ACCESS_HEADERS",
    "CODES",
    "Code",
    "RequestContext",
    "SchemaLimits",
    "build_schema",
    "client_error",
    "format_error",
    "planned_execution",
    "typed_error",
]
