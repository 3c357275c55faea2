"""Appwrite-shaped errors: `{"message", "code", "type", "version"}` with Appwrite's type names.

Every failure of the engine is an AppwriteError; the REST app, the CLI and the MCP tools render it
as Appwrite does. Codes are Appwrite's default HTTP status for each type.
"""

from __future__ import annotations

API_VERSION = "1.8.1"

# Type -> HTTP status, for the types the engine raises (Appwrite's app/config/errors.php).
ERROR_CODES: dict[str, int] = {
    "general_unknown": 500,
    "general_access_forbidden": 401,
    "general_unauthorized_scope": 401,
    "general_argument_invalid": 400,
    "general_query_invalid": 400,
    "general_query_limit_exceeded": 400,
    "general_cursor_not_found": 400,
    "general_not_implemented": 405,
    "general_route_not_found": 404,
    "general_bad_request": 400,
    "user_unauthorized": 401,
    "api_key_expired": 401,
    "key_not_found": 404,
    "database_not_found": 404,
    "database_already_exists": 409,
    "database_query_order_null": 400,
    "collection_not_found": 404,
    "collection_already_exists": 409,
    "collection_limit_exceeded": 400,
    "table_not_found": 404,
    "table_already_exists": 409,
    "table_limit_exceeded": 400,
    "document_not_found": 404,
    "document_invalid_structure": 400,
    "document_missing_data": 400,
    "document_missing_payload": 400,
    "document_already_exists": 409,
    "document_update_conflict": 409,
    "document_delete_restricted": 403,
    "row_not_found": 404,
    "row_invalid_structure": 400,
    "row_missing_data": 400,
    "row_missing_payload": 400,
    "row_already_exists": 409,
    "row_update_conflict": 409,
    "row_delete_restricted": 403,
    "attribute_not_found": 404,
    "attribute_unknown": 400,
    "attribute_not_available": 400,
    "attribute_format_unsupported": 400,
    "attribute_default_unsupported": 400,
    "attribute_already_exists": 409,
    "attribute_limit_exceeded": 400,
    "attribute_value_invalid": 400,
    "attribute_type_invalid": 400,
    "attribute_invalid_resize": 400,
    "column_not_found": 404,
    "column_unknown": 400,
    "column_not_available": 400,
    "column_format_unsupported": 400,
    "column_default_unsupported": 400,
    "column_already_exists": 409,
    "column_limit_exceeded": 400,
    "column_value_invalid": 400,
    "column_type_invalid": 400,
    "column_invalid_resize": 400,
    "relationship_value_invalid": 400,
    "index_not_found": 404,
    "index_limit_exceeded": 400,
    "index_already_exists": 409,
    "index_invalid": 400,
    "index_dependency": 409,
    "column_index_not_found": 404,
    "column_index_limit_exceeded": 400,
    "column_index_already_exists": 409,
    "column_index_invalid": 400,
    "column_index_dependency": 409,
    "transaction_not_found": 404,
    "transaction_already_exists": 409,
    "transaction_invalid": 400,
    "transaction_failed": 400,
    "transaction_expired": 410,
    "transaction_conflict": 409,
    "transaction_limit_exceeded": 400,
    "transaction_not_ready": 400,
    "general_invalid_email": 400,
    "general_invalid_phone": 400,
    "general_smtp_disabled": 503,
    "general_rate_limit_exceeded": 429,
    "user_count_exceeded": 400,
    "user_jwt_invalid": 401,
    "user_already_exists": 409,
    "user_blocked": 401,
    "user_invalid_token": 401,
    "user_invalid_credentials": 401,
    "user_session_already_exists": 401,
    "user_not_found": 404,
    "user_email_not_found": 400,
    "user_email_already_exists": 409,
    "user_password_mismatch": 400,
    "password_recently_used": 400,
    "password_personal_data": 400,
    "user_session_not_found": 404,
    "user_identity_not_found": 404,
    "user_phone_already_exists": 409,
    "user_recovery_codes_already_exists": 409,
    "user_authenticator_not_found": 404,
    "user_recovery_codes_not_found": 404,
    "user_authenticator_already_verified": 409,
    "user_phone_not_found": 400,
    "user_missing_id": 400,
    "user_more_factors_required": 401,
    "user_challenge_required": 401,
    "user_invalid_code": 401,
    "user_email_not_verified": 400,
    "user_email_already_verified": 409,
    "user_phone_not_verified": 400,
    "user_phone_already_verified": 409,
    "user_target_not_found": 404,
    "user_target_already_exists": 409,
    "user_api_key_and_session_set": 403,
    "user_jwt_and_cookie_set": 403,
    "user_oauth2_unauthorized": 401,
    "user_oauth2_bad_request": 400,
    "project_provider_disabled": 412,
    "team_not_found": 404,
    "team_invite_not_found": 404,
    "team_invalid_secret": 401,
    "team_membership_mismatch": 404,
    "team_invite_mismatch": 401,
    "team_already_exists": 409,
    "membership_not_found": 404,
    "membership_already_confirmed": 409,
    "membership_deletion_prohibited": 400,
    "membership_downgrade_prohibited": 400,
    "health_queue_size_exceeded": 503,
    "health_certificate_expired": 404,
    "health_invalid_host": 404,
}


class AppwriteError(Exception):
    """A failure with Appwrite's error type; `code` defaults to the type's HTTP status."""

    def __init__(self, type: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.code = code if code is not None else ERROR_CODES.get(type, 500)

    def to_dict(self) -> dict:
        return {"message": self.message, "code": self.code, "type": self.type, "version": API_VERSION}

    def __repr__(self) -> str:
        return f"AppwriteError({self.type!r}, {self.message!r}, {self.code})"


def invalid_argument(message: str) -> AppwriteError:
    return AppwriteError("general_argument_invalid", message)
