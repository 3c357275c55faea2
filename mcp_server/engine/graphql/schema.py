"""The GraphQL schema of the API, made from the catalog as Appwrite 1.9.6 makes it (src/Appwrite/GraphQL).

One field per operation, named by its namespace and SDK method (`tablesDBListRows`): reads (GET) are fields of
`Query`, the rest of `Mutation`. A field's arguments are the operation's parameters, typed from their JSON
schemas (objects and values of several types are the `Json` scalar); its type is the operation's response
model, an object type per model whose keys lose their `$` for a `_` (`_id`, `_createdAt`). A model that
carries fields beyond its own (a row, a document, preferences) has a `data` field: those fields as a JSON
string. A model with no fields answers `status: "OK"`; a result whose model the catalog does not describe, or
that may be one of several, is `Json`. Left out, as Appwrite leaves them out: the graphql operations
themselves and OAuth2 sign-in redirects; and operations that answer bytes (previews, downloads), which a JSON
answer cannot carry. Each field resolves by running its operation through the `run` function the execution
context gives (graphql/service.py): the caller's own call, with their permissions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    value_from_ast_untyped,
)

from ...catalog import Catalog, Operation

LEFT_OUT_PATHS = ("/graphql", "/account/sessions/oauth2", "/mock")
SCALARS = {"string": GraphQLString, "integer": GraphQLInt, "number": GraphQLFloat, "boolean": GraphQLBoolean}

Json = GraphQLScalarType(
    name="Json",
    description="Any JSON value: an object, a list, a string, a number, a boolean or null.",
    serialize=lambda value: value,
    parse_value=lambda value: value,
    parse_literal=lambda node, variables=None: value_from_ast_untyped(node, variables),
)

_built: dict[int, GraphQLSchema] = {}
_lock = threading.Lock()


def api_schema(catalog: Catalog) -> GraphQLSchema:
    """The schema of `catalog`, built the first time it is asked for."""
    with _lock:
        schema = _built.get(id(catalog))
        if schema is None:
            schema = _built[id(catalog)] = build_schema(catalog)
        return schema


def field_name(op: Operation) -> str:
    """Appwrite's name of an operation's field: its namespace, then its SDK method with a capital."""
    return op.service + op.method[:1].upper() + op.method[1:]


def in_schema(op: Operation) -> bool:
    return not op.path.startswith(LEFT_OUT_PATHS) and not op.returns.get("media")


def build_schema(catalog: Catalog) -> GraphQLSchema:
    types = ModelTypes(catalog.models)
    queries: dict[str, GraphQLField] = {}
    mutations: dict[str, GraphQLField] = {}
    for op in catalog.operations:
        if in_schema(op):
            fields = queries if op.http_method == "GET" else mutations
            fields[field_name(op)] = GraphQLField(
                types.result(op), args=arguments(op), resolve=resolver(op.id), description=op.summary
            )
    return GraphQLSchema(
        query=GraphQLObjectType("Query", dict(sorted(queries.items()))),
        mutation=GraphQLObjectType("Mutation", dict(sorted(mutations.items()))),
    )


def resolver(op_id: str) -> Callable[..., Any]:
    def resolve(_root: Any, info: Any, **args: Any) -> Any:
        result = info.context["run"](op_id, args)
        return {} if result is None else result

    return resolve


def arguments(op: Operation) -> dict[str, GraphQLArgument]:
    required = set(op.input_schema.get("required", []))
    found = {}
    for name, schema in op.input_schema["properties"].items():
        kind = input_type(schema)
        if name in required:
            kind = GraphQLNonNull(kind)
        found[name] = GraphQLArgument(kind, description=schema.get("description"))
    return found


def input_type(schema: dict):
    """A parameter's GraphQL type: its JSON type when it has one (null aside), else Json."""
    kinds = schema.get("type")
    kinds = [kind for kind in (kinds if isinstance(kinds, list) else [kinds]) if kind != "null"]
    if len(kinds) != 1:
        return Json
    if kinds[0] == "array":
        items = schema.get("items")
        return GraphQLList(input_type(items) if isinstance(items, dict) else Json)
    return SCALARS.get(kinds[0], Json)


class ModelTypes:
    """An object type per response model, made once each (models refer to each other)."""

    def __init__(self, models: dict[str, dict]) -> None:
        # Appwrite's `none` model, of operations that answer no content: a type with only `status`.
        self.models = {"none": {"fields": {}, "any": False}} | models
        self.made: dict[str, GraphQLObjectType] = {}

    def result(self, op: Operation) -> GraphQLOutputType:
        name = op.returns.get("model")
        if name is None and not op.returns.get("one_of"):
            name = "none"
        return self.of(name) if name in self.models else Json

    def of(self, name: str) -> GraphQLObjectType:
        made = self.made.get(name)
        if made is None:
            model = self.models[name]
            made = self.made[name] = GraphQLObjectType(
                name[:1].upper() + name[1:], lambda: self.fields(model), description=f"The {name} model."
            )
        return made

    def fields(self, model: dict) -> dict[str, GraphQLField]:
        fields = {key.replace("$", "_"): self.field(key, spec) for key, spec in model["fields"].items()}
        if model["any"]:
            fields["data"] = GraphQLField(GraphQLString, resolve=own_data, description="The other fields, as JSON.")
        if not fields:
            fields["status"] = GraphQLField(GraphQLString, resolve=lambda _obj, _info: "OK")
        return fields

    def field(self, key: str, spec: dict) -> GraphQLField:
        model = spec.get("model")
        kind: GraphQLOutputType = self.of(model) if model in self.models else SCALARS.get(spec["type"], Json)
        if spec["list"]:
            kind = GraphQLList(kind)
        return GraphQLField(kind, resolve=lambda obj, _info: obj.get(key) if isinstance(obj, dict) else None)


def own_data(obj: Any, _info: Any) -> str:
    """The fields of a row, document or preferences beyond the model's own (those not starting with `$`)."""
    data = obj if isinstance(obj, dict) else {}
    return json.dumps({key: value for key, value in data.items() if not key.startswith("$")})
