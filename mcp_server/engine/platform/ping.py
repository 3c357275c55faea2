"""The ping service: an SDK's first request, to check its endpoint and project.

`ping.get` answers the text `Pong!`, as Appwrite's route does, and counts the ping on the project: how many
(`ping_count`) and when the last came (`pinged_at`), kept in the project's `_meta` table, which Appwrite
keeps as the project's pingCount and pingedAt.
"""

from __future__ import annotations

from ..datetimes import now_iso
from ..projectdb import PING_COUNT, PINGED_AT, read_setting, write_setting
from ..registry import Call, handles

PONG = "Pong!"


@handles("ping.get")
def ping(call: Call) -> str:
    with call.project.db.transaction() as connection:
        write_setting(connection, PING_COUNT, read_setting(connection, PING_COUNT, 0) + 1)
        write_setting(connection, PINGED_AT, now_iso())
    return PONG
