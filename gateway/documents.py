"""Trusted documents: which GraphQL document a request runs, and whether its caller may.

A client registers the documents its application ships (``unefois documents register``);
a request then names one by its identifier, ``{"documentId": "sha256:<hex>"}`` (GraphQL over
HTTP, Appendix A: Persisted Documents), and runs the registered text. Under
``UNEFOIS_TRUSTED_DOCUMENTS=registered`` free ``query`` text runs only when it is, byte for
byte, one of the caller's registered documents.

Citizens (FranceConnect tokens) share one allow-list, :data:`CITIZENS`, which the operator
registers like a client's: the documents of the citizens' application.

:class:`TrustedDocuments` keeps the allow-lists in memory. Their changes move the client
registry's version, which authenticating a client has just read for this request: the lists
are reloaded when it moved, so a registration or a revocation on any machine holds at every
replica's next request, and a lookup costs no database read (a citizen's request reads the
version itself, only when a document is named or the mode is ``registered``). The text run
is the stored one, the same string the client would have sent: the schema's parser and
validation caches, keyed by text, are shared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError, parse, specified_rules, validate
from graphql.language import OperationDefinitionNode
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from starlette.requests import Request
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from exchange import Caller
from gateway.client_store import REGISTRY_VERSION
from gateway.state import services_of
from runtime.settings import Settings
from runtime.settings import TrustedDocuments as Mode
from schema import SchemaLimits, build_schema
from store import Database, DocumentStore, StoreError, document_hash
from store.documents import DOCUMENT_ID

__all__ = ["CITIZENS", "DOCUMENT_ID", "DocumentRefused", "DocumentRejected", "TrustedDocuments"]
log = logging.getLogger(__name__)

# The citizens' allow-list: not a client id (those are letters, digits, '.', '_', '-').
CITIZENS = "@citizens"
NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"


class DocumentRefused(Exception):
    """The request names no document its caller may run (``status``: the HTTP status under
    ``application/graphql-response+json``; 503 when the allow-lists cannot be read)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class DocumentRejected(ValueError):
    """A document offered for registration that does not parse or validate (the message
    says why, as the schema's validation words it)."""


def owner(caller: Caller) -> str:
    """Whose allow-list the caller's requests are checked against."""
    return caller.id if caller.kind == "client" else CITIZENS


class TrustedDocuments:
    """The registered documents of every client, as this request must see them."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        # Free text must be looked up too; otherwise only requests naming a documentId.
        self.required = mode == "registered"
        self._database: Database | None = None
        self._version = -1
        self._texts: dict[tuple[str, str], str] = {}
        self._lock = asyncio.Lock()

    async def resolve(
        self, request: Request, caller: Caller, query: str | None, document_id: str | None
    ) -> str:
        """The text to run: the registered document ``document_id`` names, or ``query`` when
        the mode lets it run; :class:`DocumentRefused` otherwise."""
        if document_id is None and not self.required:
            assert query is not None
            return query
        try:
            texts = await self._current(request)
        except StoreError:
            log.warning("trusted documents unavailable")
            raise DocumentRefused(
                "INTERNAL", "the trusted documents cannot be read; retry later", 503
            ) from None
        key = owner(caller)
        if document_id is not None:
            text = texts.get((key, document_id))
            if text is None:
                raise DocumentRefused(NOT_FOUND, "no document with this documentId is registered")
            return text
        assert query is not None
        # The hash of free text, per request: only under ``registered``.
        text = texts.get((key, document_hash(query)))
        if text is None:
            raise DocumentRefused(
                REQUIRED, "only registered documents run here: send a registered documentId"
            )
        return text

    async def _current(self, request: Request) -> dict[tuple[str, str], str]:
        database = services_of(request).database
        store = DocumentStore(database)
        # Read at authentication for a client of the registry; read here for a citizen.
        version = request.scope.get(REGISTRY_VERSION)
        if version is None:
            version = await store.version()
        if database is self._database and version == self._version:
            return self._texts
        async with self._lock:
            if database is not self._database or version != self._version:
                version, documents = await store.snapshot()
                self._texts = {(d.client_id, d.hash): d.text for d in documents}
                self._database, self._version = database, version
            return self._texts


@dataclass(frozen=True)
class CheckedDocument:
    text: str
    hash: str
    operations: tuple[str | None, ...]  # each operation's name, None when anonymous


def schema_limits(settings: Settings) -> SchemaLimits:
    """The endpoint's limits (gateway/app.py builds its schema with the same)."""
    return SchemaLimits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        introspection=settings.introspection,
    )


def _rules(limits: SchemaLimits) -> list[type[ASTValidationRule]]:
    # The endpoint's own limits (schema/build.py): a document registered runs as it validated.
    rules: list[type[ASTValidationRule]] = [*specified_rules]
    rules += QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
    rules += MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def check_document(schema: strawberry.Schema, limits: SchemaLimits, text: str) -> CheckedDocument:
    """Parse and validate ``text`` against ``schema`` under ``limits``;
    :class:`DocumentRejected` with the first reason otherwise."""
    if not text.strip():
        raise DocumentRejected("the document is empty")
    try:
        document = parse(text, max_tokens=limits.max_tokens)
    except GraphQLSyntaxError as exc:
        raise DocumentRejected(f"syntax: {exc.message}") from None
    errors: Sequence[GraphQLError] = validate(schema._schema, document, _rules(limits))
    if errors:
        raise DocumentRejected(errors[0].message)
    operations = tuple(
        d.name.value if d.name is not None else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    if not operations:
        raise DocumentRejected("the document holds no operation")
    return CheckedDocument(text, document_hash(text), operations)


class DocumentChecker:
    """:func:`check_document` against the schema the gateway serves under ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.limits = schema_limits(settings)
        self.schema = build_schema(self.limits)

    def __call__(self, text: str) -> CheckedDocument:
        return check_document(self.schema, self.limits, text)


def published_sdl() -> str:
    """The schema the gateway serves, in SDL, as ``schema.graphql`` holds it (one final
    newline): limits change validation, never the types."""
    return build_schema(SchemaLimits()).as_str().rstrip("\n") + "\n"
