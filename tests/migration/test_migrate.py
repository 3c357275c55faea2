"""`baas-mcp migrate` end to end, as real subprocesses: an embedded project A (tables with a relationship and
10,000 rows, users with argon2 and bcrypt passwords and MFA, a team, a bucket with a 12 MB file) moved to a
`baas-mcp api` serving data dir B (standing in for an Appwrite server), killed half way and run again, then
moved back to a fresh data dir C. A and C are compared directly; users sign in on B with their passwords."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pty
import signal
import subprocess
import tarfile
from pathlib import Path

import bcrypt
import httpx
import pytest

from mcp_server.catalog import load_catalog
from mcp_server.engine import Engine
from mcp_server.engine.keys import SCOPES
from mcp_server.migration import RESOURCES
from mcp_server.migration.runner import FAMILIES
from mcp_server.uploads import Upload
from tests.commands import COMMAND, baas_mcp, create_key, start_api_server
from tests.engine.test_functions import PYTHON, archive

ROWS = 10_000
DOCUMENTS = 150
VECTORS = 120
BIG = 12 * 1024 * 1024
ADA_PASSWORD = "correct horse battery staple"
BOB_PASSWORD = "bob's own password"
MIGRATE_TIMEOUT = 300
SITE_BUILD = 'require("fs").mkdirSync("dist"); require("fs").writeFileSync("dist/index.html", "<h1>blog</h1>")'
SITE_SETTINGS = ("name", "framework", "buildRuntime", "buildCommand", "outputDirectory", "timeout", "enabled")


def query(method: str, *values, attribute: str | None = None) -> str:
    return json.dumps({"method": method, "values": list(values)} | ({"attribute": attribute} if attribute else {}))


def code_archive() -> bytes:
    buffer = io.BytesIO()
    main = b"def main(context):\n    return context.res.text('moved')\n"
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("main.py")
        info.size = len(main)
        tar.addfile(info, io.BytesIO(main))
    return buffer.getvalue()


def build_project(data_dir: Path) -> None:
    engine = Engine(data_dir, catalog=load_catalog())

    def call(op: str, **params):
        return engine.call(op, params)

    try:
        call("tablesDB.create", databaseId="shop", name="Shop")
        build_collections(call)
        call(
            "tablesDB.createTable",
            databaseId="shop",
            tableId="authors",
            name="Authors",
            rowSecurity=True,
            permissions=['read("any")'],
        )
        call("tablesDB.createStringColumn", databaseId="shop", tableId="authors", key="name", size=100, required=True)
        call("tablesDB.createTable", databaseId="shop", tableId="books", name="Books")
        call("tablesDB.createStringColumn", databaseId="shop", tableId="books", key="title", size=200, required=False)
        call("tablesDB.createIntegerColumn", databaseId="shop", tableId="books", key="pages", required=False)
        call(
            "tablesDB.createEnumColumn",
            databaseId="shop",
            tableId="books",
            key="kind",
            elements=["novel", "poem"],
            required=False,
            default="novel",
        )
        call(
            "tablesDB.createRelationshipColumn",
            databaseId="shop",
            tableId="books",
            relatedTableId="authors",
            type="manyToOne",
            twoWay=True,
            key="author",
            twoWayKey="books",
            onDelete="setNull",
        )
        call("tablesDB.createIndex", databaseId="shop", tableId="books", key="by_title", type="key", columns=["title"])
        call("tablesDB.createTable", databaseId="shop", tableId="events", name="Events")
        call("tablesDB.createStringColumn", databaseId="shop", tableId="events", key="what", size=64, required=False)
        call("tablesDB.createFloatColumn", databaseId="shop", tableId="events", key="amount", required=False)
        call("tablesDB.createIntegerColumn", databaseId="shop", tableId="events", key="big", required=False)
        for start in range(0, ROWS, 100):
            rows = [
                {
                    "$id": f"e{n}",
                    "what": f"event {n}",
                    "amount": n / 8,
                    "big": 2**62 + n,
                    "$createdAt": "2021-02-03T04:05:06.789+00:00",
                    "$permissions": [f'read("user:u{n % 7}")'],
                }
                for n in range(start, start + 100)
            ]
            call("tablesDB.createRows", databaseId="shop", tableId="events", rows=rows)
        for n in range(5):
            call(
                "tablesDB.createRow",
                databaseId="shop",
                tableId="authors",
                rowId=f"a{n}",
                data={"name": f"A{n}"},
                permissions=[f'update("user:u{n}")'],
            )
        for n in range(40):
            call(
                "tablesDB.createRow",
                databaseId="shop",
                tableId="books",
                rowId=f"b{n}",
                data={"title": f"Book {n}", "pages": n, "author": f"a{n % 5}" if n % 6 else None},
            )
        call(
            "users.create",
            userId="ada",
            email="ada@example.com",
            password=ADA_PASSWORD,
            name="Ada",
            phone="+14155550100",
        )
        call("users.updateMfa", userId="ada", mfa=True)
        call("users.updateEmailVerification", userId="ada", emailVerification=True)
        hashed = bcrypt.hashpw(BOB_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        call("users.createBcryptUser", userId="bob", email="bob@example.com", password=hashed, name="Bob")
        call("users.updateLabels", userId="bob", labels=["vip"])
        call("users.updatePrefs", userId="bob", prefs={"theme": "dark"})
        call("users.create", userId="cid", phone="+14155550199")
        call("users.updateStatus", userId="cid", status=False)
        call("teams.create", teamId="staff", name="Staff")
        call("teams.updatePrefs", teamId="staff", prefs={"floor": 3})
        call("teams.createMembership", teamId="staff", userId="ada", roles=["owner"])
        call("teams.createMembership", teamId="staff", userId="bob", roles=["editor", "viewer"])
        call("storage.createBucket", bucketId="photos", name="Photos", fileSecurity=True, permissions=['read("any")'])
        call(
            "storage.createFile",
            bucketId="photos",
            fileId="note",
            file=Upload("note.txt", "text/plain", b"hi"),
            permissions=['read("user:ada")'],
        )
        call(
            "storage.createFile",
            bucketId="photos",
            fileId="big",
            file=Upload("big.bin", "application/octet-stream", os.urandom(BIG)),
        )
        call(
            "functions.create", functionId="hello", name="Hello", runtime=PYTHON, entrypoint="main.py", execute=["any"]
        )
        call(
            "functions.createVariable",
            functionId="hello",
            variableId="greeting",
            key="GREETING",
            value="hi",
            secret=False,
        )
        call(
            "functions.createVariable", functionId="hello", variableId="token", key="TOKEN", value="s3cret", secret=True
        )
        call(
            "functions.createDeployment",
            functionId="hello",
            entrypoint="main.py",
            activate=True,
            code=Upload("code.tar.gz", "application/gzip", code_archive()),
        )
        build_site(call)
        ada_email = next(t for t in call("users.listTargets", userId="ada")["targets"] if t["providerType"] == "email")
        call(
            "messaging.createSendgridProvider",
            providerId="mail",
            name="Mail",
            apiKey="SG.secret",
            enabled=True,
            fromName="Shop",
            fromEmail="shop@example.com",
        )
        call("messaging.createTopic", topicId="news", name="News", subscribe=["users"])
        call("messaging.createSubscriber", topicId="news", subscriberId="ada-news", targetId=ada_email["$id"])
        call(
            "webhooks.create",
            webhookId="hook",
            url="https://example.com/hook",
            name="Hook",
            events=["users.*"],
            enabled=True,
            tls=True,
        )
        call("project.createWebPlatform", platformId="site", name="Site", hostname="shop.example.com")
        call("project.updateService", serviceId="graphql", enabled=False)
        call("project.updateAuthMethod", methodId="anonymous", enabled=False)
        call("project.updateSessionDurationPolicy", duration=3600)
        call("project.updatePasswordHistoryPolicy", total=5)
        call("project.createMockPhone", number="+15550100001", otp="123456")
    finally:
        engine.close()


def build_site(call) -> None:
    """A static site built by node from its code, with a plain and a secret variable, its deployment active."""
    call(
        "sites.create",
        siteId="blog",
        name="Blog",
        framework="other",
        buildRuntime="node-22",
        buildCommand="node build.js",
        outputDirectory="dist",
        timeout=20,
    )
    call("sites.createVariable", siteId="blog", variableId="greeting", key="GREETING", value="moved", secret=False)
    call("sites.createVariable", siteId="blog", variableId="token", key="TOKEN", value="s3cret", secret=True)
    call("sites.createDeployment", siteId="blog", code=archive({"build.js": SITE_BUILD}), activate=True)


def build_collections(call) -> None:
    """A documentsDB database of schemaless documents and a vectorsDB one of embeddings, each with an index."""
    call("documentsDB.create", databaseId="notes", name="Notes")
    call(
        "documentsDB.createCollection",
        databaseId="notes",
        collectionId="pages",
        name="Pages",
        documentSecurity=True,
        permissions=['read("any")'],
    )
    call(
        "documentsDB.createIndex",
        databaseId="notes",
        collectionId="pages",
        key="by_title",
        type="key",
        attributes=["title"],
    )
    pages = [
        {
            "$id": f"p{n}",
            "title": f"Page {n}",
            "tags": ["a", "b"][: n % 3],
            "meta": {"words": n * 10, "draft": n % 2 == 0, "by": {"name": f"W{n % 4}"}},
            "$createdAt": "2022-03-04T05:06:07.890+00:00",
            "$updatedAt": "2023-03-04T05:06:07.890+00:00",
            "$permissions": [f'update("user:u{n % 3}")'],
        }
        for n in range(DOCUMENTS)
    ]
    insert(call, "documentsDB", "notes", "pages", pages)
    call("vectorsDB.create", databaseId="vectors", name="Vectors")
    call("vectorsDB.createCollection", databaseId="vectors", collectionId="items", name="Items", dimension=3)
    call(
        "vectorsDB.createIndex",
        databaseId="vectors",
        collectionId="items",
        key="near",
        type="hnsw_cosine",
        attributes=["embeddings"],
    )
    items = [
        {
            "$id": f"v{n}",
            "embeddings": [n / 7, 1 - n / 11, 0.25],
            "metadata": {"n": n, "kind": "odd" if n % 2 else "even"},
            "$createdAt": "2022-03-04T05:06:07.890+00:00",
            "$permissions": ['read("any")'] if n % 2 else [],
        }
        for n in range(VECTORS)
    ]
    insert(call, "vectorsDB", "vectors", "items", items)


def insert(call, service: str, database: str, collection: str, documents: list[dict]) -> None:
    for start in range(0, len(documents), 100):
        chunk = documents[start : start + 100]
        call(f"{service}.createDocuments", databaseId=database, collectionId=collection, documents=chunk)


def migrate(*args: str, cwd: Path) -> tuple[int, dict, list[dict]]:
    """Run baas-mcp migrate --json: (exit code, the report, the progress lines)."""
    done = baas_mcp("migrate", *args, "--json", cwd=cwd, timeout=MIGRATE_TIMEOUT)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    reports = [line for line in lines if line.get("event") == "report"]
    assert reports, done.stdout + done.stderr
    return done.returncode, reports[-1], [line for line in lines if line.get("event") == "progress"]


def listed(engine: Engine, operation: str, params: dict, items: str, select: list[str] | None = None) -> list[dict]:
    """Every row (or document) a list operation gives, page by page, without `$sequence`."""
    found, cursor = [], None
    while True:
        queries = [query("limit", 500)] + ([query("cursorAfter", cursor)] if cursor else [])
        queries += [query("select", *select)] if select else []
        page = engine.call(operation, params | {"queries": queries})[items]
        found += [{k: v for k, v in row.items() if k != "$sequence"} for row in page]
        if len(page) < 500:
            return found
        cursor = page[-1]["$id"]


def rows_of(engine: Engine, table: str, select: list[str] | None = None) -> list[dict]:
    return listed(engine, "tablesDB.listRows", {"databaseId": "shop", "tableId": table}, "rows", select)


def documents_of(engine: Engine, service: str, database: str, collection: str) -> list[dict]:
    return listed(engine, f"{service}.listDocuments", {"databaseId": database, "collectionId": collection}, "documents")


def everything(data_dir: Path) -> dict:
    """What a user of the project sees, read straight from the engine."""
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        users = engine.call("users.list", {})["users"]
        fields = ("$id", "name", "email", "phone", "status", "labels", "prefs", "emailVerification", "mfa", "password")
        files = {}
        for file in engine.call("storage.listFiles", {"bucketId": "photos"})["files"]:
            media = engine.call("storage.getFileDownload", {"bucketId": "photos", "fileId": file["$id"]})
            files[file["$id"]] = (file["name"], file["$permissions"], hashlib.sha256(media.data).hexdigest())
        members = engine.call("teams.listMemberships", {"teamId": "staff"})["memberships"]
        function = engine.call("functions.get", {"functionId": "hello"})
        site = engine.call("sites.get", {"siteId": "blog"})
        site_code = engine.call(
            "sites.getDeploymentDownload", {"siteId": "blog", "deploymentId": site["deploymentId"], "type": "source"}
        )
        site_variables = engine.call("sites.listVariables", {"siteId": "blog"})["variables"]
        variables = engine.call("functions.listVariables", {"functionId": "hello"})["variables"]
        subscribers = engine.call("messaging.listSubscribers", {"topicId": "news"})["subscribers"]
        provider = engine.call("messaging.getProvider", {"providerId": "mail"})
        webhook = engine.call("webhooks.get", {"webhookId": "hook"})
        platforms = engine.call("project.listPlatforms", {})["platforms"]
        project = engine.call("project.get", {})
        policies = engine.call("project.listPolicies", {})["policies"]
        mock_phones = engine.call("project.listMockPhones", {})["mockNumbers"]
        collections = [
            (service, engine.call(f"{service}.getCollection", {"databaseId": database, "collectionId": collection}))
            for service, database, collection in (("documentsDB", "notes", "pages"), ("vectorsDB", "vectors", "items"))
        ]
        return {
            "events": rows_of(engine, "events"),
            "books": rows_of(engine, "books", ["*", "author.$id"]),
            "authors": rows_of(engine, "authors"),
            "columns": [
                {k: v for k, v in column.items() if k not in ("$createdAt", "$updatedAt")}
                for column in engine.call("tablesDB.listColumns", {"databaseId": "shop", "tableId": "books"})["columns"]
            ],
            "users": sorted(({k: user.get(k) for k in fields} for user in users), key=lambda user: user["$id"]),
            "files": files,
            "members": sorted((member["userId"], sorted(member["roles"])) for member in members),
            "function": (function["name"], function["runtime"], function["execute"], bool(function["deploymentId"])),
            "variables": sorted((variable["key"], variable["secret"]) for variable in variables),
            "site": {key: site[key] for key in SITE_SETTINGS},
            "site code": hashlib.sha256(site_code.data).hexdigest(),
            "site variables": sorted((var["key"], var["secret"], var["value"]) for var in site_variables),
            "subscribers": [(subscriber["$id"], subscriber["targetId"]) for subscriber in subscribers],
            "provider": (provider["name"], provider["provider"], provider["options"]),
            "webhook": (webhook["url"], webhook["events"], webhook["enabled"]),
            "platforms": [(platform["$id"], platform["type"], platform["hostname"]) for platform in platforms],
            "settings": (project["services"], project["authMethods"], policies),
            "mock phones": [(phone["number"], phone["otp"]) for phone in mock_phones],
            "collections": [
                (
                    service,
                    {key: collection.get(key) for key in ("name", "$permissions", "documentSecurity", "dimension")},
                    [(index["key"], index["type"], index["attributes"]) for index in collection["indexes"]],
                )
                for service, collection in collections
            ],
            "pages": documents_of(engine, "documentsDB", "notes", "pages"),
            "items": documents_of(engine, "vectorsDB", "vectors", "items"),
        }
    finally:
        engine.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("migrate")
    source, served = root / "a", root / "b"
    build_project(source)
    key = create_key(served, ",".join(sorted(SCOPES)))["secret"]
    server = start_api_server(served)
    try:
        yield {"root": root, "a": source, "b": served, "endpoint": server.url("/v1"), "key": key}
    finally:
        server.stop()


def to_server(world) -> list[str]:
    return [
        "--from-data-dir",
        str(world["a"]),
        "--to-endpoint",
        world["endpoint"],
        "--to-project",
        "default",
        "--to-api-key",
        world["key"],
    ]


def server_get(world, path: str) -> dict:
    headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": world["key"]}
    return httpx.get(world["endpoint"] + path, headers=headers, timeout=30).json()


def test_a_dry_run_reports_everything_and_writes_nothing(world):
    code, report, _ = migrate(*to_server(world), "--dry-run", cwd=world["root"])
    assert code == 0 and report["dryRun"] is True
    assert report["resources"]["rows"] == {"create": ROWS + 45}
    assert report["resources"]["users"] == {"create": 3}
    assert report["resources"]["files"] == {"create": 2}
    assert report["verification"] == []
    assert report["resources"]["documents"] == {"create": DOCUMENTS + VECTORS}
    assert report["resources"]["documentsDB collections"] == {"create": 1}
    assert report["resources"]["vectorsDB indexes"] == {"create": 1}
    schema = {resource: report["resources"][resource] for resource in ("databases", "tables", "columns", "indexes")}
    assert schema == {
        "databases": {"create": 1},
        "tables": {"create": 3},
        "columns": {"create": 8},
        "indexes": {"create": 1},
    }
    settings = report["resources"]["settings"]
    assert (settings["update"], settings["create"]) == (4, 1) and settings["skip"] > 20
    assert server_get(world, "/tablesdb")["total"] == 0
    assert server_get(world, "/users")["total"] == 0
    assert server_get(world, "/project/mock-phones")["total"] == 0
    assert list(world["root"].glob(".baas-migrate-*")) == []


def test_killed_half_way_then_run_again_it_finishes_without_duplicates(world):
    command = [str(COMMAND), "migrate", *to_server(world), "--json", "--concurrency", "2"]
    process = subprocess.Popen(command, cwd=world["root"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed_at = None
    for line in process.stdout:
        event = json.loads(line)
        if event.get("resource") == "rows shop/events" and event["done"] >= ROWS / 2:
            process.send_signal(signal.SIGKILL)
            killed_at = event["done"]
            break
    process.wait(timeout=60)
    process.stdout.close()
    process.stderr.close()
    assert killed_at is not None and killed_at < ROWS, "the migration ended before it could be killed half way"
    assert process.returncode == -signal.SIGKILL

    code, report, _ = migrate(*to_server(world), cwd=world["root"])
    assert code == 0, json.dumps(report)
    rows = report["resources"]["rows"]
    # It went on from the last page recorded: at most one page of the events read again, none written twice.
    assert rows.get("create", 0) + rows.get("skip", 0) <= ROWS - killed_at + 100 + 45
    assert all(check["same"] for check in report["verification"]) and len(report["verification"]) >= 8
    path = "/tablesdb/shop/tables/events/rows?queries[0]={}&queries[1]={}"  # (totals stop at 5,000, as Appwrite's)
    last = server_get(world, path.format(query("limit", 5), query("offset", ROWS - 1)))["rows"]
    assert [row["$id"] for row in last] == [f"e{ROWS - 1}"]
    assert sorted(path.name for path in world["a"].iterdir()) == ["default"]  # nothing written into the source


def test_a_second_run_changes_nothing(world):
    code, report, _ = migrate(*to_server(world), cwd=world["root"])
    assert code == 0, json.dumps(report)
    assert all(set(actions) == {"skip"} for actions in report["resources"].values()), json.dumps(report["resources"])


def test_back_from_the_server_to_a_fresh_data_dir_equals_the_original(world):
    fresh = world["root"] / "c"
    code, report, _ = migrate(
        "--from-endpoint",
        world["endpoint"],
        "--from-project",
        "default",
        "--from-api-key",
        world["key"],
        "--to-data-dir",
        str(fresh),
        cwd=world["root"],
    )
    assert code == 0, report
    assert report["verification"] and all(check["same"] for check in report["verification"])
    kinds = {note["resource"]: note["kind"] for note in report["notes"]}
    assert kinds["sessions"] == "cannot move" and kinds["mfa"] == "cannot move"
    original, copy = everything(world["a"]), everything(fresh)
    assert len(copy["events"]) == ROWS and copy["events"][0]["$createdAt"] == "2021-02-03T04:05:06.789+00:00"
    assert len(copy["pages"]) == DOCUMENTS and copy["pages"][0]["$updatedAt"] == "2023-03-04T05:06:07.890+00:00"
    assert len(copy["items"]) == VECTORS and copy["collections"][1][1]["dimension"] == 3
    verified = {check["resource"] for check in report["verification"]}
    assert {"documents notes/pages", "documents vectors/items", "vectorsDB collection vectors/items"} <= verified
    for part in original:
        assert copy[part] == original[part], part


def test_a_difference_left_in_the_target_fails_the_verification(world):
    """A row deleted from the target after its table was recorded as copied: the re-run of the same migration
    (which goes on past what it recorded) says so and exits 1; another source (no record) puts the row back."""
    fresh = world["root"] / "c"
    removed = baas_mcp(
        "call",
        "tablesDB.deleteRow",
        "--data-dir",
        str(fresh),
        "--confirm",
        "--params",
        json.dumps({"databaseId": "shop", "tableId": "events", "rowId": "e7"}),
    )
    assert removed.returncode == 0, removed.stderr
    from_server = ["--from-endpoint", world["endpoint"], "--from-project", "default", "--from-api-key", world["key"]]
    code, report, _ = migrate(*from_server, "--to-data-dir", str(fresh), "--resources", "databases", cwd=world["root"])
    assert code == 1
    differ = [check for check in report["verification"] if not check["same"]]
    assert [check["resource"] for check in differ] == ["rows shop/events"]
    assert (differ[0]["source"]["count"], differ[0]["target"]["count"]) == (ROWS, ROWS - 1)
    code, report, _ = migrate(
        "--from-data-dir", str(world["a"]), "--to-data-dir", str(fresh), "--resources", "databases", cwd=world["root"]
    )
    assert code == 0 and report["resources"]["rows"] == {"create": 1, "skip": ROWS + 44}


def test_migrated_users_sign_in_on_the_server_with_their_passwords(world):
    """(Last: a sign-in may re-hash an imported password, as Appwrite does, and the copies would differ.)"""
    headers = {"X-Appwrite-Project": "default"}
    for email, password in (("ada@example.com", ADA_PASSWORD), ("bob@example.com", BOB_PASSWORD)):
        answer = httpx.post(
            world["endpoint"] + "/account/sessions/email",
            headers=headers,
            timeout=30,
            json={"email": email, "password": password},
        )
        assert answer.status_code == 201, answer.text
        wrong = httpx.post(
            world["endpoint"] + "/account/sessions/email",
            headers=headers,
            timeout=30,
            json={"email": email, "password": password + "!"},
        )
        assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--to-data-dir", "x"], "--from-data-dir DIR or --from-endpoint URL"),
        (["--from-data-dir", "nowhere", "--to-data-dir", "x"], "no project 'default'"),
        (
            ["--from-endpoint", "ftp://x", "--from-project", "p", "--from-api-key", "k", "--to-data-dir", "x"],
            "--from-endpoint: expected an http(s) URL",
        ),
        (["--from-endpoint", "http://x", "--to-data-dir", "x"], "needs --from-project and --from-api-key"),
        (["--from-data-dir", "a", "--to-data-dir", "x", "--resources", "rows"], "--resources: expected some of"),
    ],
)
def test_bad_arguments_are_refused_by_name(tmp_path, args, said):
    done = baas_mcp("migrate", *args, cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr, done.stderr


def test_every_resource_the_command_names_has_a_family_that_moves_it():
    assert tuple(FAMILIES) == RESOURCES


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"done": 1, "cursors": {}}'])
def test_a_damaged_state_file_is_refused_by_name_and_nothing_is_written(tmp_path, content):
    source, target = tmp_path / "a", tmp_path / "c"
    build_small = Engine(source, catalog=load_catalog())
    build_small.call("tablesDB.create", {"databaseId": "db", "name": "DB"})
    build_small.close()
    state = tmp_path / "progress.json"
    state.write_text(content)
    done = baas_mcp("migrate", "--from-data-dir", str(source), "--to-data-dir", str(target), "--state", str(state))
    assert done.returncode == 2 and f"--state: {state}" in done.stderr, done.stderr
    assert not (target / "default").exists()


def test_a_terminal_gets_a_progress_bar_with_rate_eta_and_the_overall_share(tmp_path):
    source = tmp_path / "a"
    engine = Engine(source, catalog=load_catalog())
    engine.call("tablesDB.create", {"databaseId": "db", "name": "DB"})
    engine.call("tablesDB.createTable", {"databaseId": "db", "tableId": "t", "name": "T"})
    engine.call("tablesDB.createIntegerColumn", {"databaseId": "db", "tableId": "t", "key": "n", "required": False})
    engine.call("tablesDB.createRows", {"databaseId": "db", "tableId": "t", "rows": [{"n": n} for n in range(250)]})
    engine.close()
    command = [str(COMMAND), "migrate", "--from-data-dir", str(source), "--to-data-dir", str(tmp_path / "c")]
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(command[0], command)
    shown = b""
    with contextlib.suppress(OSError):
        while piece := os.read(terminal, 65536):
            shown += piece
    assert os.waitpid(pid, 0)[1] == 0
    text = shown.decode()
    assert "\rrows db/t" in text and "[####################] 250/250" in text and "overall 100%" in text
    assert "/s" in text and "ETA" in text and "migration finished" in text


def test_settings_a_key_may_not_read_are_reported_by_name_not_crashed_on(world):
    """A target key with the platforms' scopes but not the project's: the platforms move, the settings are a
    failure named in the report, and the run ends with its report."""
    key = create_key(world["b"], "platforms.read,platforms.write")["secret"]
    target = ["--to-endpoint", world["endpoint"], "--to-project", "default", "--to-api-key", key]
    code, report, _ = migrate("--from-data-dir", str(world["a"]), *target, "--resources", "project", cwd=world["root"])
    assert code == 1
    failed = [note for note in report["notes"] if note["kind"] == "failed"]
    assert [note["resource"] for note in failed] == ["project settings"], failed
    assert "project.read" in failed[0]["message"]
    assert report["resources"]["platforms"]
