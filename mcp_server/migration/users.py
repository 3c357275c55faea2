"""Users: imported with their password hash (the import operation of their hashing algorithm), then their
phone, name, labels, prefs, status, verifications, MFA and messaging targets (same ids) set as in the
source. Sessions, OAuth2 identities and authenticator secrets cannot move and are said so.
"""

from __future__ import annotations

from .context import Migration, checksum, pick
from .endpoint import Endpoint
from .report import CANNOT_MOVE, CREATE, SKIP, UPDATE

# The import operation of each hashing algorithm (hashOptions.type), and {its parameter: hashOptions field}.
IMPORTS: dict[str, tuple[str, dict[str, str]]] = {
    "argon2": ("users.createArgon2User", {}),
    "bcrypt": ("users.createBcryptUser", {}),
    "md5": ("users.createMD5User", {}),
    "phpass": ("users.createPHPassUser", {}),
    "sha": ("users.createSHAUser", {"passwordVersion": "version"}),
    "scrypt": (
        "users.createScryptUser",
        {
            "passwordSalt": "salt",
            "passwordCpu": "costCpu",
            "passwordMemory": "costMemory",
            "passwordParallel": "costParallel",
            "passwordLength": "length",
        },
    ),
    "scryptMod": (
        "users.createScryptModifiedUser",
        {"passwordSalt": "salt", "passwordSaltSeparator": "saltSeparator", "passwordSignerKey": "signerKey"},
    ),
}
# A user field and the operation (and its parameter) that sets it, in the order they are set.
SETTERS = (
    ("name", "users.updateName", "name"),
    ("email", "users.updateEmail", "email"),
    ("phone", "users.updatePhone", "number"),
    ("labels", "users.updateLabels", "labels"),
    ("prefs", "users.updatePrefs", "prefs"),
    ("status", "users.updateStatus", "status"),
    ("emailVerification", "users.updateEmailVerification", "emailVerification"),
    ("phoneVerification", "users.updatePhoneVerification", "phoneVerification"),
    ("mfa", "users.updateMfa", "mfa"),
)
USER_FIELDS = ("$id", "password", "hash", *(field for field, _, _ in SETTERS))
TARGET_FIELDS = ("$id", "providerType", "identifier", "providerId", "name")


async def migrate_users(m: Migration) -> None:
    with_mfa = 0
    async for page in m.source.pages("users.list", {}, "users", "users"):
        m.progress.start("users", len(page))
        with_mfa += sum(1 for user in page if user.get("mfa"))
        await m.each(page, lambda user: move_user(m, user))
    m.report.note(CANNOT_MOVE, "sessions", "sessions and OAuth2 identities stay behind: every user signs in again")
    if with_mfa:
        m.report.note(
            CANNOT_MOVE,
            "mfa",
            f"{with_mfa} users keep MFA on, but authenticator app secrets and recovery codes cannot be read: "
            "those users add their authenticator again (email and phone factors keep working)",
        )


async def move_user(m: Migration, user: dict) -> None:
    name = f"user {user['$id']}"
    there = await m.target.find("users.get", {"userId": user["$id"]}, name)
    if there is None:
        if m.plan("users", CREATE):
            await bring_in_line(m, user, await create_user(m, user, name), name)
    else:
        if user.get("password") and (there.get("password"), there.get("hash")) != (user["password"], user["hash"]):
            m.report.note(CANNOT_MOVE, name, "is in the target with another password, which is left as it is")
        same = comparable(there) == comparable(user)
        if m.plan("users", SKIP if same else UPDATE) and not same:
            await bring_in_line(m, user, there, name)
    m.progress.advance("users")


async def bring_in_line(m: Migration, user: dict, there: dict, name: str) -> None:
    """Set the fields and targets of the target's user that differ from the source's."""
    changed = [(field, op, param) for field, op, param in SETTERS if there.get(field) != user.get(field)]
    for field, op, param in changed:
        await m.target.call(op, {"userId": user["$id"], param: user.get(field)}, f"{name} {field}")
    if changed:  # a new email or phone brings an automatic target
        there = await m.target.call("users.get", {"userId": user["$id"]}, name)
    await sync_targets(m, user, there, name)


async def create_user(m: Migration, user: dict, name: str) -> dict:
    """The user made in the target with the same id, email and password hash (or no password)."""
    base = {"userId": user["$id"]} | ({"name": user["name"]} if user.get("name") else {})
    options = user.get("hashOptions") or {}
    imported = IMPORTS.get(options.get("type", ""))
    if user.get("password") and imported and user.get("email"):
        op, fields = imported
        params = base | {"email": user["email"], "password": user["password"]}
        params |= {param: options[field] for param, field in fields.items() if field in options}
        return await m.target.call(op, params, name)
    if user.get("password"):
        m.report.note(CANNOT_MOVE, name, "its password (no email, or a hash Appwrite cannot import): it is reset")
    params = base | {"email": user.get("email") or None, "phone": user.get("phone") or None}
    return await m.target.call("users.create", {key: value for key, value in params.items() if value}, name)


async def sync_targets(m: Migration, user: dict, there: dict, name: str) -> None:
    """The user's messaging targets with their source ids (an automatic one for the same address goes)."""
    present = {target["$id"]: target for target in there.get("targets", [])}
    for target in user.get("targets", []):
        if target["$id"] in present:
            continue
        for other in present.values():
            if (other["providerType"], other["identifier"]) == (target["providerType"], target["identifier"]):
                await m.target.call("users.deleteTarget", {"userId": user["$id"], "targetId": other["$id"]}, name)
        params = {"userId": user["$id"], **{key: target.get(key) for key in TARGET_FIELDS[1:] if target.get(key)}}
        await m.target.call("users.createTarget", params | {"targetId": target["$id"]}, f"{name} target")


def comparable(user: dict) -> dict:
    """A user's moved fields; an argon2 hash carries its own parameters, so its options are not compared."""
    options = user.get("hashOptions") or {}
    return pick(user, USER_FIELDS) | {
        "hashOptions": {"type": "argon2"} if options.get("type") == "argon2" else options,
        "targets": sorted((pick(target, TARGET_FIELDS) for target in user.get("targets", [])), key=str),
    }


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    users = sorted(await endpoint.all("users.list", {}, "users", "users"), key=lambda user: user["$id"])
    return {"users": (len(users), checksum(comparable(user) for user in users))}
