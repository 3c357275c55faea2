"""The ping service: an SDK's first request, to check its endpoint and project.

`ping.get` answers the text `Pong!`, as Appwrite's route does, and counts the ping on the project: how many
(`ping_count`) and when the last came (`pinged_at`), kept in the project's `_meta` table, which Appwrite
keeps as the project's pingCount and pingedAt.
"""

from __future__ import annotations

from ..datetimes import now_iso
from ..registry import Call, handles

PONG = "Pong!"
UPSERT = "INSERT INTO _meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"


@handles("ping.get")
def ping(call: Call) -> str:
    with call.project.db.transaction() as connection:
        row = connection.execute("SELECT value FROM _meta WHERE key = 'ping_count'").fetchone()
        connection.execute(UPSERT, ("ping_count", str(int(row["value"]) + 1 if row else 1)))
        connection.execute(UPSERT, ("pinged_at", now_iso()))
    return PONG

