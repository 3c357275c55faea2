"""One end of a migration: a backend driven through catalog operations as an API key, with retries of
rate limits and server failures, paged listings, downloads, and errors that name the resource."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from ..catalog import Catalog, Operation
from ..engine.errors import AppwriteError
from ..engine.permissions import ADMIN

PAGE = 100  # Appwrite's default batch size (APP_LIMIT_DATABASE_BATCH), used for reads and bulk writes alike
ATTEMPTS = 6
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 20.0
# A parameter whose value a model holds under a $-name.
MODEL_NAMES = {"permissions": "$permissions"}


class MigrationFailure(Exception):
    """An operation failed for good on one resource; the message names the resource, the operation and why."""

    def __init__(self, resource: str, operation: str, error: AppwriteError) -> None:
        self.reason = f"{operation} failed: {error.type}: {error.message}"
        super().__init__(f"{resource}: {self.reason}")
        self.resource = resource
        self.error = error


def retryable(error: AppwriteError) -> bool:
    """A rate limit, a server failure, or a network error (the HTTP backend answers those as 5xx); not an
    operation the server does not implement (501)."""
    return error.code == 429 or (error.code >= 500 and error.code != 501)


def query(method: str, *values: Any, attribute: str | None = None) -> str:
    """One Appwrite query string, as the SDKs' Query helpers write it."""
    built: dict[str, Any] = {"method": method, "values": list(values)}
    if attribute is not None:
        built["attribute"] = attribute
    return json.dumps(built)


class Endpoint:
    """A backend (EmbeddedBackend or HttpBackend) and a label saying which end it is ("source", "target")."""

    def __init__(self, backend: Any, catalog: Catalog, label: str, first_delay: float = FIRST_DELAY_S) -> None:
        self.backend = backend
        self.catalog = catalog
        self.label = label
        self.first_delay = first_delay

    def operation(self, operation_id: str) -> Operation:
        op = self.catalog.get(operation_id)
        if op is None:
            raise KeyError(operation_id)
        return op

    async def call(self, operation_id: str, params: dict, resource: str) -> Any:
        """The operation's result; 429, 5xx and network errors are tried again with growing pauses."""
        delay = self.first_delay
        for attempt in range(ATTEMPTS):
            try:
                return await self.backend.call(operation_id, params, ADMIN)
            except AppwriteError as error:
                if not retryable(error) or attempt == ATTEMPTS - 1:
                    raise MigrationFailure(f"{self.label} {resource}", operation_id, error) from None
            await anyio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
        raise AssertionError("unreachable")

    async def find(self, operation_id: str, params: dict, resource: str) -> Any | None:
        """The operation's result, or None when the resource (or its parent) does not exist."""
        try:
            return await self.call(operation_id, params, resource)
        except MigrationFailure as failure:
            if failure.error.code == 404:
                return None
            raise

    async def pages(
        self,
        operation_id: str,
        params: dict,
        items: str,
        resource: str,
        queries: list[str] | None = None,
        after: str | None = None,
    ) -> AsyncIterator[list[dict]]:
        """Every item of a listing (after the item `after`), a page at a time, in the server's order (by cursor
        on $id); nothing when the parent is missing."""
        cursor = after
        while True:
            paging = [query("limit", PAGE)] + ([query("cursorAfter", cursor)] if cursor else [])
            answer = await self.find(operation_id, {**params, "queries": (queries or []) + paging}, resource)
            page = answer[items] if answer else []
            if page:
                yield page
            if len(page) < PAGE:
                return
            cursor = page[-1]["$id"]

    async def all(self, operation_id: str, params: dict, items: str, resource: str) -> list[dict]:
        found: list[dict] = []
        async for page in self.pages(operation_id, params, items, resource):
            found.extend(page)
        return found

    def as_backend(self) -> Retrying:
        """This end as a backend whose calls are tried again as `call` tries them (for project_file's steps)."""
        return Retrying(self)

    async def download(self, operation_id: str, params: dict, resource: str) -> Path:
        """A download saved to a private file (the caller removes it once used)."""
        saved = await self.call(operation_id, params, resource)
        return Path(saved["savedTo"])


class Retrying:
    """An endpoint in a backend's shape: `call` answers as the backend does, once retries are spent."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def call(self, operation_id: str, params: dict, auth: Any) -> Any:
        try:
            return await self.endpoint.call(operation_id, params, operation_id)
        except MigrationFailure as failure:
            raise failure.error from None

    async def unavailable(self, operation_id: str) -> str | None:
        return await self.endpoint.backend.unavailable(operation_id)


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def creation_params(op: Operation, model: dict, fixed: dict, aliases: dict | None = None) -> dict:
    """The parameters of `op` that `model` holds under the same name (or an alias: `$permissions` for
    `permissions`, and `aliases` {param: model field}), with the `fixed` ones (ids, parents) on top; a null
    value is left out (the operation's default)."""
    names = MODEL_NAMES | (aliases or {})
    params = {}
    for name, place in op.params.items():
        if place == "path" or name in fixed:
            continue
        field = names.get(name, name)
        if model.get(field) is not None:
            params[name] = model[field]
    return params | fixed


def operation_named(catalog: Catalog, service: str, name: str) -> str | None:
    """The id of `service`'s operation called `name`, in any letter case (createSmtpProvider, createSMTPProvider)."""
    wanted = f"{service}.{name}".lower()
    return next((op.id for op in catalog.operations if op.id.lower() == wanted and not op.deprecated), None)
