"""Compiled execution plans: a document served once is served again without generic execution.

Agency applications send the same few documents over and over (their trusted documents).
Generic GraphQL execution pays, for every field of every answer, a resolve-info object, an
argument pass, an awaitability check and a completion dispatch: most of a cached answer's
cost. Once a document has been validated and executed by the schema, it is compiled here into
a tree of fields, each with its getter and its completion decided in advance; later requests
with the same text walk that tree. Results are the same as generic execution's, byte for byte
(``tests/schema/test_plan.py`` compares them): same values, same nulls propagated, same errors
in the same order with the same paths and locations, typed by the same boundary.

While the root reader waits for the agencies, the fields of what they already answered are
completed ahead (``_Ahead``, from the exchange's provisional views): after the last answer only
the rest remains.

Only what the plan can reproduce exactly is compiled: queries whose root fields are listed in
``ROOTS`` (their guard, a scope permission, is checked the same way), with fields, inline
fragments and fragment spreads on the concrete type, resolvers that need no ``info``, no
directive, no repeated response key and no abstract type. Anything else runs the generic way,
as does a request whose variables do not coerce (the generic path words those errors).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import strawberry
from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
    located_error,
    parse,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Undefined
from graphql.pyutils import inspect as gql_inspect
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from exchange import NotYet
from schema.arguments import Arguments
from schema.errors import typed

# Told by a root reader, while it waits, a provisional value of its object and the keys it
# just settled (``exchange.partial``): the plan completes what it can of it ahead.
Early = Callable[[Any, frozenset[str]], None]
# A root field's reader: (context, converted arguments, field nodes, fragments, variables,
# early or None).
RootReader = Callable[
    [
        Any,
        dict[str, Any],
        list[FieldNode],
        Mapping[str, FragmentDefinitionNode],
        dict[str, Any],
        Early | None,
    ],
    Awaitable[Any],
]
Getter = Callable[[Any, VariableValues], Any]
# A completion: (raw value, the field's path, the run) → the answer's value.
Completer = Callable[[Any, "_Path", "_Run"], Any]


class NotPlannable(Exception):
    """The document uses something a plan does not reproduce: it runs the generic way."""


class _Bubble(Exception):
    """A non-null field failed: its parent becomes null (the error is already recorded)."""


@dataclass(frozen=True, slots=True)
class _Path:
    prev: _Path | None
    key: str | int

    def as_list(self) -> list[str | int]:
        keys: list[str | int] = []
        path: _Path | None = self
        while path is not None:
            keys.append(path.key)
            path = path.prev
        keys.reverse()
        return keys


@dataclass(frozen=True)
class Result:
    """What ``strawberry.Schema.execute`` answers, as far as the HTTP layer reads it."""

    data: dict[str, Any] | None
    errors: list[GraphQLError] | None


@dataclass(frozen=True, slots=True)
class _Field:
    key: str  # the response key (alias or name)
    node: FieldNode
    get: Getter
    complete: Completer
    non_null: bool
    children: tuple[_Field, ...] | None = None  # an object type's fields (not in a list)


@dataclass(frozen=True)
class _Root:
    key: str
    node: FieldNode
    arguments: Arguments
    definition: Any  # graphql-core GraphQLField
    read: RootReader
    permissions: tuple[Any, ...]
    complete: Completer
    children: tuple[_Field, ...] | None  # an object's fields, completed ahead where they can


class _Run:
    """One execution's variables and errors, in the order they happened."""

    __slots__ = ("errors", "variables")

    def __init__(self, variables: VariableValues) -> None:
        self.variables = variables
        self.errors: list[GraphQLError] = []


class _Info:
    """What a permission reads of ``info``: the request's context."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


class Plan:
    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        roots: tuple[_Root, ...],
    ) -> None:
        self._schema = schema
        self._variables = operation.variable_definitions or ()
        self._fragments = fragments
        self._roots = roots

    async def run(self, context: Any, raw_variables: dict[str, Any] | None) -> Result | None:
        """The result, or None when the variables do not coerce (the generic path words it)."""
        variables = get_variable_values(self._schema, self._variables, raw_variables or {})
        if not isinstance(variables, VariableValues):
            return None
        run = _Run(variables)
        data: dict[str, Any] = {}
        info = _Info(context)
        for root in self._roots:
            path = _Path(None, root.key)
            early = None if root.children is None else _Ahead(root.children, path, variables)
            try:
                value = await self._read(root, context, info, variables, early)
                if early is None:
                    data[root.key] = root.complete(value, path, run)
                else:
                    data[root.key] = early.finish(value, run)
            except Exception as exc:  # a resolver's error: located and typed, as generic
                _nulled(exc, False, [root.node], path, run)
                data[root.key] = None
        return Result(data, [typed(e) for e in run.errors] if run.errors else None)

    async def _read(
        self,
        root: _Root,
        context: Any,
        info: _Info,
        variables: VariableValues,
        early: Early | None,
    ) -> Any:
        for permission in root.permissions:
            allowed = permission.has_permission(None, info)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                return permission.on_unauthorized()
        arguments = get_argument_values(root.definition, root.node, variables)
        converted = root.arguments(arguments)
        return await root.read(
            context, converted, [root.node], self._fragments, variables.coerced, early
        )


class _Ahead:
    """An object's fields completed while the root reader still waits (``Early``): each when
    the keys it reads are settled, by the same code and into the same values and errors as
    after the read. A field that reads a key not yet settled (``NotYet``) is tried again once
    that key is, but for an object, whose own fields then go ahead the same way. After
    the read, ``finish`` completes the rest on the final value and lays the fields out, and
    their errors, in the document's order, as ``_object`` does."""

    __slots__ = ("_children", "_done", "_nested", "_path", "_started", "_variables", "_waiting")

    def __init__(self, children: tuple[_Field, ...], path: _Path, variables: VariableValues):
        self._children = children
        self._path = path
        self._variables = variables
        self._started = False
        # index → (completed value, its errors, whether its null goes up to the object)
        self._done: dict[int, tuple[Any, list[GraphQLError], bool]] = {}
        self._nested: dict[int, _Ahead] = {}  # index → an object field's own fields
        self._waiting: dict[str, list[int]] = {}

    def __call__(self, source: Any, settled: frozenset[str]) -> None:
        nested = list(self._nested.items())
        if not self._started:
            self._started = True
            candidates: Collection[int] = range(len(self._children))
        else:
            woken = {i for key in settled for i in self._waiting.pop(key, ())}
            candidates = sorted(woken)
        for index in candidates:
            self._try(index, source, settled)
        for index, ahead in nested:
            ahead(self._children[index].get(source, self._variables), settled)

    def _try(self, index: int, source: Any, settled: frozenset[str]) -> None:
        child = self._children[index]
        run = _Run(self._variables)
        path = _Path(self._path, child.key)
        value = None
        try:
            value = child.get(source, self._variables)
            value = child.complete(value, path, run)
        except NotYet as wait:
            if child.children is None or value is None or value is Undefined:
                self._waiting.setdefault(wait.key, []).append(index)
            else:  # an object that cannot be completed whole yet: its fields go ahead
                ahead = self._nested[index] = _Ahead(child.children, path, self._variables)
                ahead(value, settled)
            return
        except Exception as exc:
            try:
                _nulled(exc, child.non_null, [child.node], path, run)
            except _Bubble:
                self._done[index] = (None, run.errors, True)
                return
            value = None
        self._done[index] = (value, run.errors, False)

    def finish(self, source: Any, run: _Run) -> dict[str, Any] | None:
        if source is None or source is Undefined:
            return None
        if not self._done and not self._nested:
            return _object(self._children, source, self._path, run)
        out: dict[str, Any] = {}
        for index, child in enumerate(self._children):
            done = self._done.get(index)
            if done is not None:
                value, errors, bubble = done
                run.errors.extend(errors)
                if bubble:
                    raise _Bubble
                out[child.key] = value
                continue
            path = _Path(self._path, child.key)
            try:
                value = child.get(source, run.variables)
                ahead = self._nested.get(index)
                if ahead is None or value is None or value is Undefined:
                    out[child.key] = child.complete(value, path, run)
                else:
                    out[child.key] = ahead.finish(value, run)
            except Exception as exc:
                _nulled(exc, child.non_null, [child.node], path, run)
                out[child.key] = None
        return out


class Compiler:
    """Compiles a validated document's operation into a :class:`Plan`."""

    def __init__(self, schema: strawberry.Schema, roots: Mapping[str, RootReader]) -> None:
        self._schema: GraphQLSchema = schema._schema
        self._roots = roots
        self._registry = schema.schema_converter.scalar_registry
        self._config = schema.config

    def compile(self, document: DocumentNode, operation_name: str | None) -> Plan:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        chosen = [
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ]
        if len(chosen) != 1 or chosen[0].operation != OperationType.QUERY:
            raise NotPlannable("one query operation")
        operation = chosen[0]
        if operation.directives:
            raise NotPlannable("directives")
        query = self._schema.query_type
        assert query is not None
        roots: list[_Root] = []
        keys: set[str] = set()
        for node in self._flatten(query, operation.selection_set, fragments):
            key = _key(node, keys)
            name = node.name.value
            reader = self._roots.get(name)
            if reader is None:
                raise NotPlannable(f"root field {name}")
            definition = query.fields[name]
            if isinstance(definition.type, GraphQLNonNull):
                raise NotPlannable("a non-null root field (its null would null the data)")
            field = _strawberry(definition)
            permissions: list[Any] = []
            for extension in field.extensions:
                if not isinstance(extension, PermissionExtension) or extension.fail_silently:
                    raise NotPlannable("field extension")
                permissions += extension.permissions
            children = None
            if isinstance(definition.type, GraphQLObjectType):
                children = self._fields(definition.type, node.selection_set, fragments)
            complete = self._completer(definition.type, node, fragments, query.name, name, children)
            convert = Arguments(field.arguments, self._registry, self._config)
            guard = tuple(permissions)
            roots.append(_Root(key, node, convert, definition, reader, guard, complete, children))
        return Plan(self._schema, operation, fragments, tuple(roots))

    # ── selections ──────────────────────────────────────────────────────────────────────

    def _flatten(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> Iterator[FieldNode]:
        for node in selection_set.selections:
            if node.directives:
                raise NotPlannable("directives")
            if isinstance(node, FieldNode):
                yield node
                continue
            if isinstance(node, InlineFragmentNode):
                condition, inner = node.type_condition, node.selection_set
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is None or fragment.directives:
                    raise NotPlannable("fragment")
                condition, inner = fragment.type_condition, fragment.selection_set
            else:  # pragma: no cover - the three kinds of selection
                raise NotPlannable("selection")
            if condition is not None and condition.name.value != parent.name:
                raise NotPlannable("type condition")
            yield from self._flatten(parent, inner, fragments)

    def _fields(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode | None,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> tuple[_Field, ...]:
        if selection_set is None:
            raise NotPlannable("object without selection")
        if parent.is_type_of is not None:
            raise NotPlannable("type check")
        out: list[_Field] = []
        keys: set[str] = set()
        for node in self._flatten(parent, selection_set, fragments):
            key = _key(node, keys)
            name = node.name.value
            if name == "__typename":
                out.append(_Field(key, node, _constant(parent.name), _leafless, True))
                continue
            if name.startswith("__"):
                raise NotPlannable("introspection")
            definition = parent.fields[name]
            getter = self._getter(definition, node)
            non_null = isinstance(definition.type, GraphQLNonNull)
            named = definition.type.of_type if non_null else definition.type
            children = None
            if isinstance(named, GraphQLObjectType):
                children = self._fields(named, node.selection_set, fragments)
            complete = self._completer(
                definition.type, node, fragments, parent.name, name, children
            )
            out.append(_Field(key, node, getter, complete, non_null, children))
        return tuple(out)

    def _getter(self, definition: Any, node: FieldNode) -> Getter:
        field = _strawberry(definition)
        if field.extensions:
            raise NotPlannable("field extension")
        resolver = field.base_resolver
        if resolver is None:
            if definition.args and node.arguments:
                raise NotPlannable("arguments on a plain field")
            getter = field.default_resolver
            python_name = field.python_name
            return lambda source, _variables: getter(source, python_name)
        if resolver.is_async or resolver.info_parameter is not None:
            raise NotPlannable("resolver needs more than its arguments")
        function = cast(Callable[..., Any], resolver.wrapped_func)
        with_self = resolver.self_parameter is not None
        # strawberry hands the source as ``self``, or by name as ``root``/``parent``.
        named = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p]
        if not definition.args and not named:
            if with_self:
                return lambda source, _variables: function(source)
            return lambda _source, _variables: function()
        if not definition.args and len(named) == 1 and not with_self:
            name = named[0]
            return lambda source, _variables: function(**{name: source})

        convert = Arguments(field.arguments, self._registry, self._config)

        def with_arguments(source: Any, variables: VariableValues) -> Any:
            kwargs = (
                convert(get_argument_values(definition, node, variables)) if definition.args else {}
            )
            for name in named:
                kwargs[name] = source
            return function(source, **kwargs) if with_self else function(**kwargs)

        return with_arguments

    # ── completion ──────────────────────────────────────────────────────────────────────

    def _completer(
        self,
        type_: GraphQLOutputType,
        node: FieldNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        parent: str,
        name: str,
        children: tuple[_Field, ...] | None = None,
    ) -> Completer:
        """``children``: the fields of ``type_``'s object type, when already compiled."""
        if isinstance(type_, GraphQLNonNull):
            inner = self._completer(type_.of_type, node, fragments, parent, name, children)
            message = f"Cannot return null for non-nullable field {parent}.{name}."

            def non_null(value: Any, path: _Path, run: _Run) -> Any:
                completed = inner(value, path, run)
                if completed is None:
                    raise TypeError(message)
                return completed

            return non_null
        if isinstance(type_, GraphQLList):
            item = self._completer(type_.of_type, node, fragments, parent, name)
            item_non_null = isinstance(type_.of_type, GraphQLNonNull)
            nodes = [node]

            def listed(value: Any, path: _Path, run: _Run) -> Any:
                if value is None or value is Undefined:
                    return None
                if not _iterable(value):
                    raise GraphQLError(
                        f"Expected Iterable, but did not find one for field '{parent}.{name}'."
                    )
                out = []
                for index, entry in enumerate(value):
                    entry_path = _Path(path, index)
                    try:
                        out.append(item(entry, entry_path, run))
                    except Exception as exc:
                        _nulled(exc, item_non_null, nodes, entry_path, run)
                        out.append(None)
                return out

            return listed
        if is_leaf_type(type_):
            coerce = type_.coerce_output_value  # type: ignore[union-attr]

            def leaf(value: Any, _path: _Path, _run: _Run) -> Any:
                if value is None or value is Undefined:
                    return None
                coerced = coerce(value)
                if coerced is Undefined or coerced is None:
                    raise TypeError(
                        f"Expected `{gql_inspect(type_)}.coerce_output_value("
                        f"{gql_inspect(value)})` to return non-nullable value, returned:"
                        f" {gql_inspect(coerced)}"
                    )
                return coerced

            return leaf
        if isinstance(type_, GraphQLObjectType):
            if children is None:
                children = self._fields(type_, node.selection_set, fragments)

            def obj(value: Any, path: _Path, run: _Run) -> Any:
                if value is None or value is Undefined:
                    return None
                return _object(children, value, path, run)

            return obj
        raise NotPlannable("abstract type")


def _object(children: tuple[_Field, ...], source: Any, path: _Path, run: _Run) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in children:
        child_path = _Path(path, child.key)
        try:
            out[child.key] = child.complete(child.get(source, run.variables), child_path, run)
        except Exception as exc:
            _nulled(exc, child.non_null, [child.node], child_path, run)
            out[child.key] = None
    return out


def _nulled(exc: Exception, non_null: bool, nodes: list[FieldNode], path: _Path, run: _Run) -> None:
    """A field failed: its error is recorded (a ``_Bubble`` from below already was), and when
    the field is non-null the null goes up to its parent, as in the specification's 6.4.4."""
    if not isinstance(exc, _Bubble):
        run.errors.append(located_error(exc, nodes, path.as_list()))
    if non_null:
        raise _Bubble from None


def _constant(value: str) -> Getter:
    return lambda _source, _variables: value


def _leafless(value: Any, _path: _Path, _run: _Run) -> Any:
    return value


def _iterable(value: Any) -> bool:
    if isinstance(value, str | bytes | Mapping):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _key(node: FieldNode, keys: set[str]) -> str:
    key = node.alias.value if node.alias else node.name.value
    if key in keys:
        raise NotPlannable("a response key selected twice")
    keys.add(key)
    return key


def _strawberry(definition: Any) -> StrawberryField:
    field = (definition.extensions or {}).get("strawberry-definition")
    if not isinstance(field, StrawberryField):
        raise NotPlannable("not a strawberry field")
    return field


class PlannedExecution:
    """``strawberry.Schema.execute`` with plans: the first run of a document is generic and,
    when it executed (the document is valid), compiles it; later runs follow the plan."""

    def __init__(
        self, schema: strawberry.Schema, roots: Mapping[str, RootReader], size: int = 1024
    ) -> None:
        self._schema = schema
        self._compiler = Compiler(schema, roots)
        self._plans: LRUCache[tuple[str, str | None], Plan | None] = LRUCache(maxsize=size)

    async def execute(
        self,
        query: str,
        *,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        operation_name: str | None,
        allowed_operation_types: Collection[Any],
    ) -> Any:
        key = (query, operation_name)
        plan = self._plans.get(key, Undefined)
        if isinstance(plan, Plan):
            planned = await plan.run(context_value, variable_values)
            if planned is not None:
                return planned
        result = await self._schema.execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            operation_name=operation_name,
            allowed_operation_types=allowed_operation_types,
        )
        if plan is Undefined and _executed(result):
            self._plans[key] = self._compiled(query, operation_name)
        return result

    def _compiled(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            return self._compiler.compile(parse(query), operation_name)
        except NotPlannable:
            return None


def _executed(result: Any) -> bool:
    """Whether the document passed validation: it ran, whatever its field errors."""
    return result.data is not None or any(e.path is not None for e in result.errors or ())
