"""Catalog entries from Appwrite 1.9.6's route table, for the server methods the 1.8.1 spec lacks, and
what 1.9.6 changed on the methods it has (new parameters, scopes).

Each SDK method of a route whose platforms include `server` is one operation. Its structure comes
from the route (HTTP method and path, scopes, auth, response, deprecation, rate limit, event
labels) and from its parameters' validators (validator_schemas.py); its text from catalog/prose/, as for
every other entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from validator_schemas import schema_of

AUTH = {"KEY": "key", "SESSION": "session", "JWT": "jwt"}
ACCESS = {"GET": "read", "DELETE": "delete", "POST": "write", "PUT": "write", "PATCH": "write"}
PATH_PARAM = re.compile(r":(\w+)")
# Methods whose route answers plain text whatever its SDK metadata says (ping: `$response->text('Pong!')`
# in app/controllers/general.php).
TEXT_ANSWERS = {"ping.get"}


def server_methods(routes: dict) -> Iterator[tuple[dict, dict]]:
    """(route, sdk method) for every server-platform SDK method, in the table's order."""
    for route in routes["routes"]:
        for method in route["sdk"]:
            if "server" in (method.get("platforms") or []):
                yield route, method


def method_id(method: dict) -> str:
    return f"{method['namespace']}.{method['name']}"


def method_params(route: dict, method: dict) -> list[dict]:
    """The route's parameters this SDK method takes, with the method's own required flags."""
    optional = {detail["name"]: detail["optional"] for detail in method.get("parameterDetails") or []}
    names = method.get("parameters")
    chosen = [param for param in route["params"] if names is None or param["name"] in names]
    # Parameters the SDK method declares beyond its route's: GraphQL's `query`, a request or a batch of them (the
    # JSON validator takes any object or list).
    extra = [
        {
            "name": name,
            "validator": "new JSON()",
            "optional": detail["optional"],
            "schema": {"type": ["object", "array"]},
        }
        for name, detail in (method.get("additionalParameters") or {}).items()
    ]
    return [param | {"optional": optional.get(param["name"], param.get("optional", False))} for param in chosen + extra]


def route_path(route: dict) -> str:
    """The route's path as the catalog writes it: `/project/oauth2/{providerId}`, without /v1.

    A placeholder with no parameter of its name takes the parameter named like it plus "Id"
    (1.9.6 declares `/v1/project/oauth2/:provider` with a `providerId` parameter, and the SDKs put
    `providerId` in the path)."""
    names = {param["name"] for param in route["params"]}

    def placeholder(match: re.Match) -> str:
        name = match.group(1)
        return f"{{{name if name in names or name + 'Id' not in names else name + 'Id'}}}"

    return PATH_PARAM.sub(placeholder, route["path"].removeprefix("/v1"))


def locations(route: dict, method: dict, params: list[dict]) -> dict[str, str]:
    in_path = set(re.findall(r"{(\w+)}", route_path(route)))
    elsewhere = "query" if route["method"] == "GET" else "form" if method.get("type") == "UPLOAD" else "body"
    return {param["name"]: "path" if param["name"] in in_path else elsewhere for param in params}


def content_type(route: dict, method: dict, places: dict[str, str]) -> str | None:
    if "form" in places.values():
        return "multipart/form-data"
    return "application/json" if "body" in places.values() else None


def returns(method: dict) -> dict:
    if method_id(method) in TEXT_ANSWERS:
        return {"status": 200, "model": None, "media": "text/plain"}
    first = (method.get("responses") or [{"code": 200, "modelValue": None}])[0]
    model = first.get("modelValue")
    if isinstance(model, list):
        return {"status": first["code"], "model": None, "one_of": model}
    result: dict = {"status": first["code"], "model": model if model and model != "none" else None}
    if method.get("type") == "LOCATION":
        result["media"] = "application/octet-stream"
    return result


def rate_limit(route: dict) -> dict | None:
    abuse = route.get("abuse")
    if not abuse or not abuse.get("limit"):
        return None
    return {"limit": abuse["limit"], "seconds": abuse["time"], "keys": [abuse["key"]]}


def property_schema(param: dict, description: str, in_path: bool) -> dict:
    schema = {"description": description, **(param.get("schema") or schema_of(param["validator"]))}
    if in_path:
        schema["minLength"] = 1
    default = param.get("defaultValue")
    if param["optional"] and default not in (None, "", "<closure>") and default != []:
        schema["default"] = default
    return schema


def route_entry(route: dict, method: dict, text: dict, describe) -> dict:
    """One catalog entry; `text` holds summary, description and keywords, `describe(name)` a parameter's
    description."""
    op_id = method_id(method)
    params = method_params(route, method)
    places = locations(route, method, params)
    deprecation = method.get("deprecated")
    return {
        "id": op_id,
        "service": method["namespace"],
        "method": method["name"],
        "group": method.get("group") or None,
        "summary": text["summary"],
        "description": text["description"],
        "http": {"method": route["method"], "path": route_path(route)},
        "access": ACCESS[route["method"]],
        "scopes": route["scopes"],
        "auth": [kind for name, kind in AUTH.items() if name in (method.get("auth") or [])],
        "content_type": content_type(route, method, places),
        "returns": returns(method),
        "deprecated": (
            {"since": deprecation["since"], "replacement": deprecation["replaceWith"]} if deprecation else None
        ),
        "params": places,
        "input_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                param["name"]: property_schema(param, describe(param["name"]), places[param["name"]] == "path")
                for param in params
            },
            "required": [param["name"] for param in params if not param["optional"]],
            "additionalProperties": False,
        },
        "keywords": text["keywords"],
        "rate_limit": rate_limit(route),
        "events": route["events"],
    }


def with_route_changes(entry: dict, route: dict, method: dict, describe) -> dict:
    """A method built from the 1.8.1 spec, brought to its 1.9.6 route: the parameters 1.9 added (with the
    route's required flags for every parameter the route still has) and the route's scopes (1.9 widened some,
    e.g. columns.read beside tables.read, and moved the users' target routes from targets.* to users.*).
    Parameters the route dropped stay, so a 1.8 server can still be sent them."""
    params = method_params(route, method)
    places = locations(route, method, params)
    schema = entry["input_schema"]
    added = {
        param["name"]: property_schema(param, describe(param["name"]), places[param["name"]] == "path")
        for param in params
        if param["name"] not in entry["params"]
    }
    optional = {param["name"]: param["optional"] for param in params}
    required = [
        name for name in [*schema["properties"], *added] if not optional.get(name, name not in schema["required"])
    ]
    return entry | {
        "scopes": route["scopes"],
        "params": entry["params"] | {name: places[name] for name in added},
        "input_schema": schema | {"properties": schema["properties"] | added, "required": required},
    }
