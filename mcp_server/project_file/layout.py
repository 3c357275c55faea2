"""appwrite.config.json as appwrite-cli writes it: its sections, the keys of each resource (in the CLI's order),
and the catalog operations that list, create, update and delete each kind of resource.

The key lists follow appwrite-cli's whitelists (lib/config.js of appwrite-cli 12, internal/config of its later
releases); a key the CLI does not keep is neither written nor read.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

# The order of the top-level keys in a written file (appwrite-cli's).
SECTION_ORDER = (
    "projectId",
    "projectName",
    "settings",
    "functions",
    "sites",
    "databases",
    "collections",
    "tablesDB",
    "tables",
    "buckets",
    "teams",
    "webhooks",
    "platforms",
    "topics",
)
DATABASE_KEYS = ("$id", "name", "enabled")
TABLE_KEYS = ("$id", "$permissions", "databaseId", "name", "enabled", "rowSecurity", "columns", "indexes")
COLLECTION_KEYS = ("$id", "$permissions", "databaseId", "name", "enabled", "documentSecurity", "attributes", "indexes")
COLUMN_KEYS = (
    "key", "type", "required", "array", "size", "default", "min", "max", "format", "elements", "relatedTable",
    "relationType", "twoWay", "twoWayKey", "onDelete", "side", "encrypt",
)  # fmt: skip
INDEX_KEYS = ("key", "type", "status", "columns", "orders")
# A legacy collection's words for a table's: documentSecurity, attributes, relatedCollection.
LEGACY_WORDS = {"documentSecurity": "rowSecurity", "attributes": "columns", "relatedCollection": "relatedTable"}
# Keys that say how a column or index is doing on the server, never what it should be.
STATUS_KEYS = ("status", "side")
# How a key of the file is named as an operation's parameter, where the names differ.
PARAMETER_NAMES = {"$permissions": "permissions", "relatedTable": "relatedTableId", "relationType": "type"}
# What method names call each column type: (type, format) -> createXColumn / updateXColumn.
COLUMN_METHODS = {
    ("string", None): "String",
    ("string", "email"): "Email",
    ("string", "enum"): "Enum",
    ("string", "url"): "Url",
    ("string", "ip"): "Ip",
    ("varchar", None): "Varchar",
    ("text", None): "Text",
    ("mediumtext", None): "Mediumtext",
    ("longtext", None): "Longtext",
    ("integer", None): "Integer",
    ("bigint", None): "BigInt",
    ("double", None): "Float",
    ("boolean", None): "Boolean",
    ("datetime", None): "Datetime",
    ("datetime", "datetime"): "Datetime",
    ("point", None): "Point",
    ("linestring", None): "Line",
    ("polygon", None): "Polygon",
    ("relationship", None): "Relationship",
}
COLUMN_TYPES = tuple(sorted({kind for kind, _ in COLUMN_METHODS}))
STRING_FORMATS = tuple(sorted(form for kind, form in COLUMN_METHODS if kind == "string" and form))
# Appwrite's ids and keys: up to 36 characters a-z A-Z 0-9 . - _, not starting with a special character.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
# Columns every table has, which an index may name.
SYSTEM_COLUMNS = ("$id", "$createdAt", "$updatedAt", "$sequence")

# The settings of the flat sections' resources (appwrite-cli's keys, less $id and what lives in other files).
BUCKET_KEYS = (
    "$permissions", "fileSecurity", "name", "enabled", "maximumFileSize", "allowedFileExtensions", "compression",
    "encryption", "antivirus",
)  # fmt: skip
FUNCTION_KEYS = (
    "execute", "name", "enabled", "logging", "runtime", "specification", "scopes", "events", "schedule", "timeout",
    "entrypoint", "commands",
)  # fmt: skip
SITE_KEYS = (
    "name", "enabled", "logging", "timeout", "framework", "buildRuntime", "adapter", "installCommand", "buildCommand",
    "outputDirectory", "fallbackFile", "specification",
)  # fmt: skip
# Each platform type and the key naming its app (a web platform's is its hostname); create and update operations
# are named after the type (project.createApplePlatform).
PLATFORM_FIELDS = {
    "web": "hostname",
    "apple": "bundleIdentifier",
    "android": "applicationId",
    "windows": "packageIdentifierName",
    "linux": "packageName",
}


@dataclass(frozen=True)
class Section:
    """A kind of resource kept as a flat list in the file: its key there, its keys, and its operations. With a
    `variant`, the resource's value of that key (one of `variants`, each with the key it must state: a platform's
    type, and its hostname or app identifier) names its create and update operations ({variant} in their names) and
    cannot change in place."""

    name: str
    kind: str
    keys: tuple[str, ...]
    listing: str
    field: str
    create: str
    update: str
    delete: str
    id_param: str
    loses: str | None
    variant: str | None = None
    variants: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def operation(self, template: str, entry: dict) -> str:
        """The create or update operation for `entry`."""
        return template.format(variant=str(entry.get(self.variant, "")).capitalize()) if self.variant else template


SECTIONS = (
    Section(
        "buckets",
        "bucket",
        BUCKET_KEYS,
        "storage.listBuckets",
        "buckets",
        "storage.createBucket",
        "storage.updateBucket",
        "storage.deleteBucket",
        "bucketId",
        "its files",
    ),
    Section(
        "teams",
        "team",
        ("name",),
        "teams.list",
        "teams",
        "teams.create",
        "teams.updateName",
        "teams.delete",
        "teamId",
        "its memberships",
    ),
    Section(
        "topics",
        "topic",
        ("name", "subscribe"),
        "messaging.listTopics",
        "topics",
        "messaging.createTopic",
        "messaging.updateTopic",
        "messaging.deleteTopic",
        "topicId",
        "its subscribers",
    ),
    Section(
        "functions",
        "function",
        FUNCTION_KEYS,
        "functions.list",
        "functions",
        "functions.create",
        "functions.update",
        "functions.delete",
        "functionId",
        "its deployments, variables and executions",
    ),
    Section(
        "sites",
        "site",
        SITE_KEYS,
        "sites.list",
        "sites",
        "sites.create",
        "sites.update",
        "sites.delete",
        "siteId",
        "its deployments and variables",
    ),
    Section(
        "webhooks",
        "webhook",
        ("name", "url", "events", "enabled", "tls"),
        "webhooks.list",
        "webhooks",
        "webhooks.create",
        "webhooks.update",
        "webhooks.delete",
        "webhookId",
        "its undelivered events",
    ),
    Section(
        "platforms",
        "platform",
        ("name", "type", *PLATFORM_FIELDS.values()),
        "project.listPlatforms",
        "platforms",
        "project.create{variant}Platform",
        "project.update{variant}Platform",
        "project.deletePlatform",
        "platformId",
        None,
        variant="type",
        variants=PLATFORM_FIELDS,
    ),
)


def column_method(column: dict) -> str | None:
    """How method names call a column's type (String, Email, BigInt, …), or None for a type Appwrite lacks."""
    form = column.get("format") or None
    return COLUMN_METHODS.get((column.get("type"), form if column.get("type") in ("string", "datetime") else None))


def parameter(key: str) -> str:
    """The operation parameter a key of the file goes to."""
    return PARAMETER_NAMES.get(key, key)


def stated(entry: dict) -> dict:
    """The settings a flat resource gives a value: Appwrite's models answer "" or null for one never set, which its
    create and update operations take as leaving the parameter out."""
    return {key: value for key, value in entry.items() if value not in ("", None)}


def shaped(entry: dict, keys: tuple[str, ...]) -> dict:
    """`entry` with only `keys`, in that order (a key it lacks stays out)."""
    return {key: entry[key] for key in keys if key in entry}
