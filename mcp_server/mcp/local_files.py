"""Opening the files an agent names by path, under the rule of who is asking.

A file parameter (`storage.createFile`'s `file`, a deployment's `code`) given as text through the
MCP tools or `baas-mcp call` is a data URL (taken anywhere) or a path on this machine:
- the local user (the stdio transport, `baas-mcp call`) may name any file they can read; a
  relative path starts at the current directory and `~` is their home;
- a remote caller (the HTTP transport) may name none, unless the server was started with
  `--files-root DIR`: then only a path that resolves inside DIR (symlinks and `..` followed), which
  is opened one folder at a time from DIR without following links, so nothing swapped in meanwhile
  leads outside; a relative path starts at DIR;
- whoever asks, only a regular file is read: never a device, FIFO or socket, and nothing under
  /proc, /sys or /dev. The file is opened without blocking and stays open for the call, which
  checks its size before reading it in bounded pieces (uploads.LocalFile).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePath

from ..catalog import Operation
from ..engine.errors import invalid_argument
from ..settings import Settings
from ..uploads import LocalFile, Upload, from_data_url

KERNEL_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))
FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
NO_LINKS = getattr(os, "O_NOFOLLOW", 0)
FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | NO_LINKS | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def files_opened(op: Operation, params: dict, settings: Settings) -> Iterator[dict]:
    """`params` with each file parameter given as text (a data URL or a path) replaced by its content,
    open for the duration of the block."""
    opened: list[LocalFile] = []
    result = dict(params)
    try:
        for name in op.file_params:
            value = params.get(name)
            if isinstance(value, str):
                result[name] = file_from_text(name, value, settings, opened)
        yield result
    finally:
        for file in opened:
            file.close()


def file_from_text(name: str, value: str, settings: Settings, opened: list[LocalFile]) -> Upload | LocalFile:
    if value.startswith("data:"):
        return from_data_url(name, value)
    file = open_local(name, value, settings)
    opened.append(file)
    return file


def open_local(name: str, value: str, settings: Settings) -> LocalFile:
    """The regular file `value` names, opened if `settings` let the caller name it; else an error naming `name`."""
    if not value or "\0" in value:
        raise invalid_argument(f"Invalid `{name}` param: expected the path of a local file or a data: URL")
    if settings.local_files:
        target = Path(value).expanduser().resolve()
        refuse_kernel_tree(name, value, target)
        descriptor = attempt(name, value, lambda: os.open(target, FILE_FLAGS))
    elif settings.files_root is not None:
        root = settings.files_root.resolve()
        target = (root / value).resolve()
        if not target.is_relative_to(root) or target == root:
            raise invalid_argument(
                f"Invalid `{name}` param: {value!r} is outside the folder this server reads files from (--files-root)"
            )
        refuse_kernel_tree(name, value, target)
        descriptor = attempt(name, value, lambda: open_beneath(root, target.relative_to(root)))
    else:
        raise invalid_argument(
            f"Invalid `{name}` param: this server does not read files from its own disk for remote callers; "
            "send the content as a data URL (data:TYPE;name=FILE;base64,CONTENT), or start the server with "
            "--files-root DIR to allow paths inside DIR"
        )
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise invalid_argument(f"Invalid `{name}` param: {value!r} is not a regular file")
    return LocalFile(name, descriptor, target.name, status.st_size)


def refuse_kernel_tree(name: str, value: str, target: Path) -> None:
    if any(target == tree or target.is_relative_to(tree) for tree in KERNEL_TREES):
        raise invalid_argument(f"Invalid `{name}` param: {value!r} is not a regular file")


def open_beneath(root: Path, relative: PurePath) -> int:
    """A descriptor of `root/relative`, opened one folder at a time without following any link (where the
    system cannot open relative to a folder, the resolved path is opened directly)."""
    if os.open not in os.supports_dir_fd:
        return os.open(root / relative, FILE_FLAGS)
    folder = os.open(root, FOLDER_FLAGS & ~NO_LINKS)
    try:
        for part in relative.parts[:-1]:
            inner = os.open(part, FOLDER_FLAGS, dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(relative.parts[-1], FILE_FLAGS | NO_LINKS, dir_fd=folder)
    finally:
        os.close(folder)


def attempt(name: str, value: str, opener) -> int:
    try:
        return opener()
    except OSError as error:
        raise invalid_argument(
            f"Invalid `{name}` param: expected the path of a readable local file (or a data: URL); cannot read "
            f"{value!r}: {error.strerror}"
        ) from None
