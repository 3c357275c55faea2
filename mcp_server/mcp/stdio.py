"""The stdio transport: JSON-RPC messages, one per line, on the process's stdin and stdout.

While it serves, the protocol reads and writes private copies of descriptors 0 and 1; fd 0 then
reads the null device and fd 1 writes to stderr, so nothing else in the process (a stray print, a
child process) can take the client's input or write into the protocol. Input is read in chunks and
no line is held beyond the limit for one message; each line becomes a message for the server or is
answered at once with the error that fits (stdio_messages), and the next line is served either way.
Output is one UTF-8 JSON message a line, whatever strings it carries.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from typing import BinaryIO

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCMessage
from pydantic_core import PydanticSerializationError

from .stdio_messages import MAX_MESSAGE_BYTES, Refusal, read_message

CHUNK_BYTES = 64 * 1024

logger = logging.getLogger("baas_mcp")


@contextlib.asynccontextmanager
async def stdio_streams() -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage], MemoryObjectSendStream[SessionMessage]]
]:
    """The client's messages and a stream for the server's, as `Server.run` takes them; served until
    the client ends its input and the server has closed its stream."""
    with claimed_stdio() as (wire_in, wire_out):
        incoming, received = anyio.create_memory_object_stream[SessionMessage](0)
        outgoing, to_write = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as group:
            group.start_soon(read_messages, wire_in, incoming, outgoing.clone())
            group.start_soon(write_messages, wire_out, to_write)
            yield received, outgoing


@contextlib.contextmanager
def claimed_stdio() -> Iterator[tuple[int, int]]:
    """Private descriptors for the client's input and output; fd 0 and fd 1 point elsewhere until exit."""
    wire_in, wire_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    try:
        yield wire_in, wire_out
    finally:
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)
        # wire_in stays open: a reading thread may still wait on it, and must not be handed another file.
        os.close(wire_out)


class Lines:
    """A byte stream cut at newlines; of a line longer than `limit` bytes only the first `limit` are kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.length = 0

    def feed(self, chunk: bytes) -> Iterator[tuple[bytes, int]]:
        """The lines that `chunk` completes, each with its whole length in bytes."""
        *complete, rest = chunk.split(b"\n")
        for piece in complete:
            self.add(piece)
            yield self.take()
        self.add(rest)

    def end(self) -> Iterator[tuple[bytes, int]]:
        """The last line, if the input ended without a newline after it."""
        if self.length:
            yield self.take()

    def add(self, piece: bytes) -> None:
        self.length += len(piece)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += piece[:room]

    def take(self) -> tuple[bytes, int]:
        line = (bytes(self.kept), self.length)
        self.kept.clear()
        self.length = 0
        return line


async def read_messages(
    fd: int, messages: MemoryObjectSendStream[SessionMessage], answers: MemoryObjectSendStream[SessionMessage]
) -> None:
    """Pass each line's message to the server, or answer it with its refusal; until the input ends."""
    async with messages, answers:
        lines = Lines(MAX_MESSAGE_BYTES)
        while chunk := await anyio.to_thread.run_sync(os.read, fd, CHUNK_BYTES, abandon_on_cancel=True):
            for line, length in lines.feed(chunk):
                await deliver(read_message(line, length), messages, answers)
        for line, length in lines.end():
            await deliver(read_message(line, length), messages, answers)


async def deliver(
    item: SessionMessage | Refusal | None,
    messages: MemoryObjectSendStream[SessionMessage],
    answers: MemoryObjectSendStream[SessionMessage],
) -> None:
    if isinstance(item, SessionMessage):
        await messages.send(item)
    elif item is not None:
        logger.warning("refused a message from the client: %s", item.error.message)
        if item.answered:
            await answers.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=item.request_id, error=item.error)))


async def write_messages(fd: int, messages: MemoryObjectReceiveStream[SessionMessage]) -> None:
    """Write each message as one line, until every sender has closed its stream."""
    with os.fdopen(fd, "wb", closefd=False) as out:
        async with messages:
            async for item in messages:
                await anyio.to_thread.run_sync(write_line, out, encoded(item.message))


def write_line(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()


def encoded(message: JSONRPCMessage) -> bytes:
    """One line of UTF-8 JSON; strings that UTF-8 cannot carry (lone surrogates) are written as JSON escapes."""
    try:
        text = message.model_dump_json(by_alias=True, exclude_unset=True)
    except PydanticSerializationError:
        text = json.dumps(message.model_dump(mode="json", by_alias=True, exclude_unset=True), separators=(",", ":"))
    return text.encode() + b"\n"
