"""The project's policies (Appwrite 1.9's `project.*Policy` operations): reading and changing the settings
of the project's auth policy, the store `baas-mcp auth-policy` changes too (identity/policy.py), where
the identity services honour them.

Each of the ten policies shows some settings under a field name of its own; a `total` of null turns a
count off (stored as 0). Changing a policy announces projects.[projectId].policies.[policy].update.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AppwriteError
from ..events import announce
from ..identity import policy
from ..listing import limit_offset_page
from ..registry import Call, handles
from .settings import project_model

EVENT = "projects.[projectId].policies.[policy].update"


@dataclass(frozen=True)
class Policy:
    """One policy: its id, its fields and the setting behind each, and the operation that changes it
    (whether that operation answers with the policy itself rather than the project)."""

    id: str
    fields: dict[str, str]
    operation: str
    answers_policy: bool = False


POLICIES = (
    Policy("password-dictionary", {"enabled": "passwordDictionary"}, "updatePasswordDictionaryPolicy"),
    Policy("password-history", {"total": "passwordHistory"}, "updatePasswordHistoryPolicy"),
    Policy(
        "password-strength",
        {
            "min": "passwordMinLength",
            "uppercase": "passwordUppercase",
            "lowercase": "passwordLowercase",
            "number": "passwordNumber",
            "symbols": "passwordSymbols",
        },
        "updatePasswordStrengthPolicy",
        answers_policy=True,
    ),
    Policy("password-personal-data", {"enabled": "personalDataCheck"}, "updatePasswordPersonalDataPolicy"),
    Policy("session-alert", {"enabled": "sessionAlerts"}, "updateSessionAlertPolicy"),
    Policy("session-duration", {"duration": "sessionDuration"}, "updateSessionDurationPolicy"),
    Policy("session-invalidation", {"enabled": "invalidateSessions"}, "updateSessionInvalidationPolicy"),
    Policy("session-limit", {"total": "maxSessions"}, "updateSessionLimitPolicy"),
    Policy("user-limit", {"total": "userLimit"}, "updateUserLimitPolicy"),
    Policy(
        "membership-privacy",
        {
            "userId": "membershipsUserId",
            "userEmail": "membershipsUserEmail",
            "userPhone": "membershipsUserPhone",
            "userName": "membershipsUserName",
            "userMFA": "membershipsMfa",
            "userAccessedAt": "membershipsUserAccessedAt",
        },
        "updateMembershipPrivacyPolicy",
    ),
)
BY_ID = {item.id: item for item in POLICIES}
BY_OPERATION = {f"project.{item.operation}": item for item in POLICIES}


def policy_model(item: Policy, settings: dict) -> dict:
    return {"$id": item.id, **{field: settings[name] for field, name in item.fields.items()}}


@handles("project.listPolicies")
def list_policies(call: Call) -> dict:
    settings = policy.read(call.project.connection)
    models = [policy_model(item, settings) for item in POLICIES]
    total, page = limit_offset_page(models, call.params.get("queries"), count=call.params.get("total", True))
    return {"total": total, "policies": page}


@handles("project.getPolicy")
def get_policy(call: Call) -> dict:
    item = BY_ID.get(call.params["policyId"])
    if item is None:
        raise AppwriteError(
            "general_argument_invalid",
            f"Invalid `policyId` param: Value must be one of ({', '.join(BY_ID)})",
        )
    return policy_model(item, policy.read(call.project.connection))


@handles(*BY_OPERATION, announces=True)
def update_policy(call: Call) -> dict:
    """Change the settings the call names (a parameter left out keeps its setting; a null total is 0)."""
    item = BY_OPERATION[call.op.id]
    changes = {}
    for field, name in item.fields.items():
        value = call.params.get(field)
        if value is None and field == "total" and field in call.params:
            value = 0
        if value is not None:
            changes[name] = value
    settings = policy.store(call.project.connection, changes)
    result = policy_model(item, settings) if item.answers_policy else project_model(call.project)
    announce(call.project, call.auth, EVENT, {"projectId": call.project.id, "policy": item.id}, result)
    return result
