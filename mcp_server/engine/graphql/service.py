"""`graphql.query` and `graphql.mutation`: run GraphQL requests against the API's schema (graphql/schema.py), as
Appwrite 1.9.6 runs them (app/controllers/api/graphql.php).

A request is `{query, variables?, operationName?}`, or a list of up to 10 such run as a batch (the answer is then
the list of their results). Either endpoint runs queries and mutations alike. Each request is parsed and
validated by graphql-core, held to Appwrite's depth and complexity limits (limits.py), then executed: every field
runs its operation through the engine as the caller (their key's scopes, session, permissions), so a field the
caller may not read answers null with its error while the others answer. Errors take GraphQL's shape
(`message`, `locations`, `path`) with Appwrite's `code` and `type` in `extensions`. Introspection is allowed.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from ..errors import AppwriteError, invalid_argument
from ..registry import Call, handles
from .limits import check_limits
from .schema import api_schema

logger = logging.getLogger("baas_mcp.graphql")

MAX_BATCH = 10
MAX_QUERY_LENGTH = 100_000
MAX_TOKENS = 20_000
MAX_OPERATION_NAME = 256


@handles("graphql.query", "graphql.mutation", own_transactions=True)
def run_graphql(call: Call) -> dict | list:
    requests = call.params.get("query")
    batch = isinstance(requests, list)
    items = requests if batch else [requests] if requests else []
    if not items or not all(isinstance(item, dict) and item.get("query") for item in items):
        raise AppwriteError("graphql_no_query", 'Param "query" is not optional.')
    if len(items) > MAX_BATCH:
        raise AppwriteError("graphql_too_many_queries", f"Too many queries: a batch holds at most {MAX_BATCH}.")
    checked = [checked_request(item, index if batch else None) for index, item in enumerate(items)]
    schema = api_schema(call.engine.catalog)
    results = [run_request(call, schema, *request) for request in checked]
    return results if batch else results[0]


def checked_request(item: dict, index: int | None) -> tuple[str, dict | None, str | None]:
    where = "query" if index is None else f"query[{index}]"
    query, variables, name = item.get("query"), item.get("variables"), item.get("operationName")
    if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH:
        raise invalid_argument(
            f"Invalid `{where}.query` param: expected a GraphQL document of at most {MAX_QUERY_LENGTH:,} characters"
        )
    if variables is not None and not isinstance(variables, dict):
        raise invalid_argument(f"Invalid `{where}.variables` param: expected an object of variable values")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_OPERATION_NAME):
        raise invalid_argument(
            f"Invalid `{where}.operationName` param: expected a name of at most {MAX_OPERATION_NAME} characters"
        )
    return query, variables or None, name or None


def run_request(call: Call, schema: GraphQLSchema, query: str, variables: dict | None, name: str | None) -> dict:
    try:
        document = parse(query, no_location=False, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return {"errors": [error.formatted]}
    errors = validate(schema, document)
    operation = get_operation_ast(document, name)
    if not errors and operation is not None:
        fragments = {node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)}
        errors = check_limits(operation, fragments, variables or {}, listing(schema))
    if errors:
        return {"errors": [error.formatted for error in errors]}

    def run(op_id: str, params: dict) -> Any:
        return call.engine.call(op_id, params, call.auth, call.project.id, requester=call.requester, protocol="graphql")

    result = execute(schema, document, variable_values=variables, operation_name=name, context_value={"run": run})
    return answer(result)


def listing(schema: GraphQLSchema) -> set[str]:
    """The fields of list operations (those taking `queries`), whose complexity grows with their limit."""
    return {
        name
        for kind in (schema.query_type, schema.mutation_type)
        for name, field in kind.fields.items()
        if "queries" in field.args
    }


def answer(result: ExecutionResult) -> dict:
    """The result as JSON: `data`, and `errors` when there are some, each an Appwrite error where it was one."""
    output: dict = {"data": result.data}
    if result.errors:
        output["errors"] = [formatted(error) for error in result.errors]
    return output


def formatted(error: GraphQLError) -> dict:
    cause = error.original_error
    if cause is None:
        return error.formatted
    if not isinstance(cause, AppwriteError):
        logger.error("a GraphQL field failed", exc_info=cause)
        cause = AppwriteError("general_unknown", "Server Error", 500)
    shown = GraphQLError(cause.message, error.nodes, error.source, error.positions, error.path)
    return shown.formatted | {"extensions": {"category": "appwrite", "code": cause.code, "type": cause.type}}
