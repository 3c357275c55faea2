"""Build the operation catalog (catalog/operations.json) from the Appwrite server OpenAPI spec.

The spec gives the structure of every SDK method: HTTP route, parameters and their schemas, scopes,
auth kinds, response model and deprecation. The route table of Appwrite 1.9.6
(catalog/appwrite-spec/routes-1.9.6.json) gives each method's event labels: the events a change
made by the method is announced with. Appwrite 1.9.6's event tree
(catalog/appwrite-spec/events-1.9.6.json) is copied as `event_grammar`: what the event patterns of
webhooks and functions are checked against. The prose in catalog/prose/ gives what the spec must
not: our own summary, description and search keywords for each operation, and our own parameter
descriptions. The build refuses prose that is missing, too long, or a near copy of upstream text.

Usage:
    python catalog/build_catalog.py [SPEC] [--out FILE] [--check]

SPEC defaults to catalog/appwrite-spec/open-api3-server.json; --check compares instead of writing
and exits 1 when the committed catalog is out of date.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz
from route_table import method_id, route_entry, server_methods, with_route_changes

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE / "appwrite-spec" / "open-api3-server.json"
DEFAULT_ROUTES = HERE / "appwrite-spec" / "routes-1.9.6.json"
DEFAULT_EVENTS = HERE / "appwrite-spec" / "events-1.9.6.json"
DEFAULT_OUT = HERE / "operations.json"
PROSE_DIR = HERE / "prose"

CATALOG_FORMAT = 1
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_SUMMARY = 80
MAX_DESCRIPTION = 200
MAX_PARAM_DESCRIPTION = 160
# Prose that is this similar to the upstream text, or shares this many consecutive words with it,
# counts as copied.
COPY_RATIO = 80
COPY_RUN_WORDS = 8

INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
AUTH_KINDS = {"Key": "key", "Session": "session", "JWT": "jwt"}
ACCESS_BY_HTTP_METHOD = {"get": "read", "delete": "delete", "post": "write", "put": "write", "patch": "write"}
BINARY_MEDIA = {"Image": "image/*", "File": "application/octet-stream"}
# Enums (by their x-enum-name) whose values Appwrite matches in any case: its WhiteList validator is
# not strict for them (index orders: `new WhiteList(['ASC', 'DESC'], false, ...)`), and the spec
# lists only the lower-case form.
ANY_CASE_ENUMS = frozenset({"OrderBy"})


class CatalogError(Exception):
    """The spec or the prose cannot make a valid catalog."""


def sdk_methods(spec: dict):
    """Yield (path, http_method, operation, method) once per SDK method, in spec order.

    An operation with `x-appwrite.methods[]` serves several SDK methods (for example createRow and
    createRows share one route); each has its own parameter subset and required list.
    """
    for path, item in spec["paths"].items():
        for http_method, op in item.items():
            ext = op["x-appwrite"]
            if ext.get("methods"):
                for method in ext["methods"]:
                    yield path, http_method, op, method
            else:
                yield path, http_method, op, None


def spec_parameters(op: dict) -> list[tuple[str, str, bool, dict]]:
    """All parameters of an operation as (name, location, required, openapi schema)."""
    params = [(p["name"], p["in"], bool(p.get("required")), p["schema"]) for p in op.get("parameters", [])]
    for content_type, content in op.get("requestBody", {}).get("content", {}).items():
        location = "form" if content_type == "multipart/form-data" else "body"
        schema = content["schema"]
        required = set(schema.get("required", []))
        params += [(name, location, name in required, prop) for name, prop in schema["properties"].items()]
    return params


def json_schema(openapi: dict) -> dict:
    """Translate one OpenAPI 3.0 parameter schema into JSON Schema draft 2020-12."""
    kind = openapi.get("type")
    out: dict = {}
    fmt = openapi.get("format")
    if kind == "integer" and fmt in INT_BOUNDS:
        out["type"] = "integer"
        out["minimum"], out["maximum"] = INT_BOUNDS[fmt]
    elif kind == "number":
        out["type"] = "number"
    elif kind == "string" and fmt == "url":
        out.update(type="string", format="uri")
    elif kind == "string" and fmt == "password":
        out.update(type="string", format="password", writeOnly=True)
    elif kind == "string" and fmt:
        out.update(type="string", format=fmt)
    elif kind:
        out["type"] = kind
    if "enum" in openapi and openapi.get("x-enum-name") in ANY_CASE_ENUMS:
        out["pattern"] = any_case_pattern(openapi["enum"])
    elif "enum" in openapi:
        out["enum"] = list(openapi["enum"])
    if kind == "array" and "items" in openapi:
        out["items"] = array_items(openapi["items"])
    if openapi.get("x-nullable"):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"].append(None)
    if "default" in openapi:
        out["default"] = openapi["default"]
    return out


def any_case_pattern(values: list[str]) -> str:
    """A regular expression (ECMA-262 and Python alike) matching exactly `values`, in any letter case."""
    alternatives = ("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in v) for v in values)
    return f"^(?:{'|'.join(alternatives)})$"


def array_items(items: dict) -> dict:
    """Item schema of an array; the spec writes nested coordinate arrays as oneOf[array]."""
    if "oneOf" in items and all(alt.get("type") == "array" for alt in items["oneOf"]):
        return {"type": "array"}
    return json_schema(items)


def access_class(http_method: str, op: dict) -> str:
    """read, write or delete, from the HTTP method and what the operation does.

    A GET that starts a web sign-in flow issues a token and redirects: it is a write.
    """
    if op["x-appwrite"]["type"] == "webAuth":
        return "write"
    return ACCESS_BY_HTTP_METHOD[http_method]


def auth_kinds(op: dict, method: dict | None) -> list[str]:
    """Which credentials may call the method: key, session, jwt.

    The operation's security list says what the route accepts. A method whose own auth differs
    from the operation's (the bulk createRows on the createRow route) is limited to its own.
    """
    schemes = {name for requirement in op["security"] for name in requirement}
    if method and method.get("auth") and method["auth"] != op["x-appwrite"]["auth"]:
        schemes = set(method["auth"])
    return [kind for scheme, kind in AUTH_KINDS.items() if scheme in schemes]


def returns(op: dict, method: dict | None) -> dict:
    """Status code, response model (or media type for binary responses) of a method."""
    if method and method.get("responses"):
        first = method["responses"][0]
        model = first.get("model")
        return {"status": first["code"], "model": model_name(model) if model else None}
    status, response = next(iter(op["responses"].items()))
    result: dict = {"status": int(status), "model": None}
    for content in response.get("content", {}).values():
        schema = content["schema"]
        if "oneOf" in schema:
            result["one_of"] = [model_name(alt["$ref"]) for alt in schema["oneOf"]]
        else:
            result["model"] = model_name(schema["$ref"])
    if op["x-appwrite"]["type"] == "location":
        result["media"] = BINARY_MEDIA[response["description"]]
    return result


def model_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def content_type(op: dict, names: set[str]) -> str | None:
    """The request body's media type, or None when the method sends no body."""
    for media, content in op.get("requestBody", {}).get("content", {}).items():
        if names & set(content["schema"]["properties"]):
            return media
    return None


def split_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def copied(ours: str, upstream: str) -> bool:
    """True when our prose is a near copy of the upstream text."""
    if not upstream:
        return False
    if fuzz.ratio(ours.lower(), upstream.lower()) >= COPY_RATIO:
        return True
    theirs = split_words(upstream)
    runs = {" ".join(theirs[i : i + COPY_RUN_WORDS]) for i in range(len(theirs) - COPY_RUN_WORDS + 1)}
    words = split_words(ours)
    return any(" ".join(words[i : i + COPY_RUN_WORDS]) in runs for i in range(len(words) - COPY_RUN_WORDS + 1))


def load_prose(prose_dir: Path) -> tuple[dict, dict]:
    """Service prose files by service name, and the parameter descriptions."""
    services = {p.stem: json.loads(p.read_text()) for p in sorted(prose_dir.glob("*.json")) if p.stem != "params"}
    params = json.loads((prose_dir / "params.json").read_text())
    return services, params


def param_description(params_prose: dict, op_id: str, name: str) -> str:
    text = params_prose.get(f"{op_id}.{name}") or params_prose.get(name)
    if not text:
        raise CatalogError(f"{op_id}: parameter {name!r} has no description in prose/params.json")
    return text


def route_deprecations(routes: dict) -> dict[str, dict]:
    """The deprecation (since, replacement) of each SDK method Appwrite 1.9.6 deprecates."""
    return {
        method_id(sdk): {"since": sdk["deprecated"]["since"], "replacement": sdk["deprecated"]["replaceWith"]}
        for route in routes["routes"]
        for sdk in route["sdk"]
        if sdk.get("deprecated")
    }


def route_events(routes: dict) -> dict[str, list[str]]:
    """Each SDK method's event labels (`namespace.name` -> labels), from Appwrite's route table."""
    return {method_id(sdk): route["events"] for route in routes["routes"] for sdk in route["sdk"]}


def build_entry(
    path, http_method, op, method, prose: dict, params_prose: dict, upstream_params: dict, events: dict
) -> dict:
    ext = op["x-appwrite"]
    service = op["tags"][0]
    name = method["name"] if method else ext["method"]
    op_id = f"{service}.{name}"
    all_params = spec_parameters(op)
    if method:
        wanted = set(method["parameters"])
        required = set(method["required"])
        chosen = [(n, loc, n in required, s) for n, loc, _, s in all_params if n in wanted]
    else:
        chosen = all_params
    properties, locations, required_names = {}, {}, []
    for pname, location, is_required, openapi in chosen:
        schema = json_schema(openapi)
        if location == "path":
            schema["minLength"] = 1
        description = param_description(params_prose, op_id, pname)
        upstream = " ".join(upstream_params.get((op_id, pname), "").split())
        if copied(description, upstream):
            raise CatalogError(f"{op_id}.{pname}: parameter description is a near copy of the upstream text")
        properties[pname] = {"description": description, **schema}
        locations[pname] = location
        if is_required:
            required_names.append(pname)
    deprecation = (method or {}).get("deprecated") if method else ext.get("deprecated")
    text = prose_for(prose, op_id, name)
    upstream_desc = " ".join(((method or {}).get("description") or op.get("description") or "").split())
    upstream_summary = (method or {}).get("desc") or op.get("summary") or ""
    if text["summary"].strip().lower() == upstream_summary.strip().lower():
        raise CatalogError(f"{op_id}: summary is the upstream summary; write our own")
    if copied(text["description"], upstream_desc):
        raise CatalogError(f"{op_id}: description is a near copy of the upstream text")
    scope = ext["scope"]
    return {
        "id": op_id,
        "service": service,
        "method": name,
        "group": ext.get("group") or None,
        "summary": text["summary"],
        "description": text["description"],
        "http": {"method": http_method.upper(), "path": path},
        "access": access_class(http_method, op),
        "scopes": scope if isinstance(scope, list) else [scope],
        "auth": auth_kinds(op, method),
        "content_type": content_type(op, set(locations)),
        "returns": returns(op, method),
        "deprecated": (
            {"since": deprecation["since"], "replacement": deprecation["replaceWith"]} if deprecation else None
        ),
        "params": locations,
        "input_schema": {
            "$schema": JSON_SCHEMA_DIALECT,
            "type": "object",
            "properties": properties,
            "required": required_names,
            "additionalProperties": False,
        },
        "keywords": text["keywords"],
        "rate_limit": rate_limit(ext),
        "events": events.get(op_id, []),
    }


def rate_limit(ext: dict) -> dict | None:
    """Appwrite's limit for callers without an API key: `limit` calls per `seconds`, counted per key
    (each key a template like "url:{url},email:{param-email}"; a call counts against every key)."""
    if not ext.get("rate-limit"):
        return None
    keys = ext.get("rate-key") or "url:{url},ip:{ip}"
    return {"limit": ext["rate-limit"], "seconds": ext["rate-time"], "keys": keys if isinstance(keys, list) else [keys]}


def prose_for(prose: dict, op_id: str, name: str) -> dict:
    service = op_id.split(".", 1)[0]
    text = prose.get(service, {}).get("operations", {}).get(name)
    if not text:
        raise CatalogError(f"{op_id}: no prose in catalog/prose/{service}.json")
    for field in ("summary", "description", "keywords"):
        if not text.get(field):
            raise CatalogError(f"{op_id}: prose has no {field}")
    if len(text["summary"]) > MAX_SUMMARY or "\n" in text["summary"]:
        raise CatalogError(f"{op_id}: summary must be one line of at most {MAX_SUMMARY} characters")
    if len(text["description"]) > MAX_DESCRIPTION:
        raise CatalogError(f"{op_id}: description has {len(text['description'])} characters; limit {MAX_DESCRIPTION}")
    return text


def upstream_param_texts(spec: dict) -> dict:
    """Upstream parameter descriptions keyed by (operation id, parameter name)."""
    texts = {}
    for _path, _verb, op, method in sdk_methods(spec):
        name = method["name"] if method else op["x-appwrite"]["method"]
        op_id = f"{op['tags'][0]}.{name}"
        for p in op.get("parameters", []):
            texts[(op_id, p["name"])] = p.get("description", "")
        for content in op.get("requestBody", {}).get("content", {}).values():
            for pname, prop in content["schema"]["properties"].items():
                texts[(op_id, pname)] = prop.get("description", "")
    return texts


def build_catalog(
    spec_path: Path, prose_dir: Path = PROSE_DIR, routes_path: Path = DEFAULT_ROUTES, events_path: Path = DEFAULT_EVENTS
) -> dict:
    """The 1.8.1 spec's methods (since 1.8), then the server methods Appwrite 1.9.6 added (since 1.9),
    and Appwrite 1.9.6's event tree."""
    raw = spec_path.read_bytes()
    routes_raw = routes_path.read_bytes()
    routes = json.loads(routes_raw)
    events = route_events(routes)
    spec = json.loads(raw)
    prose, params_prose = load_prose(prose_dir)
    upstream_params = upstream_param_texts(spec)
    operations, problems = [], []
    for path, verb, op, method in sdk_methods(spec):
        try:
            entry = build_entry(path, verb, op, method, prose, params_prose, upstream_params, events)
            operations.append(entry | {"since": "1.8"})
        except CatalogError as exc:
            problems.append(str(exc))
    deprecations = route_deprecations(routes)
    for entry in operations:
        # Methods Appwrite 1.9 deprecated (the legacy databases API's newer methods) say so.
        if entry["deprecated"] is None and entry["id"] in deprecations:
            entry["deprecated"] = deprecations[entry["id"]]
    by_id = {entry["id"]: index for index, entry in enumerate(operations)}
    for route, method in server_methods(routes):
        index = by_id.get(method_id(method))
        if index is not None:
            try:
                describe = route_describer(params_prose, method_id(method), route)
                operations[index] = with_route_changes(operations[index], route, method, describe)
            except CatalogError as exc:
                problems.append(str(exc))
        else:
            try:
                operations.append(new_entry(route, method, prose, params_prose))
            except CatalogError as exc:
                problems.append(str(exc))
    if problems:
        raise CatalogError(f"{len(problems)} operations cannot be built:\n  " + "\n  ".join(problems))
    check_consistency(operations, prose)
    counts: dict[str, int] = {}
    for entry in operations:
        counts[entry["service"]] = counts.get(entry["service"], 0) + 1
    services = {
        name: {
            "summary": prose[name]["service"]["summary"],
            "keywords": prose[name]["service"]["keywords"],
            "operations": counts[name],
        }
        for name in counts
    }
    return {
        "format": CATALOG_FORMAT,
        "source": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "routes": "Appwrite 1.9.6 route table",
            "routes_sha256": hashlib.sha256(routes_raw).hexdigest(),
        },
        "services": services,
        "operations": operations,
        "event_grammar": json.loads(events_path.read_bytes()),
        "models": response_models(spec),
    }


def response_models(spec: dict) -> dict[str, dict]:
    """The fields of each response model of the spec (what GraphQL types results by): per field its JSON type, the
    model it holds (`model`, or `one_of` several), whether it is a list and required; `any` marks a model that
    carries fields beyond its own (rows, documents, preferences)."""
    models = {}
    for name, schema in sorted(spec["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        fields = {key: model_field(prop, key in required) for key, prop in schema.get("properties", {}).items()}
        models[name] = {"fields": fields, "any": bool(schema.get("additionalProperties"))}
    return models


def model_field(prop: dict, required: bool) -> dict:
    is_list = prop.get("type") == "array"
    item = prop.get("items", {}) if is_list or "items" in prop else prop
    field: dict = {"type": item.get("type", "object")}
    if "$ref" in item:
        field = {"type": "object", "model": model_name(item["$ref"])}
    elif "oneOf" in item:
        field = {"type": "object", "one_of": [model_name(alt["$ref"]) for alt in item["oneOf"]]}
    return field | {"list": is_list, "required": required}


def new_entry(route: dict, method: dict, prose: dict, params_prose: dict) -> dict:
    """A server method Appwrite 1.9 added, built from its route (route_table.py) and our prose."""
    op_id = method_id(method)
    text = prose_for(prose, op_id, method["name"])
    if text["summary"].strip().lower() == (method.get("desc") or "").strip().lower():
        raise CatalogError(f"{op_id}: summary is the upstream summary; write our own")
    upstream = method.get("description") or ""
    if not upstream.endswith(".md") and copied(text["description"], " ".join(upstream.split())):
        raise CatalogError(f"{op_id}: description is a near copy of the upstream text")
    return route_entry(route, method, text, route_describer(params_prose, op_id, route)) | {"since": "1.9"}


def route_describer(params_prose: dict, op_id: str, route: dict):
    """`describe(name)`: our description of a parameter of a route's method, refused when it copies the route's."""
    upstream_params = {param["name"]: " ".join((param.get("description") or "").split()) for param in route["params"]}

    def describe(name: str) -> str:
        description = param_description(params_prose, op_id, name)
        if copied(description, upstream_params.get(name, "")):
            raise CatalogError(f"{op_id}.{name}: parameter description is a near copy of the upstream text")
        return description

    return describe


def check_consistency(operations: list[dict], prose: dict) -> None:
    ids = [entry["id"] for entry in operations]
    if len(ids) != len(set(ids)):
        raise CatalogError("operation ids are not unique")
    known = set(ids)
    for entry in operations:
        replacement = (entry["deprecated"] or {}).get("replacement")
        if replacement and replacement not in known:
            raise CatalogError(f"{entry['id']}: replacement {replacement} is not in the catalog")
    for service, text in prose.items():
        extra = set(text.get("operations", {})) - {e["method"] for e in operations if e["service"] == service}
        if extra:
            raise CatalogError(f"catalog/prose/{service}.json has prose for unknown methods: {sorted(extra)}")
        if not text.get("service", {}).get("summary"):
            raise CatalogError(f"catalog/prose/{service}.json has no service summary")


def render(catalog: dict) -> str:
    return json.dumps(catalog, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the operation catalog from the Appwrite server spec.")
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC, help="path to open-api3-server.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the catalog JSON")
    parser.add_argument("--check", action="store_true", help="fail if the catalog at --out is out of date")
    args = parser.parse_args(argv)
    try:
        catalog = build_catalog(args.spec)
    except (CatalogError, OSError, KeyError, ValueError) as exc:
        print(f"build_catalog: {exc}", file=sys.stderr)
        return 2
    text = render(catalog)
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run python catalog/build_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(catalog['operations'])} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
