"""One line of the stdio transport read as a JSON-RPC message, or as the error that answers it.

A line is a message for the server when it is UTF-8 JSON (no NaN or Infinity), at most
MAX_MESSAGE_BYTES long, nested at most MAX_DEPTH deep, and a valid JSON-RPC envelope. Anything else
is refused with the JSON-RPC error that fits: -32700 when it cannot be read, -32600 when it is not a
request, -32602 when only its params are wrong. The refusal answers the request's id when that can
be read for certain (from a top-level member that parsed whole, even if the line breaks further on),
and `null` otherwise, as JSON-RPC 2.0 asks. Malformed notifications and responses are never answered.
Strings holding lone surrogates (`"\\ud800"`) are JSON and pass; the tools refuse them by field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import NoReturn

from mcp.shared.message import SessionMessage
from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    RequestId,
    jsonrpc_message_adapter,
)
from pydantic import ValidationError

from ..nesting import depth_of

# The most one message may take, on every transport: room for the largest file a bucket takes (30 MB)
# as a base64 data URL, the way a remote caller sends a file.
MAX_MESSAGE_BYTES = 42 * 1024 * 1024
# How deep arrays and objects may nest in a message: about what the SDK's HTTP transports parse,
# and well within what the parser and the server handle without deep recursion.
MAX_DEPTH = 200
TOO_DEEP = f"Parse error: arrays and objects nest deeper than {MAX_DEPTH} levels"
WHITESPACE = re.compile(r"[ \t\n\r]*")
KINDS = {list: "an array (batches are not supported)", str: "a string", bool: "a boolean", type(None): "null"}


class NotJSON(ValueError):
    """NaN, Infinity or -Infinity: Python reads them, JSON has no such values."""


def refuse_constant(name: str) -> NoReturn:
    raise NotJSON(f"{name} is not a JSON value")


DECODER = json.JSONDecoder(parse_constant=refuse_constant)


@dataclass(frozen=True)
class Refusal:
    """A line that is not a message for the server: the error that says why, the request id it answers
    (None: unknown, answered with `"id": null`), and whether it is answered at all."""

    error: ErrorData
    request_id: RequestId | None = None
    answered: bool = True


def read_message(line: bytes, length: int) -> SessionMessage | Refusal | None:
    """The message on `line`, a Refusal, or None for a blank line. `length` is the line's length in bytes;
    over MAX_MESSAGE_BYTES, `line` holds only its first MAX_MESSAGE_BYTES."""
    if length > MAX_MESSAGE_BYTES:
        problem = f"the message has {length} bytes; one message may have at most {MAX_MESSAGE_BYTES}"
        return refusal(INVALID_REQUEST, f"Invalid Request: {problem}", line)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        return refusal(PARSE_ERROR, f"Parse error: the message is not UTF-8 (byte {error.start})", line)
    if not text.strip(" \t\r"):
        return None
    try:
        data = DECODER.decode(text)
    except (json.JSONDecodeError, NotJSON) as error:
        return refusal(PARSE_ERROR, f"Parse error: {error}", line)
    except ValueError:
        return refusal(PARSE_ERROR, "Parse error: a number has too many digits", line)
    except RecursionError:
        return refusal(PARSE_ERROR, TOO_DEEP, line)
    # Counting brackets is cheap, and a message with few of them cannot nest deep.
    if text.count("[") + text.count("{") > MAX_DEPTH and depth_of(data) > MAX_DEPTH:
        return refusal(PARSE_ERROR, TOO_DEEP, line)
    if not isinstance(data, dict):
        kind = KINDS.get(type(data), "a number")
        return Refusal(ErrorData(code=INVALID_REQUEST, message=f"Invalid Request: expected an object, got {kind}"))
    if "method" in data and "id" in data and as_request_id(data["id"]) is None:
        return envelope_refusal(data)  # a request the SDK would take for a notification
    try:
        return SessionMessage(jsonrpc_message_adapter.validate_python(data, by_name=False))
    except ValidationError:
        return envelope_refusal(data)


def refusal(code: int, message: str, line: bytes) -> Refusal:
    return Refusal(ErrorData(code=code, message=message), readable_id(line))


def envelope_refusal(data: dict) -> Refusal:
    """Why a JSON object is not a JSON-RPC message; notifications and responses get no answer."""
    method, request_id = data.get("method"), as_request_id(data.get("id"))
    unanswered = ("id" not in data and isinstance(method, str)) or (
        method is None and ("result" in data or "error" in data)
    )
    code = INVALID_REQUEST
    if data.get("jsonrpc") != "2.0":
        message = 'Invalid Request: "jsonrpc" must be "2.0"'
    elif "id" in data and request_id is None:
        message = 'Invalid Request: "id" must be a string or an integer'
    elif not isinstance(method, str):
        message = 'Invalid Request: "method" must be a string'
    else:
        code, message = INVALID_PARAMS, 'Invalid params: "params" must be an object'
    return Refusal(ErrorData(code=code, message=message), request_id, answered=not unanswered)


def as_request_id(value: object) -> RequestId | None:
    """`value` if it can be a JSON-RPC request id (a string or an integer), else None."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def readable_id(line: bytes) -> RequestId | None:
    """The id of a line that is not a message, where it can be read for certain; bytes that are not
    UTF-8 read as U+FFFD, and an id holding one is not certain."""
    found = leading_id(line.decode("utf-8", "replace"))
    return None if isinstance(found, str) and "\ufffd" in found else found


def leading_id(text: str) -> RequestId | None:
    """The "id" member of the JSON object that `text` starts with, read member by member so that text
    broken further on (cut short, nested too deep, not JSON at its end) still gives it. A member counts
    only if it parsed whole and a "," or "}" follows it; a nested "id" never counts."""
    found = None
    position = skip(text, 0)
    if not text.startswith("{", position):
        return None
    position += 1
    try:
        while True:
            key, position = DECODER.raw_decode(text, skip(text, position))
            position = skip(text, position)
            if not isinstance(key, str) or not text.startswith(":", position):
                return found
            value, position = DECODER.raw_decode(text, skip(text, position + 1))
            position = skip(text, position)
            if not text.startswith((",", "}"), position):
                return found
            if key == "id":
                found = as_request_id(value)
            if text.startswith("}", position):
                return found
            position += 1
    except (ValueError, RecursionError):
        return found


def skip(text: str, position: int) -> int:
    """The position of the first non-whitespace character at or after `position`."""
    return WHITESPACE.match(text, position).end()
