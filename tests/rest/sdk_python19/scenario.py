"""The official Python SDK for Appwrite 1.9 (appwrite 20.1.0, see requirements.txt) against an Appwrite endpoint.

Environment: ENDPOINT (e.g. http://127.0.0.1:8080/v1), PROJECT, KEY (an API key with the database, table, column,
row, users, bucket, file, key, platform, project, policy, webhook, function and execution scopes), and for the
functions scenario RUNTIME (a runtime id the server runs) and ARCHIVE (a tar.gz over 5 MB whose main.py echoes the
request). Arguments: the scenarios to run (default: all).

Each scenario is a function registered with @scenario: it works in its own database, bucket or users, so scenarios
run alone or in any order. It records what it observed with `check(label, actual, expected)`. Prints one JSON
object: {"sdk": "appwrite X", "scenarios": {name: {"checks": {...}, "mismatches": [...], "error": str | null}}}.
tests/rest/sdk_node19/scenario.js runs the same scenarios with the Node SDK; tests/rest/test_sdk_1_9.py asserts.
"""

from __future__ import annotations

import json
import os
import sys

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.enums.project_key_scopes import ProjectKeyScopes
from appwrite.enums.project_policy_id import ProjectPolicyId
from appwrite.enums.tables_db_index_type import TablesDBIndexType
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.project import Project
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users
from appwrite.services.webhooks import Webhooks
from python_scenarios import Report, main, scenario

ENDPOINT = os.environ["ENDPOINT"]
PROJECT = os.environ.get("PROJECT", "default")
KEY = os.environ["KEY"]
# Whole numbers a double cannot hold, and the ends of the signed 64-bit range.
BIG = 2**53 + 1
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)


def client(key: str = KEY) -> Client:
    return Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_key(key)


def new_table(tables: TablesDB) -> tuple[str, str]:
    """A new database with a table `items` (title, qty, views: bigint); its ids."""
    database = tables.create(ID.unique(), "SDK 1.9")
    tables.create_table(database.id, "items", "Items")
    tables.create_varchar_column(database.id, "items", "title", 100, True)
    tables.create_integer_column(database.id, "items", "qty", False, default=0)
    tables.create_big_int_column(database.id, "items", "views", False)
    return database.id, "items"


@scenario
def tablesdb(report: Report) -> None:
    tables = TablesDB(client())
    database = tables.create(ID.unique(), "Shop")
    report.check("database", (database.name, database.type.value, database.enabled), ("Shop", "tablesdb", True))
    table = tables.create_table(database.id, "items", "Items", row_security=True)
    report.check(
        "table", (table.id, table.name, table.rowsecurity, table.databaseid), ("items", "Items", True, database.id)
    )
    title = tables.create_varchar_column(database.id, "items", "title", 100, True)
    report.check(
        "varchar", (title.key, title.type, title.size, title.status.value), ("title", "varchar", 100, "available")
    )
    qty = tables.create_integer_column(database.id, "items", "qty", False, min=0, max=1000, default=1)
    report.check("integer", (qty.type, qty.min, qty.max, qty.default), ("integer", 0, 1000, 1))
    views = tables.create_big_int_column(database.id, "items", "views", False, min=-5, max=BIG, default=7)
    report.check(
        "bigint", (views.key, views.type, views.status.value, views.default), ("views", "bigint", "available", 7)
    )
    listed = tables.list_columns(database.id, "items")
    report.check("columns", [column.key for column in listed.columns], ["title", "qty", "views"])
    index = tables.create_index(database.id, "items", "by_views", TablesDBIndexType.KEY, ["views"])
    report.check("index", (index.key, index.type, index.columns), ("by_views", "key", ["views"]))


@scenario
def bigint(report: Report) -> None:
    tables = TablesDB(client())
    database_id, table_id = new_table(tables)
    for row_id, views in (("big", BIG), ("neighbour", BIG - 1), ("max", MAX_INT64), ("min", MIN_INT64)):
        created = tables.create_row(database_id, table_id, row_id, {"title": row_id, "views": views})
        report.check(f"created.{row_id}", created.data["views"], views)
    read = tables.get_row(database_id, table_id, "max")
    report.check("read.max", read.data["views"], MAX_INT64)
    report.check("read.type", type(read.data["views"]).__name__, "int")
    found = tables.list_rows(database_id, table_id, [Query.equal("views", BIG)])
    report.check("equal", [row.id for row in found.rows], ["big"])
    report.check("equal.value", [row.data["views"] for row in found.rows], [BIG])
    above = tables.list_rows(database_id, table_id, [Query.greater_than("views", BIG - 1), Query.order_asc("views")])
    report.check("greaterThan", [row.id for row in above.rows], ["big", "max"])
    bumped = tables.increment_row_column(database_id, table_id, "big", "views", 2)
    report.check("increment", bumped.data["views"], BIG + 2)


@scenario
def rows(report: Report) -> None:
    tables = TablesDB(client())
    database_id, table_id = new_table(tables)
    made = [tables.create_row(database_id, table_id, ID.unique(), {"title": f"t{n}", "qty": n}) for n in range(3)]
    sequences = [row.sequence for row in made]
    report.check("sequence.type", sorted({type(value).__name__ for value in sequences}), ["str"])
    report.check("sequence.digits", all(value.isdigit() for value in sequences), True)
    report.check("sequence.increasing", sorted(sequences, key=int) == sequences and len(set(sequences)) == 3, True)
    first = tables.get_row(database_id, table_id, made[0].id)
    report.check(
        "get", (first.id, first.sequence, first.data["title"], first.data["qty"]), (made[0].id, sequences[0], "t0", 0)
    )
    report.check("defaults", first.data["views"], None)
    updated = tables.update_row(database_id, table_id, made[1].id, {"qty": 10})
    report.check("update", (updated.data["qty"], updated.sequence), (10, sequences[1]))
    report.check("tableId", (first.tableid, first.databaseid), (table_id, database_id))


@scenario
def queries(report: Report) -> None:
    tables = TablesDB(client())
    database_id, table_id = new_table(tables)
    for n, title in enumerate(["apple", "banana", "cherry", "damson", "elder"]):
        tables.create_row(database_id, table_id, title, {"title": title, "qty": n * 10})

    def ids(*queries: str) -> list[str]:
        return [row.id for row in tables.list_rows(database_id, table_id, list(queries)).rows]

    report.check("equal", ids(Query.equal("title", ["banana", "elder"])), ["banana", "elder"])
    report.check("range", ids(Query.between("qty", 10, 30)), ["banana", "cherry", "damson"])
    report.check("order", ids(Query.order_desc("qty"), Query.limit(2)), ["elder", "damson"])
    report.check("startsWith", ids(Query.starts_with("title", "ch")), ["cherry"])
    report.check("cursor", ids(Query.order_asc("qty"), Query.cursor_after("cherry")), ["damson", "elder"])
    report.check("sequence", ids(Query.greater_than("$sequence", 0), Query.limit(1)), ["apple"])
    listed = tables.list_rows(database_id, table_id, [Query.select(["title"]), Query.limit(1)])
    report.check("total", listed.total, 5)
    report.check("select", sorted(key for key in listed.rows[0].data if not key.startswith("$")), ["title"])


@scenario
def users(report: Report) -> None:
    service = Users(client())
    user_id = ID.unique()
    email = f"{user_id}@example.com"
    created = service.create(user_id, email=email, password="correct horse battery", name="Ada")
    report.check("create", (created.id, created.email, created.name, created.status), (user_id, email, "Ada", True))
    fetched = service.get(user_id)
    report.check("get", (fetched.email, fetched.emailverification, fetched.labels), (email, False, []))
    listed = service.list([Query.equal("email", email)])
    report.check("list", (listed.total, [user.id for user in listed.users]), (1, [user_id]))
    service.delete(user_id)
    report.fails("deleted", lambda: service.get(user_id), 404, "user_not_found")


@scenario
def storage(report: Report) -> None:
    service = Storage(client())
    bucket = service.create_bucket(ID.unique(), "Uploads")
    report.check("bucket", (bucket.name, bucket.enabled), ("Uploads", True))
    content = bytes(range(256)) * 40
    uploaded = service.create_file(bucket.id, ID.unique(), InputFile.from_bytes(content, "data.bin"))
    report.check(
        "upload", (uploaded.name, uploaded.sizeoriginal, uploaded.bucketid), ("data.bin", len(content), bucket.id)
    )
    report.check("get", service.get_file(bucket.id, uploaded.id).sizeoriginal, len(content))
    report.check("download", service.get_file_download(bucket.id, uploaded.id) == content, True)


@scenario
def errors(report: Report) -> None:
    tables = TablesDB(client())
    database_id, table_id = new_table(tables)
    report.fails("rowNotFound", lambda: tables.get_row(database_id, table_id, "missing"), 404, "row_not_found")
    report.fails(
        "invalidStructure",
        lambda: tables.create_row(database_id, table_id, ID.unique(), {"title": "x", "views": "many"}),
        400,
        "row_invalid_structure",
    )
    report.fails("wrongKey", lambda: TablesDB(client("standard_wrong")).list(), 401, "user_unauthorized")


@scenario
def encrypted(report: Report) -> None:
    tables = TablesDB(client())
    database_id, table_id = new_table(tables)
    column = tables.create_varchar_column(database_id, table_id, "secret", 200, False, encrypt=True)
    report.check("column", (column.key, column.encrypt), ("secret", True))
    row = tables.create_row(database_id, table_id, ID.unique(), {"title": "t", "secret": "hunter2"})
    report.check("read", tables.get_row(database_id, table_id, row.id).data["secret"], "hunter2")
    report.fails(
        "query",
        lambda: tables.list_rows(database_id, table_id, [Query.equal("secret", "hunter2")]),
        400,
        "general_query_invalid",
    )
    report.fails(
        "tooShort",
        lambda: tables.create_varchar_column(database_id, table_id, "pin", 20, False, encrypt=True),
        400,
        "general_bad_request",
    )


@scenario
def project(report: Report) -> None:
    service = Project(client())
    info = service.get()
    report.check("get", (info.id, info.region, info.status), (PROJECT, "default", "active"))
    key = service.create_key(ID.unique(), "CI", [ProjectKeyScopes.USERS_READ])
    report.check("key", (key.name, key.scopes, key.secret.startswith("standard_")), ("CI", ["users.read"], True))
    report.check("key.works", Users(client(key.secret)).list().total >= 0, True)
    report.check("keys", key.id in [listed.id for listed in service.list_keys().keys], True)
    platform = service.create_web_platform(ID.unique(), "Web", "app.example.com")
    report.check("platform", (platform.name, platform.hostname), ("Web", "app.example.com"))
    name = f"STRIPE_KEY_{ID.unique().upper()}"  # a variable's key is unique in its project
    variable = service.create_variable(ID.unique(), name, "sk_test_123", secret=True)
    report.check("variable", (variable.key, variable.value, variable.secret), (name, "", True))
    service.update_session_limit_policy(total=50)
    report.check("policy", service.get_policy(ProjectPolicyId.SESSION_LIMIT).total, 50)
    service.delete_key(key.id)
    report.fails("revoked", lambda: Users(client(key.secret)).list(), 401, "user_unauthorized")


@scenario
def webhooks(report: Report) -> None:
    service = Webhooks(client())
    events = ["databases.*.tables.*.rows.*.create", "users.*.update.email"]
    made = service.create(
        ID.unique(), "https://example.com/hooks/orders", "Orders", events, auth_username="hook", auth_password="pw"
    )
    report.check(
        "create", (made.name, made.events, made.tls, made.enabled, made.attempts), ("Orders", events, False, True, 0)
    )
    report.check("secret", (len(made.secret), service.get(made.id).secret), (128, ""))
    report.check("auth", (made.authusername, made.authpassword), ("hook", "pw"))
    listed = service.list(queries=[Query.equal("name", "Orders")])
    report.check("list", made.id in [webhook.id for webhook in listed.webhooks], True)
    changed = service.update(made.id, "Orders v2", "https://example.com/hooks/v2", ["users.*"], enabled=False, tls=True)
    report.check(
        "update",
        (changed.name, changed.url, changed.events, changed.enabled, changed.tls, changed.authusername),
        ("Orders v2", "https://example.com/hooks/v2", ["users.*"], False, True, ""),
    )
    report.check("rotate", service.update_secret(made.id, secret="rotated-secret").secret, "rotated-secret")
    report.fails(
        "badEvent",
        lambda: service.create(ID.unique(), "https://example.com/x", "x", ["users.*.explode"]),
        400,
        "general_argument_invalid",
    )
    service.delete(made.id)
    report.fails("deleted", lambda: service.get(made.id), 404, "webhook_not_found")


@scenario
def functions(report: Report) -> None:
    service = Functions(client())
    runtime, archive = os.environ["RUNTIME"], os.environ["ARCHIVE"]
    made = service.create(ID.unique(), "Echo", runtime, execute=["any"], entrypoint="main.py", timeout=10)
    report.check("create", (made.name, made.runtime, made.buildspecification), ("Echo", runtime, "s-1vcpu-512mb"))
    variable = service.create_variable(made.id, ID.unique(), "GREETING", "hello", secret=False)
    report.check("variable", (variable.key, variable.value), ("GREETING", "hello"))
    deployment = service.create_deployment(made.id, InputFile.from_path(archive), True)
    report.check("deploy", (deployment.status.value, deployment.sourcesize), ("ready", os.path.getsize(archive)))
    execution = service.create_execution(made.id, body='{"n": 1}', path="/echo?x=1", method=ExecutionMethod.PUT)
    echoed = {"method": "PUT", "path": "/echo", "query": {"x": "1"}, "body": {"n": 1}, "greeting": "hello"}
    report.check(
        "execute",
        (execution.status.value, execution.responsestatuscode, json.loads(execution.responsebody)),
        ("completed", 200, echoed),
    )
    report.check("logs", "echoing PUT" in execution.logs, True)
    waiting = service.create_execution(made.id, xasync=True)
    report.check("async", waiting.status.value in ("waiting", "processing"), True)
    listed = service.list_executions(made.id)
    report.check("list", sorted(item.id for item in listed.executions) == sorted([execution.id, waiting.id]), True)
    report.check("download", len(service.get_deployment_download(made.id, deployment.id)), os.path.getsize(archive))
    service.delete(made.id)
    report.fails("deleted", lambda: service.get(made.id), 404, "function_not_found")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
