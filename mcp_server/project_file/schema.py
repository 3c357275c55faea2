"""A project's schema in one shape, whether read from a file or from the project: what `plan` compares, and what
`pull` writes as appwrite.config.json."""

from __future__ import annotations

from dataclasses import dataclass, field

from .layout import COLUMN_KEYS, DATABASE_KEYS, INDEX_KEYS, SECTION_ORDER, SECTIONS, TABLE_KEYS, shaped

DATABASES = "tablesDB"
TABLES = "tables"


@dataclass
class Schema:
    """Databases by id, tables by (database id, table id) with their columns and indexes in the file's shape, and
    the flat sections (buckets, teams, …) by section and id. `managed` names the sections the schema states in
    full: a resource of such a section that the target has and the schema lacks is to be deleted. `models` keeps
    the target's own answers for the flat sections, whose update operations replace every setting. `settings` are the
    project's settings in the file's shape (settings.py)."""

    databases: dict[str, dict] = field(default_factory=dict)
    tables: dict[tuple[str, str], dict] = field(default_factory=dict)
    flat: dict[str, dict[str, dict]] = field(default_factory=dict)
    managed: frozenset[str] = frozenset()
    models: dict[str, dict[str, dict]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def as_file(schema: Schema, project: str) -> dict:
    """The schema as appwrite-cli writes appwrite.config.json (an empty section is left out, as the CLI does)."""
    sections: dict[str, list | dict] = {
        DATABASES: [shaped(database, DATABASE_KEYS) for database in schema.databases.values()],
        TABLES: [
            {
                **shaped(table, TABLE_KEYS),
                "columns": [shaped(column, COLUMN_KEYS) for column in table["columns"]],
                "indexes": [shaped(index, INDEX_KEYS) for index in table["indexes"]],
            }
            for table in schema.tables.values()
        ],
    }
    for section in SECTIONS:
        sections[section.name] = [
            shaped(entry, ("$id", *section.keys)) for entry in schema.flat.get(section.name, {}).values()
        ]
    sections["settings"] = schema.settings
    written: dict = {"projectId": project}
    for name in SECTION_ORDER:
        if sections.get(name):
            written[name] = sections[name]
    return written
