"""GraphQL's requests on the REST app, read as Appwrite 1.9.6 reads them (app/controllers/api/graphql.php).

`POST /v1/graphql` and `POST /v1/graphql/mutation` take a plain GraphQL request as JSON
(`{"query", "variables", "operationName"}`, or a list of them: a batch), the SDKs' wrapping of it in a `query`
parameter (sent with `X-SDK-GraphQL: true`), or the document alone as `application/graphql`; `GET /v1/graphql`
takes `query`, `operationName` and `variables` (JSON) from the query string. Whichever way, the operation runs with
the request as its one parameter, `query`.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from ..engine.errors import invalid_argument
from .params import parse_json

# (HTTP method, path) -> the operation that serves it; GET /v1/graphql is no SDK method of the server API.
ROUTES = {
    ("GET", "/v1/graphql"): "graphql.query",
    ("POST", "/v1/graphql"): "graphql.query",
    ("POST", "/v1/graphql/mutation"): "graphql.mutation",
}


def from_query_string(pairs: list[tuple[str, str]]) -> dict:
    """The parameters of a GET request: its query string's `query`, `operationName` and `variables`."""
    given = dict(pairs)
    request: dict = {"query": given.get("query", "")}
    if given.get("operationName"):
        request["operationName"] = given["operationName"]
    if given.get("variables"):
        request["variables"] = read_json(given["variables"].encode(), "variables")
    return {"query": request}


def from_body(body: bytes, headers: Headers) -> dict:
    """The parameters of a POST request, from its body."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/graphql":
        return {"query": {"query": body.decode("utf-8", "replace")}}
    if content_type not in ("application/json", "text/plain", ""):
        raise invalid_argument(
            f"Unsupported Content-Type {content_type!r}: send a GraphQL request as application/json or "
            "application/graphql"
        )
    request = read_json(body, "body") if body.strip() else {}
    if headers.get("x-sdk-graphql") == "true" and isinstance(request, dict):
        request = request.get("query")
    return {"query": request}


def read_json(text: bytes, where: str) -> object:
    try:
        return parse_json(text)
    except ValueError as error:
        raise invalid_argument(f"Invalid `{where}`: not valid JSON: {error}") from None
