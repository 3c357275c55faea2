"""Who is calling and what they may touch: auth contexts, roles, scopes and permission strings.

An Auth carries the caller's scopes (which operations it may run) and roles (which resources it may
see). API keys and the local administrator bypass resource permissions, as in Appwrite; users and
guests are checked against table and row permissions like `read("user:ID")`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .errors import AppwriteError, invalid_argument

ACTIONS = ("create", "read", "update", "delete")
# `write` is shorthand for create + update + delete.
WRITE_ACTIONS = ("create", "update", "delete")
# Rows and files carry only these; `create` is decided by the table or bucket.
ROW_ACTIONS = ("read", "update", "delete", "write")
MAX_PERMISSIONS = 100

# Scopes a session role holds in Appwrite (roles.php): guests, and users on top of them.
GUEST_SCOPES = frozenset(
    "global public home console graphql sessions.write documents.read documents.write rows.read rows.write "
    "files.read files.write locale.read avatars.read executions.write".split()
)
USER_SCOPES = GUEST_SCOPES | frozenset(
    "account teams.read teams.write presences.read presences.write projects.read executions.read "
    "targets.read targets.write subscribers.read subscribers.write assistant.read rules.read".split()
)
# Appwrite 1.9 lets a user flagged as impersonator, and whoever they impersonate, read the project's users
# (to find someone to act as): app/controllers/shared/api.php.
IMPERSONATOR_SCOPES = USER_SCOPES | {"users.read"}

# Scopes Appwrite gives every API key on top of its own (roles.php, the keys role). Never `public` or
# `account`: only guests and users hold those, so an operation that needs one cannot be called with a key.
IMPLICIT_KEY_SCOPES = frozenset({"global", "health.read", "graphql"})

_PERMISSION = re.compile(r'(?P<action>[a-z]+)\("(?P<role>[^"]*)"\)')
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
_LABEL = re.compile(r"[A-Za-z0-9]{1,36}")


@dataclass(frozen=True)
class Auth:
    """The caller of an operation.

    scopes: the scopes held, or None for every scope. roles: the roles held, or None when resource
    permissions do not apply (API keys, the local administrator). user_id: the signed-in user.
    """

    scopes: frozenset[str] | None
    roles: frozenset[str] | None
    user_id: str | None = None
    label: str = "admin"
    # A user's session (None for a JWT without one, keys and guests), and whether the user must still
    # pass a second factor before the session may do anything but finish signing in.
    session_id: str | None = None
    mfa_pending: bool = False
    # The impersonator acting as this user (Appwrite 1.9's X-Appwrite-Impersonate-User-* headers).
    impersonator_id: str | None = None

    @property
    def bypasses_permissions(self) -> bool:
        return self.roles is None

    def has_scope(self, scopes: tuple[str, ...]) -> bool:
        return self.scopes is None or any(scope in self.scopes for scope in scopes)


ADMIN = Auth(scopes=None, roles=None, label="admin")
GUEST = Auth(scopes=GUEST_SCOPES, roles=frozenset({"any", "guests"}), label="guest")


def key_auth(scopes: frozenset[str]) -> Auth:
    """An API key: its scopes (with those every key holds) decide the operations; resource permissions do not apply."""
    return Auth(scopes=frozenset(scopes) | IMPLICIT_KEY_SCOPES, roles=None, label="key")


def user_auth(
    user_id: str,
    *,
    verified: bool = False,
    teams: dict[str, tuple[str, ...]] | None = None,
    memberships: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
    session_id: str | None = None,
    mfa_pending: bool = False,
    impersonator: bool = False,
    impersonator_id: str | None = None,
) -> Auth:
    """A signed-in user with the roles Appwrite gives one: any, users, user:ID, team:ID[/role], ...;
    `impersonator` when the user may impersonate others, `impersonator_id` when someone impersonates them."""
    state = "verified" if verified else "unverified"
    roles = {"any", "users", f"users/{state}", f"user:{user_id}", f"user:{user_id}/{state}"}
    for team, team_roles in (teams or {}).items():
        roles.add(f"team:{team}")
        roles.update(f"team:{team}/{role}" for role in team_roles)
    roles.update(f"member:{membership}" for membership in memberships)
    roles.update(f"label:{label}" for label in labels)
    return Auth(
        scopes=IMPERSONATOR_SCOPES if impersonator or impersonator_id else USER_SCOPES,
        roles=frozenset(roles),
        user_id=user_id,
        label="user",
        session_id=session_id,
        mfa_pending=mfa_pending,
        impersonator_id=impersonator_id,
    )


def require_scope(auth: Auth, scopes: tuple[str, ...], operation: str) -> None:
    if not auth.has_scope(scopes):
        raise AppwriteError(
            "general_unauthorized_scope",
            f"{operation} needs the scope {' or '.join(scopes)}, which this {auth.label} does not have",
        )


def validate_role(role: str) -> None:
    """Raise unless `role` follows Appwrite's grammar: role[:identifier][/dimension]."""
    name, _, dimension = role.partition("/")
    kind, has_id, identifier = name.partition(":")
    valid = False
    if kind in ("any", "guests"):
        valid = not has_id and not dimension
    elif kind == "users":
        valid = not has_id and dimension in ("", "verified", "unverified") and ("/" not in role or dimension)
    elif kind == "user":
        valid = bool(_KEY.fullmatch(identifier)) and dimension in ("", "verified", "unverified")
        valid = valid and ("/" not in role or bool(dimension))
    elif kind == "team":
        valid = bool(_KEY.fullmatch(identifier)) and (
            "/" not in role or bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}", dimension))
        )
    elif kind == "member":
        valid = bool(_KEY.fullmatch(identifier)) and "/" not in role
    elif kind == "label":
        valid = bool(_LABEL.fullmatch(identifier)) and "/" not in role
    if not valid:
        raise invalid_argument(
            f"Invalid permissions param: role {role!r} is not valid; roles are any, guests, users[/verified|"
            "/unverified], user:ID[/verified|/unverified], team:ID[/role], member:ID or label:NAME"
        )


def parse_permissions(values: object, allowed_actions: tuple[str, ...]) -> list[tuple[str, str]]:
    """(action, role) pairs of permission strings, `write` expanded; invalid strings raise."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise invalid_argument(f"Invalid permissions param: expected an array of permission strings, got {values!r}")
    if len(values) > MAX_PERMISSIONS:
        raise invalid_argument(f"Invalid permissions param: at most {MAX_PERMISSIONS} permissions are allowed")
    pairs: list[tuple[str, str]] = []
    for value in values:
        match = _PERMISSION.fullmatch(value) if isinstance(value, str) else None
        if not match or match["action"] not in (*allowed_actions, "write"):
            raise invalid_argument(
                f'Invalid permissions param: {value!r} is not a permission; expected action("role") with action '
                f'one of {", ".join(allowed_actions)}, e.g. read("any") or update("user:ID")'
            )
        validate_role(match["role"])
        actions = (
            [action for action in WRITE_ACTIONS if action in allowed_actions]
            if match["action"] == "write"
            else [match["action"]]
        )
        for action in actions:
            if (action, match["role"]) not in pairs:
                pairs.append((action, match["role"]))
    return pairs


def format_permissions(pairs: list[tuple[str, str]]) -> list[str]:
    return [f'{action}("{role}")' for action, role in pairs]


def normalize_permissions(values: object, allowed_actions: tuple[str, ...]) -> list[str]:
    """Permission strings validated and de-duplicated, with `write` expanded."""
    return format_permissions(parse_permissions(values, allowed_actions))


def granted(permissions: list[str], action: str, auth: Auth) -> bool:
    """Whether the permission strings give `action` to one of the caller's roles."""
    if auth.roles is None:
        return True
    return any(pair_action == action and role in auth.roles for pair_action, role in parse_stored(permissions))


def parse_stored(permissions: list[str]) -> list[tuple[str, str]]:
    """(action, role) pairs of permission strings already validated when they were stored."""
    return [(match["action"], match["role"]) for match in map(_PERMISSION.fullmatch, permissions) if match]


def read_roles(permissions: list[str]) -> list[str]:
    """The roles that stored permissions let read."""
    return list(roles_reading(tuple(permissions)))


@lru_cache(maxsize=4096)
def roles_reading(permissions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(role for action, role in parse_stored(list(permissions)) if action == "read")


def check_grantable(pairs: list[tuple[str, str]], auth: Auth) -> None:
    """A user may only hand out permissions for roles they hold themselves."""
    if auth.roles is None:
        return
    for action, role in pairs:
        if role not in auth.roles:
            raise AppwriteError(
                "user_unauthorized",
                f'Permissions must be one of your own roles: {action}("{role}") names a role you do not have',
            )


def default_row_permissions(auth: Auth) -> list[str]:
    """Rows created by a user belong to that user; rows created with a key carry no permissions."""
    if auth.user_id is None:
        return []
    return [f'{action}("user:{auth.user_id}")' for action in ("read", "update", "delete")]
