"""The folder tree is the architecture: which parts of mcp_server may import which.

- no import circles between modules (imports inside functions count too);
- the engine's kernel (the modules directly in engine/, but core.py, which assembles the services)
  imports no service;
- a service imports another service only through its named interface;
- the faces (mcp/, rest/, backends/) and the parts they share (search/, catalog, validation, uploads)
  use the kernel, never a service's modules, and no face uses another;
- the engine imports no face.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mcp_server

PACKAGE = Path(mcp_server.__file__).parent
SERVICES = (
    "databases", "identity", "storage", "platform", "project", "organization", "webhooks", "presences", "functions",
    "sites",
    "proxy",
    "graphql",
    "messaging",
)  # fmt: skip
FACES = ("mcp", "rest", "backends")
# Parts every face may use, which themselves use only the kernel.
SHARED = (
    "mcp_server.search",
    "mcp_server.catalog",
    "mcp_server.validation",
    "mcp_server.uploads",
    "mcp_server.nesting",
)
# What one service may use of another.
INTERFACES = {
    "mcp_server.engine.identity.identities",  # who a caller is: users, sessions, tokens, roles
    "mcp_server.engine.identity.policy",  # the auth policy store, which the project's policies change
    "mcp_server.engine.storage.stored_files",  # the bytes of a stored file
    "mcp_server.engine.storage.attachments",  # a stored file by bucket and id, and its content (messages attach them)
    "mcp_server.engine.project.settings",  # the Project model, which the organization's projects answer with
    "mcp_server.engine.webhooks.store",  # the webhooks' backlog, which health's webhooks queue reports
    # Code deployments, their variables, rows and builds, which sites share with functions (and the functions and
    # sites proxy rules lead to)
    "mcp_server.engine.functions.code_deployments",
    "mcp_server.engine.functions.code_variables",
    "mcp_server.engine.functions.store",
    "mcp_server.engine.functions.executor",
    "mcp_server.engine.functions.servers",  # the long-lived servers of sites rendered on the server
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The mcp_server modules a module imports, anywhere in it (an imported package counts as its
    __init__ unless the name imported from it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                found.add(candidate if candidate in known else source)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def part_of(module: str) -> str:
    """The part of the tree a module belongs to: a service, the kernel, a face, or the top level."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "engine":
        return f"engine.{parts[2]}" if len(parts) > 3 and parts[2] in SERVICES else "kernel"
    if len(parts) > 2 and parts[1] in FACES:
        return parts[1]
    return "engine" if module == "mcp_server.engine" else "top"


def test_there_is_no_import_circle():
    edges = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_kernel_imports_no_service():
    wrong = [
        (module, target)
        for module, targets in graph().items()
        if part_of(module) == "kernel" and module != "mcp_server.engine.core"
        for target in targets
        if part_of(target).startswith("engine.")
    ]
    assert wrong == []


def test_services_meet_only_through_named_interfaces():
    wrong = [
        (module, target)
        for module, targets in graph().items()
        if part_of(module).startswith("engine.")
        for target in targets
        if part_of(target).startswith("engine.") and part_of(target) != part_of(module) and target not in INTERFACES
    ]
    assert wrong == []


def test_faces_and_the_shared_contract_use_only_the_kernel():
    wrong = [
        (module, target)
        for module, targets in graph().items()
        if part_of(module) in FACES or module.startswith(SHARED)
        for target in targets
        if part_of(target).startswith("engine.")
    ]
    assert wrong == []


def test_faces_do_not_reach_into_each_other():
    wrong = [
        (module, target)
        for module, targets in graph().items()
        if part_of(module) in FACES
        for target in targets
        if part_of(target) in FACES and part_of(target) != part_of(module)
    ]
    assert wrong == []


def test_the_engine_imports_no_face():
    wrong = [
        (module, target)
        for module, targets in graph().items()
        if module.startswith("mcp_server.engine")
        for target in targets
        if part_of(target) in FACES or target in ("mcp_server.cli", "mcp_server.runtime")
    ]
    assert wrong == []
