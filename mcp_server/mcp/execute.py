"""Running one operation on behalf of an agent: every gate, then the backend.

Gates, in order: the operation exists (else "did you mean"), the server's key holds one of its
scopes (with those Appwrite gives every key; acting as a user adds `public`, which every user holds),
read-only mode allows it, a delete carries confirm, acting as a user needs users.read, and the
parameters match the catalog schema. Then file parameters given as paths or data URLs are opened as
the server's settings allow (local_files.py), and only then does the backend (embedded engine or an
Appwrite server) see the call.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from ..catalog import Catalog, Operation
from ..engine.errors import AppwriteError
from ..engine.keys import SCOPES as KEY_CHOICES
from ..engine.permissions import ADMIN, IMPLICIT_KEY_SCOPES, Auth, key_auth, require_scope
from ..settings import Settings
from ..validation import validate_params
from .local_files import files_opened


class Backend(Protocol):
    """Where operations run: `call` returns the response model, or raises AppwriteError."""

    name: str

    async def call(self, operation_id: str, params: dict, auth: Auth, as_user: str | None = None) -> Any:
        """`as_user`: run as that user (their roles and permissions) instead of as `auth`."""

    async def unavailable(self, operation_id: str) -> str | None:
        """Why this backend cannot run the operation (shown on search hits), or None."""

    async def aclose(self) -> None: ...


# What acting as a user adds to a key's scopes: operations any user may call (an email verification or
# a team invitation carries its own secret). Their own account stays out of reach of a key.
ACTING_SCOPES = frozenset({"public"})


def auth_of(settings: Settings) -> Auth:
    """The caller the backend sees: a key holding the allowed scopes, or the local administrator."""
    return ADMIN if settings.scopes is None else key_auth(settings.scopes)


def check_scope(settings: Settings, op: Operation, as_user: str | None) -> None:
    """Refuse an operation the key may not run, itself or, with `as_user`, as that user."""
    caller = auth_of(settings)
    if as_user is not None and caller.scopes is not None:
        caller = replace(caller, scopes=caller.scopes | ACTING_SCOPES)
    if not caller.has_scope(op.scopes) and (KEY_CHOICES | IMPLICIT_KEY_SCOPES).isdisjoint(op.scopes):
        acting = as_user is None and not ACTING_SCOPES.isdisjoint(op.scopes)
        raise AppwriteError(
            "general_unauthorized_scope",
            f"{op.id} needs the scope {' or '.join(op.scopes)}, which Appwrite gives no API key"
            + ("; run it as a user with as_user" if acting else ""),
        )
    require_scope(caller, op.scopes, op.id)


async def execute(
    backend: Backend,
    catalog: Catalog,
    settings: Settings,
    operation_id: object,
    params: object,
    confirm: bool = False,
    as_user: str | None = None,
) -> Any:
    """The result of one operation, or AppwriteError from the first gate (or the backend) that refuses it."""
    if not isinstance(operation_id, str) or not operation_id:
        raise AppwriteError("general_argument_invalid", "operation must be an operation id such as tablesDB.listRows")
    op = catalog.get(operation_id)
    if op is None:
        hint = catalog.suggest_ids(operation_id)
        raise AppwriteError(
            "general_route_not_found",
            f"Unknown operation {operation_id!r}"
            + (f"; did you mean {', '.join(hint)}?" if hint else "; find one with search_operations"),
        )
    check_scope(settings, op, as_user)
    if settings.read_only and op.access != "read":
        raise AppwriteError(
            "general_access_forbidden", f"{op.id} is a {op.access} operation and this server is read-only", 403
        )
    if op.access == "delete" and confirm is not True:
        raise AppwriteError(
            "general_argument_invalid",
            f"{op.id} deletes data; call execute_operation again with confirm: true if that is intended",
        )
    if as_user is not None:
        # Acting as a user reveals what they can see: only a server allowed to read users may do it.
        require_scope(auth_of(settings), ("users.read",), f"{op.id} with as_user")
    # Defaults stay unset: the backend applies its own (a remote server's may differ from the catalog's).
    checked = validate_params(op, params, fill_defaults=False)
    with files_opened(op, checked, settings) as ready:
        return await backend.call(op.id, ready, auth_of(settings), as_user)
