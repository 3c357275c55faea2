"""The handler registry: which function runs each catalog operation, and what it receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..catalog import Operation
from .databases.dialects import Dialect
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
    dialect: Dialect | None
    op: Operation
    params: dict
    # X-Appwrite-Timestamp: the client's view of the row is this old; a row changed since is not overwritten.
    request_timestamp: str | None = None
    requester: Requester | None = None
    outbound: Outbound = PUBLIC_ONLY

    def named_table(self) -> Any:
        """The table (or collection) that the call's databaseId and tableId/collectionId name."""
        return self.project.table(self.params["databaseId"], self.params[self.dialect.table_id], self.dialect)


Handler = Callable[[Call], Any]
HANDLERS: dict[str, Handler] = {}


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of one or more operation ids."""

    def register(function: Handler) -> Handler:
        for operation_id in operation_ids:
            if operation_id in HANDLERS:
                raise RuntimeError(f"{operation_id} has two handlers")
            HANDLERS[operation_id] = function
        return function

    return register
