"""When a function runs by itself: at the ticks of its cron `schedule`, and at the `scheduledAt` of an execution.

- `schedule` is checked as Appwrite 1.9.6 checks it (dragonmantank/cron-expression): empty, or five fields or a
  macro such as `@hourly`, with a next run that exists (`0 0 30 2 *` has none). Ticks are computed in UTC with
  croniter. `_function_schedules` keeps the last tick handled of each function that has a schedule, starting at
  the moment the schedule was set. At time `now` a function is due when the latest tick at or before `now` is
  later than that: it fires once if it is enabled and has an active deployment (a tick passed while it is not is
  skipped), and that tick becomes the last one. Ticks missed while no server ran fire once, at the first look
  after the start, not once each (Appwrite, whose scheduler only looks ahead, fires none of them).
- `scheduledAt` is checked as Appwrite checks it: only with `async`, a date-time in whole minutes more than a
  minute ahead (and before the year 10000). `_scheduled_executions` keeps the request of each scheduled
  execution, sealed with the project's cipher, until it is due; taking it out is what starts it, so an execution
  starts once at most. Deleting a scheduled execution (or its function) removes it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import CroniterError, croniter

from ..datetimes import format_datetime, parse_datetime
from ..encryption import Cipher
from ..errors import AppwriteError, invalid_argument

MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
MAX_SCHEDULE_LENGTH = 256
SCHEDULE_AHEAD = timedelta(seconds=60)  # how far ahead of now a scheduledAt must be, at least
LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def valid_cron(expression: str) -> bool:
    fields = expression.split()
    if len(expression) > MAX_SCHEDULE_LENGTH or not (len(fields) == 5 or (len(fields) == 1 and fields[0] in MACROS)):
        return False
    try:
        return croniter.is_valid(expression) and bool(croniter(expression, datetime.now(UTC)).get_next(datetime))
    except (CroniterError, ValueError):
        return False


def check_schedule(value: object) -> str:
    """A function's `schedule` when Appwrite accepts it ("" for none), else the error naming the param."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not valid_cron(value):
        raise invalid_argument("Invalid `schedule` param: String must be a valid cron expression")
    return value


def latest_tick(expression: str, now: datetime) -> datetime:
    """The schedule's last tick at or before `now`."""
    after = now.replace(microsecond=0) + timedelta(seconds=1)
    return croniter(expression, after).get_prev(datetime)


def set_schedule(connection: sqlite3.Connection, function_id: str, schedule: str, now: datetime) -> None:
    """Keep up with a function's schedule as it is saved: ticks count from now on; none without a schedule."""
    if schedule:
        connection.execute(
            "INSERT OR REPLACE INTO _function_schedules (function_id, last_tick) VALUES (?, ?)",
            (function_id, format_datetime(now)),
        )
    else:
        connection.execute("DELETE FROM _function_schedules WHERE function_id = ?", (function_id,))


def ticked(connection: sqlite3.Connection, functions: dict[str, dict], now: datetime) -> list[tuple[str, str]]:
    """(function id, tick) of the functions (of `functions`, models by id) whose schedule ticked since its last tick
    handled."""
    found = []
    for function_id, last in connection.execute("SELECT function_id, last_tick FROM _function_schedules").fetchall():
        function = functions.get(function_id)
        if function is not None and function["schedule"]:
            tick = format_datetime(latest_tick(function["schedule"], now))
            if tick > last:
                found.append((function_id, tick))
    return found


def due_functions(connection: sqlite3.Connection, functions: dict[str, dict], now: datetime) -> list[str]:
    """The functions whose schedule ticked, which are to run now (those enabled with an active deployment); every
    tick passed is handled (inside the caller's write transaction)."""
    due = []
    for function_id, tick in ticked(connection, functions, now):
        connection.execute("UPDATE _function_schedules SET last_tick = ? WHERE function_id = ?", (tick, function_id))
        function = functions[function_id]
        if function["enabled"] and function["deploymentId"]:
            due.append(function_id)
    return due


def anything_due(connection: sqlite3.Connection, functions: dict[str, dict], now: datetime) -> bool:
    """Whether a schedule ticked or a scheduled execution is due (a read, to spare a write when nothing is)."""
    waiting = connection.execute(
        "SELECT EXISTS (SELECT 1 FROM _scheduled_executions WHERE due <= ?)", (format_datetime(now),)
    ).fetchone()[0]
    return bool(waiting) or bool(ticked(connection, functions, now))


def check_scheduled_at(value: object, asynchronous: bool, now: datetime) -> str | None:
    """The moment of a scheduled execution in Appwrite's form (None when `scheduledAt` is not given)."""
    if value is None:
        return None
    if not asynchronous:
        raise AppwriteError(
            "general_bad_request",
            "Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.",
            400,
        )
    moment = parse_datetime(value) if isinstance(value, str) and len(value) <= 100 else None
    if moment is None or moment.second or moment.microsecond or moment - now <= SCHEDULE_AHEAD or moment > LATEST:
        raise AppwriteError(
            "general_bad_request",
            "Execution schedule must be a valid date, and at least 1 minute from now (`scheduledAt`: whole "
            "minutes in ISO 8601, e.g. 2030-01-01T09:30:00.000+00:00)",
            400,
        )
    return format_datetime(moment)


@dataclass(frozen=True)
class Scheduled:
    """A scheduled execution taken out to run: who asked for it, and the request it runs with."""

    execution_id: str
    function_id: str
    user_id: str
    request: dict


def schedule_execution(connection: sqlite3.Connection, cipher: Cipher, scheduled: Scheduled, due: str) -> None:
    connection.execute(
        "INSERT INTO _scheduled_executions (execution_id, function_id, due, user_id, request) VALUES (?, ?, ?, ?, ?)",
        (
            scheduled.execution_id,
            scheduled.function_id,
            due,
            scheduled.user_id,
            cipher.encrypt(json.dumps(scheduled.request)),
        ),
    )


def take_due_executions(connection: sqlite3.Connection, cipher: Cipher, now: datetime) -> list[Scheduled]:
    """The scheduled executions due at `now`, oldest first, taken out (inside the caller's write transaction)."""
    rows = connection.execute(
        "SELECT execution_id, function_id, user_id, request FROM _scheduled_executions WHERE due <= ? ORDER BY due",
        (format_datetime(now),),
    ).fetchall()
    connection.executemany("DELETE FROM _scheduled_executions WHERE execution_id = ?", [(row[0],) for row in rows])
    return [Scheduled(row[0], row[1], row[2], json.loads(cipher.decrypt(row[3]))) for row in rows]


def forget(connection: sqlite3.Connection, function_id: str) -> None:
    """A deleted function's schedule and scheduled executions."""
    connection.execute("DELETE FROM _function_schedules WHERE function_id = ?", (function_id,))
    connection.execute("DELETE FROM _scheduled_executions WHERE function_id = ?", (function_id,))


def forget_execution(connection: sqlite3.Connection, execution_id: str) -> None:
    connection.execute("DELETE FROM _scheduled_executions WHERE execution_id = ?", (execution_id,))


def pending(connection: sqlite3.Connection) -> bool:
    """Whether any function has a schedule or an execution waits for its time."""
    return bool(
        connection.execute(
            "SELECT EXISTS (SELECT 1 FROM _function_schedules) OR EXISTS (SELECT 1 FROM _scheduled_executions)"
        ).fetchone()[0]
    )
