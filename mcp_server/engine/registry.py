"""The handler registry: which function runs each catalog operation, and what it receives."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..catalog import Operation
from .outbound import PUBLIC_ONLY, Outbound
from .permissions import Auth


@dataclass(frozen=True)
class Requester:
    """Who sent a request over the network: its address and user agent (sessions and logs show them)."""

    ip: str = ""
    user_agent: str = ""


@dataclass
class Call:
    """One operation being run: the project it runs in, who runs it, its checked parameters, and where the
    requests it sends may go."""

    project: Any
    auth: Auth
    # The databases dialect of the operation's service (tablesDB or the legacy databases API), else None.
    dialect: Any
    op: Operation
    params: dict
    # X-Appwrite-Timestamp: the client's view of the row is this old; a row changed since is not overwritten.
    request_timestamp: str | None = None
    requester: Requester | None = None
    outbound: Outbound = PUBLIC_ONLY
    # The engine: its policies (code_policy.py), and its projects for the operations that act on them rather than
    # in one, or open their own transactions (OWN_TRANSACTIONS).
    engine: Any = None
    # The error to answer with once what the call changed is committed: a handler that must keep a
    # record of its own failure (a transaction marked failed) returns, and the engine raises this.
    failure: Exception | None = None


Handler = Callable[[Call], Any]
HANDLERS: dict[str, Handler] = {}


# Operations whose handler announces its route's events itself (with the payload it has at hand).
ANNOUNCING: set[str] = set()
# Operations the engine runs outside the caller's project transaction, which open the transactions they need, if
# any: those that act on the engine's projects (create, rename, delete one) rather than in the caller's, and those
# that compute without touching project data (text embeddings), which must not hold the project's write lock.
OWN_TRANSACTIONS: set[str] = set()


def handles(
    *operation_ids: str, announces: bool = False, own_transactions: bool = False
) -> Callable[[Handler], Handler]:
    """Register a function as the handler of one or more operation ids; `announces` when it announces
    their events itself, so the engine need not read what a delete removes beforehand; `own_transactions`
    when it runs outside the caller's project transaction (see OWN_TRANSACTIONS)."""

    def register(function: Handler) -> Handler:
        for operation_id in operation_ids:
            if operation_id in HANDLERS:
                raise RuntimeError(f"{operation_id} has two handlers")
            HANDLERS[operation_id] = function
            if announces:
                ANNOUNCING.add(operation_id)
            if own_transactions:
                OWN_TRANSACTIONS.add(operation_id)
        return function

    return register


ConnectionSetup = Callable[[sqlite3.Connection], None]
CONNECTION_SETUP: list[ConnectionSetup] = []


def on_connection(function: ConnectionSetup) -> ConnectionSetup:
    """Register a function to run on every connection a project's database opens (SQL functions)."""
    CONNECTION_SETUP.append(function)
    return function


def prepare_connection(connection: sqlite3.Connection) -> None:
    for setup in CONNECTION_SETUP:
        setup(connection)
