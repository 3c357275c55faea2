"""The engine's entry point: `Engine.call(operation_id, params, auth)` on one SQLite file per project.

It checks that the operation exists in the catalog, that the caller holds one of its scopes, and that
the parameters match the catalog schema, then runs the operation's handler. Failures are
AppwriteError with Appwrite's type names; a failed call changes nothing.

Reads run beside the writes, each on a connection of its own, and stop with database_timeout after
`read_timeout` seconds (Appwrite's API gives a database query 15 s). A read inside a transaction
(`transactionId`) sees the transaction's staged writes, which only the write connection holds: it
runs there, under the write lock, bounded the same way. Closing the engine stops running reads at once.

Before any of that, a guest's or user's call must get past the project's switches (services and
sign-in methods switched off: project/switches.py). A committed project.delete closes the project and
removes its folder (project/deletion.py); `deleted_listeners` are told its id.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..catalog import Catalog, load_catalog
from ..validation import validate_params
from .announcements import announce_operation, readers_by_path, resource_before

# Importing the handler modules registers their handlers.
from .databases import columns, indexes, relationships, rows, tables, text_embeddings, transactions  # noqa: F401
from .databases.dialects import DIALECTS
from .errors import AppwriteError
from .events import Retention
from .functions import deployments, executions, functions  # noqa: F401
from .functions import variables as function_variables  # noqa: F401
from .functions.domains import DomainResponse
from .functions.domains import run_request as run_domain_request
from .functions.executor import retire as retire_function_workers
from .functions.triggers import FunctionWorker, has_work, utc_now
from .graphql import service as graphql_service  # noqa: F401
from .identity import account, mfa, teams, users  # noqa: F401
from .identity.identities import (
    SECOND_FACTOR_OPERATIONS,
    impersonated_auth,
    jwt_auth,
    require_user,
    roles_auth,
    session_auth,
)
from .messaging import messages, subscribers, topics  # noqa: F401
from .messaging import providers as messaging_providers  # noqa: F401
from .messaging.scheduler import MessageWorker
from .messaging.scheduler import has_work as messages_pending
from .organization import projects as organization_projects  # noqa: F401
from .outbound import Outbound
from .permissions import ADMIN, GUEST, Auth, require_scope
from .platform import advisor, avatars, health, locale, ping  # noqa: F401
from .presences import connections as presence_connections
from .presences import service as presences_service  # noqa: F401
from .project import api_keys, mock_phones, oauth2, policies, settings, smtp, templates, variables  # noqa: F401
from .project.deletion import remove_folder
from .project.platforms import SETTING as PLATFORM_ORIGINS
from .project.platforms import read_origins
from .project.switches import check_protocol, check_switches
from .projectdb import project_path
from .projects import Project, in_write_transaction
from .proxy import rules as proxy_rules  # noqa: F401
from .proxy.store import by_domain as rules_by_domain
from .readers import closed
from .registry import ANNOUNCING, HANDLERS, OWN_TRANSACTIONS, Call, Handler, Requester
from .sites import deployments as site_deployments  # noqa: F401
from .sites import frameworks, sites  # noqa: F401
from .sites import logs as site_logs
from .sites import variables as site_variables  # noqa: F401
from .sites.hosting import ServedSite, SiteServer, restart_server, server_port, site_to_serve
from .storage import buckets, file_tokens, file_uploads, files, previews  # noqa: F401
from .stream_worker import POLL
from .unimplemented import not_implemented
from .web_origins import PlatformOrigins
from .webhooks import service as webhooks_service  # noqa: F401
from .webhooks.delivery import DeliveryPolicy
from .webhooks.store import current as webhooks_of
from .webhooks.worker import WebhookWorker

DEFAULT_PROJECT = "default"
# Row and document writes share commits with the writes arriving beside them (batching.py); schema
# changes and everything else commit on their own.
BATCHED_GROUPS = frozenset({"rows", "documents"})
DEFAULT_LIST_CACHE_TTL = 5.0
DEFAULT_READ_TIMEOUT = 15.0


class Engine:
    """All projects under one data directory.

    `allow_private_urls` lets the requests operations send (avatars' images and favicons) go to loopback,
    private and reserved addresses, which are refused otherwise (outbound.py). `retention`, when given,
    becomes the event retention of every project this engine opens (events.py). `webhook_policy` sets how
    webhooks are delivered and tried again (webhooks/delivery.py). `no_code` (`--no-code`) turns `runs_code` off:
    function and site deployments and executions are refused (code_policy.py) and no function runs in the
    background. `api_endpoint` is the server's own /v1 URL, given to executions to call back (when known).
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        list_cache_ttl: float = DEFAULT_LIST_CACHE_TTL,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        catalog: Catalog | None = None,
        allow_private_urls: bool = False,
        retention: Retention | None = None,
        webhook_policy: DeliveryPolicy | None = None,
        no_code: bool = False,
        api_endpoint: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.runs_code = not no_code
        self.api_endpoint = api_endpoint
        self.webhook_policy = webhook_policy
        self.outbound = Outbound(allow_private=allow_private_urls)
        self.list_cache_ttl = list_cache_ttl
        self.read_timeout = read_timeout
        self.catalog = catalog or load_catalog()
        self.batched = frozenset(
            op.id for op in self.catalog.operations if op.group in BATCHED_GROUPS and op.access != "read"
        )
        self.readers = readers_by_path(self.catalog)
        self.retention = retention
        self.projects: dict[str, Project] = {}
        self.lock = threading.Lock()
        self.closed = False
        # Called with a project's id once its deletion is done (the REST app forgets what it holds of it).
        self.deleted_listeners: list[Callable[[str], None]] = []

    def project(self, project_id: str = DEFAULT_PROJECT) -> Project:
        with self.lock:
            if self.closed:
                raise closed()
            project = self.projects.get(project_id)
        if project is not None:
            # Another process may have deleted it: its commit shows (a quick look, never waiting for a write).
            project.refresh_if_idle()
            if not project.deleted:
                return project
        with self.lock:
            if self.closed:
                raise closed()
            project = self.projects.get(project_id)
            if project is not None and project.deleted:
                project.close()
                project = None
            if project is None:
                project = self.open_project(project_id)
                self.projects[project_id] = project
            return project

    def open_project(self, project_id: str) -> Project:
        """A project's state; one whose deletion was committed but not finished is removed first."""
        project = Project(self.data_dir, project_id, self.list_cache_ttl, self.retention)
        if not project.deleted:
            return project
        project.close()
        remove_folder(project.db.path.parent)
        return Project(self.data_dir, project_id, self.list_cache_ttl, self.retention)

    def platform_origins(self, project_id: str) -> PlatformOrigins:
        """The hostnames and app schemes the project's platforms let in (cached until they change)."""
        return self.project(project_id).setting(PLATFORM_ORIGINS, read_origins)

    def identify(
        self,
        project_id: str,
        *,
        session: str | None = None,
        jwt: str | None = None,
        impersonate: dict[str, str] | None = None,
    ) -> Auth:
        """The user behind a session value (X-Appwrite-Session or cookie) or an X-Appwrite-JWT, or the
        user they impersonate (`impersonate`: {"id"|"email"|"phone": value}) when they may.

        An unknown or ended session is a guest, as in Appwrite; a JWT that does not check out, or a
        blocked user, is an error.
        """
        state = self.project(project_id)
        with state.reading(self.read_timeout):
            if jwt:
                auth = jwt_auth(state, jwt)
            else:
                try:
                    auth = session_auth(state.connection, session or "")
                except AppwriteError as error:
                    if error.type == "user_blocked":
                        raise
                    return GUEST
            return impersonated_auth(state.connection, auth, impersonate) if impersonate else auth

    def user_auth(self, project_id: str, user_id: str) -> Auth:
        """The Auth of a user by id (their roles, no session): for acting as that user."""
        state = self.project(project_id)
        with state.reading(self.read_timeout):
            record = require_user(state.connection, user_id)
            if not record["status"]:
                raise AppwriteError("user_blocked", f"The user '{user_id}' is blocked.", 401)
            return roles_auth(state.connection, record)

    def check_protocol(self, project_id: str, auth: Auth, protocol: str) -> None:
        """Refuse a guest or user a protocol (`websocket`: realtime) the project switched off."""
        check_protocol(self.project(project_id), auth, protocol)

    def implemented(self, operation_id: str) -> bool:
        return operation_id in HANDLERS

    def call(
        self,
        operation_id: str,
        params: dict | None = None,
        auth: Auth = ADMIN,
        project: str = DEFAULT_PROJECT,
        *,
        request_timestamp: str | None = None,
        requester: Requester | None = None,
        protocol: str | None = None,
    ) -> Any:
        """Run one catalog operation and return its result (a response model, or None for no content).

        `request_timestamp` (X-Appwrite-Timestamp) makes a single-row change fail with a conflict when
        the row was changed after that moment; `protocol` (rest) is the API the call came in by, which
        the project may have switched off for guests and users.
        """
        op = self.catalog.get(operation_id)
        if op is None:
            hint = self.catalog.suggest_ids(operation_id)
            raise AppwriteError(
                "general_route_not_found",
                f"Unknown operation {operation_id!r}" + (f"; did you mean {', '.join(hint)}?" if hint else ""),
            )
        state = self.project(project)
        check_switches(state, op, auth, protocol)
        require_scope(auth, op.scopes, op.id)
        if auth.mfa_pending and op.id not in SECOND_FACTOR_OPERATIONS:
            raise AppwriteError(
                "user_more_factors_required",
                "More factors are required to complete the sign in process: "
                "create an MFA challenge and complete it (account.createMfaChallenge, account.updateMfaChallenge)",
                401,
            )
        checked = validate_params(op, params)
        handler = HANDLERS.get(op.id)
        if handler is None:
            raise not_implemented(op)
        call = Call(
            state, auth, DIALECTS.get(op.service), op, checked, request_timestamp, requester, self.outbound, self
        )
        if op.id in OWN_TRANSACTIONS:
            return handler(call)
        if op.access != "read":
            if op.id in self.batched:
                result = state.writes.run(lambda: self.write(call, handler))
            else:
                result = in_write_transaction(state, lambda: self.write(call, handler))
            if state.deleted:
                self.finish_deletion(state)
            if call.failure is not None:
                raise call.failure
            return result
        if checked.get("transactionId"):
            with state.db.bounded(self.read_timeout):
                state.refresh()
                return handler(call)
        with state.reading(self.read_timeout):
            return handler(call)

    def write(self, call: Call, handler: Handler) -> Any:
        """Run a write and announce its events, inside the transaction that makes the change (one
        transaction for the whole call: what a handler changes is kept only if all of it succeeds,
        unless it answers with `call.failure`)."""
        call.project.announced = set()
        deleting = call.op.access == "delete" and call.op.events and call.op.id not in ANNOUNCING
        before = resource_before(call, self.readers.get(call.op.path)) if deleting else None
        result = handler(call)
        announce_operation(call, result, before)
        return result

    def has_project(self, project_id: str) -> bool:
        """Whether a project exists: `default` always does, others once their database does."""
        try:
            return project_id == DEFAULT_PROJECT or project_path(self.data_dir, project_id).exists()
        except ValueError:  # not a project id (a deleted project's folder set aside, other files)
            return False

    def require_project(self, project_id: str) -> str:
        if not self.has_project(project_id):
            raise AppwriteError(
                "project_not_found", f"Project with the requested ID '{project_id}' could not be found.", 404
            )
        return project_id

    def project_ids(self) -> list[str]:
        """The projects in the data dir, in order of id."""
        folders = [folder.name for folder in self.data_dir.iterdir()] if self.data_dir.is_dir() else []
        return sorted({DEFAULT_PROJECT, *filter(self.has_project, folders)})

    def change(self, project_id: str, function: Callable[[Project], Any]) -> Any:
        """Run `function(project)` as one write transaction of a project (as a write operation runs)."""
        state = self.project(project_id)
        return in_write_transaction(state, lambda: function(state))

    def site_to_serve(self, project_id: str, site_id: str) -> ServedSite:
        """The files a site serves now (its active deployment's output); AppwriteError when there are none."""
        self.require_project(project_id)
        return site_to_serve(self.project(project_id), site_id, self.api_endpoint or "")

    def site_server_port(self, server: SiteServer) -> int:
        """The loopback port of a site's server (ServedSite.server), started now when it is not running;
        AppwriteError (502) with the reason when it cannot be started."""
        return server_port(server)

    def restart_site_server(self, server: SiteServer, port: int) -> None:
        """Stop a site's server that failed a request (it crashed or did not answer in time); the next request
        starts it again."""
        restart_server(server, port)

    def log_site_request(
        self, project_id: str, served: ServedSite, method: str, path: str, status: int, duration: float
    ) -> None:
        """Keep a request a site served among its logs."""
        self.change(
            project_id,
            lambda state: site_logs.record(state, served.site_id, served.deployment_id, method, path, status, duration),
        )

    def upsert_presence_for_connection(self, project_id: str, auth: Auth, data: object) -> dict:
        """A realtime connection's `presence` message: write the signed-in user's presence from the message's
        data (status, presenceId, metadata, permissions) and announce it; the Presence model. Errors are
        AppwriteError (user_unauthorized for a guest, general_argument_invalid for bad data, …)."""
        return self.change(project_id, lambda state: presence_connections.upsert_for_connection(state, auth, data))

    def delete_presence_for_connection(self, project_id: str, presence_id: str) -> bool:
        """A realtime connection closed: delete a presence it wrote and announce it; False when already gone."""
        return self.change(project_id, lambda state: presence_connections.delete_for_connection(state, presence_id))

    def finish_deletion(self, state: Project) -> None:
        """Close a project whose deletion was just committed and remove its folder."""
        with self.lock:
            if self.projects.get(state.id) is state:
                del self.projects[state.id]
        state.db.readers.close()
        state.close()
        retire_function_workers(state.db.path.parent)
        remove_folder(state.db.path.parent)
        for listener in self.deleted_listeners:
            listener(state.id)

    async def run_background(
        self, poll: float = POLL, projects: list[str] | None = None, with_functions: bool = True
    ) -> None:
        """The engine's work besides answering calls, until cancelled, on every project (or on `projects`):
        delivering webhooks (webhooks/worker.py) and, unless `with_functions` is false (webhooks only), sending
        messages (messaging/scheduler.py) and, when the engine runs code, starting functions on their events,
        schedules and scheduled executions (functions/triggers.py); each looks for other processes' commits every
        `poll` seconds."""
        workers = [WebhookWorker(self, self.webhook_policy, poll).run(projects)]
        if with_functions:
            workers.append(MessageWorker(self, poll).run(projects))
        if with_functions and self.runs_code:
            workers.append(FunctionWorker(self, poll).run(projects))
        # A task group: cancelled, it waits for each worker to let go of what it holds (its projects' locks).
        async with asyncio.TaskGroup() as group:
            for worker in workers:
                group.create_task(worker)

    def run_function_at_domain(
        self, project_id: str, function_id: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> DomainResponse:
        """A request a function rule's domain received, run by the function (functions/domains.py); the answer."""
        self.require_project(project_id)
        return run_domain_request(self, project_id, function_id, method, path, headers, body)

    def rule_for_domain(self, domain: str) -> tuple[str, dict] | None:
        """The project and proxy rule naming `domain` (any case), if one does."""
        domain = domain.lower()
        for project_id in self.project_ids():
            rule = rules_by_domain(self.project(project_id)).get(domain)
            if rule is not None:
                return project_id, rule
        return None

    def webhooks_configured(self) -> bool:
        """Whether a project of the data dir has a webhook (there is delivering to do); no once the engine
        is closing, even when a look was under way as it closed."""
        return self.any_project(lambda project: bool(webhooks_of(project)))

    def background_needed(self) -> bool:
        """Whether a project of the data dir has background work: a webhook, a message to send, or (when the engine
        runs code) a function with events or a schedule, or an execution scheduled; no once the engine is closing."""
        return self.any_project(
            lambda project: (
                bool(webhooks_of(project)) or messages_pending(project) or (self.runs_code and has_work(project))
            )
        )

    def any_project(self, test: Callable[[Project], bool]) -> bool:
        try:
            return any(test(self.project(project_id)) for project_id in self.project_ids())
        except AppwriteError:
            if self.closed:
                return False
            raise

    async def deliver_webhooks(self, project_ids: list[str]) -> dict[str, Any]:
        """One pass delivering what the projects' webhooks have pending (baas-mcp webhooks deliver --once): by
        project, what was delivered, failed and left pending, or None when another process delivers them."""
        return await WebhookWorker(self, self.webhook_policy).drain(project_ids)

    async def drain_background(self, project_ids: list[str], now: datetime | None = None) -> dict[str, Any]:
        """One pass of all the background work (baas-mcp background --once): the webhooks' pending deliveries, the
        messages due at `now` (this moment by default), then (when the engine runs code) the functions' pending
        events and the schedules and scheduled executions due then. By kind, then by project, what was done (None:
        another process does that work for the project)."""
        report = {"webhooks": await self.deliver_webhooks(project_ids)}
        clock = utc_now if now is None else lambda: now
        report["messages"] = await MessageWorker(self, clock=clock).drain(project_ids)
        if self.runs_code:
            report["functions"] = await FunctionWorker(self, clock=clock).drain(project_ids)
        return report

    def close(self) -> None:
        """Stop running reads now, let a write under way finish, stop the functions' warm workers, and close
        every project; calls after this fail."""
        with self.lock:
            self.closed = True
            projects, self.projects = list(self.projects.values()), {}
        retire_function_workers(self.data_dir, running=True)
        for project in projects:
            project.db.readers.close()
        for project in projects:
            project.close()
