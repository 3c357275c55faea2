"""The functions executor with real subprocesses: real Python and Node running open-runtimes-style functions."""

import io
import json
import os
import shutil
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from mcp_server.engine.functions.executor import (
    ExecutionRequest,
    Runtime,
    build,
    execute,
    extract,
    installed_runtimes,
    retire,
)

RUNTIMES = {r.language: r for r in installed_runtimes()}
PYTHON = RUNTIMES["python"]
NODE = RUNTIMES.get("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

PY_HELLO = """
def main(context):
    kind = context.req.path.strip("/")
    if kind == "json":
        return context.res.json({"hello": "world"})
    if kind == "binary":
        return context.res.binary(bytes([0, 1, 2, 255]))
    if kind == "redirect":
        return context.res.redirect("https://example.com/", 302)
    if kind == "empty":
        return context.res.empty()
    if kind == "req":
        req = context.req
        return context.res.json({"method": req.method, "path": req.path, "query": req.query,
            "queryString": req.query_string, "host": req.host, "port": req.port, "url": req.url,
            "scheme": req.scheme, "header": req.headers.get("x-custom"), "json": req.body_json,
            "body": req.body, "text": req.body_text})
    if kind == "logs":
        context.log("hello", {"a": 1})
        context.error("bad thing")
        print("native print")
        return context.res.text("ok")
    if kind == "raise":
        raise RuntimeError("boom")
    if kind == "env":
        import os
        return context.res.json(dict(os.environ))
    return context.res.text("Hello, World!", 201, {"x-extra": "1"})
"""

NODE_HELLO = """
module.exports = async (context) => {
  const kind = context.req.path.replace(/^\\//, "");
  if (kind === "json") return context.res.json({ hello: "world" });
  if (kind === "binary") return context.res.binary(Buffer.from([0, 1, 2, 255]));
  if (kind === "redirect") return context.res.redirect("https://example.com/", 302);
  if (kind === "empty") return context.res.empty();
  if (kind === "req") {
    const req = context.req;
    return context.res.json({ method: req.method, path: req.path, query: req.query, queryString: req.queryString,
      host: req.host, port: req.port, url: req.url, scheme: req.scheme, header: req.headers["x-custom"],
      json: req.bodyJson, body: req.body, text: req.bodyText });
  }
  if (kind === "logs") {
    context.log("hello", { a: 1 });
    context.error("bad thing");
    console.log("native print");
    return context.res.text("ok");
  }
  if (kind === "raise") throw new Error("boom");
  if (kind === "env") return context.res.json(process.env);
  return context.res.text("Hello, World!", 201, { "x-extra": "1" });
};
"""

SOURCES = {"python": ("main.py", PY_HELLO), "node": ("index.js", NODE_HELLO)}
LANGUAGES = ["python", pytest.param("node", marks=needs_node)]


def deploy(tmp_path: Path, language: str, source: str | None = None) -> tuple[Path, Runtime, str]:
    entrypoint, default = SOURCES[language]
    (tmp_path / entrypoint).write_text(source or default)
    return tmp_path, RUNTIMES[language], entrypoint


def run(tmp_path, language, path="/", source=None, timeout=20.0, memory_mb=256, **request):
    directory, runtime, entrypoint = deploy(tmp_path, language, source)
    req = ExecutionRequest(path=path, headers={"host": "fn.local"} | request.pop("headers", {}), **request)
    return execute(directory, runtime, entrypoint, req, {"MY_VAR": "value"}, timeout, memory_mb, 1.0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_text_response_with_status_and_headers(tmp_path, language):
    result = run(tmp_path, language)
    assert (result.status_code, result.body, result.failure) == (201, b"Hello, World!", None)
    assert result.headers["x-extra"] == "1"
    assert result.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("language", LANGUAGES)
def test_json_binary_redirect_empty(tmp_path, language):
    result = run(tmp_path, language, "/json")
    assert json.loads(result.body) == {"hello": "world"}
    assert result.headers["content-type"] == "application/json; charset=utf-8"
    assert run(tmp_path, language, "/binary").body == bytes([0, 1, 2, 255])
    redirect = run(tmp_path, language, "/redirect")
    assert (redirect.status_code, redirect.headers["location"]) == (302, "https://example.com/")
    empty = run(tmp_path, language, "/empty")
    assert (empty.status_code, empty.body) == (204, b"")


@pytest.mark.parametrize("language", LANGUAGES)
def test_request_fields(tmp_path, language):
    result = run(
        tmp_path,
        language,
        "/req?a=1&b=x=y&c",
        method="POST",
        headers={"X-Custom": "yes", "content-type": "application/json", "host": "fn.local:8080"},
        body=b'{"n": 5}',
    )
    assert json.loads(result.body) == {
        "method": "POST",
        "path": "/req",
        "query": {"a": "1", "b": "x=y", "c": ""},
        "queryString": "a=1&b=x=y&c",
        "host": "fn.local",
        "port": 8080,
        "url": "http://fn.local:8080/req?a=1&b=x=y&c",
        "scheme": "http",
        "header": "yes",
        "json": {"n": 5},
        "body": {"n": 5},
        "text": '{"n": 5}',
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_logs_errors_and_native_prints(tmp_path, language):
    result = run(tmp_path, language, "/logs")
    assert result.body == b"ok"
    assert 'hello {"a":1}' in result.logs
    assert "native print" in result.logs
    assert "Native logs detected" in result.logs
    assert "bad thing" in result.errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_raising_function_is_a_500_with_the_error(tmp_path, language):
    result = run(tmp_path, language, "/raise")
    assert (result.status_code, result.failure) == (500, None)
    assert "boom" in result.errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_entrypoint_is_a_503(tmp_path, language):
    runtime = RUNTIMES[language]
    result = execute(tmp_path, runtime, "nope.py", ExecutionRequest(), {}, 20, 256, 1)
    assert result.status_code == 503
    assert "does not exist" in result.errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_environment_has_only_the_variables(tmp_path, language, monkeypatch):
    monkeypatch.setenv("BAAS_MCP_KEY", "secret-1")
    monkeypatch.setenv("APPWRITE_API_KEY", "secret-2")
    env = json.loads(run(tmp_path, language, "/env").body)
    assert env["MY_VAR"] == "value"
    assert "BAAS_MCP_KEY" not in env and "APPWRITE_API_KEY" not in env
    assert "secret-1" not in json.dumps(env)


PY_ASYNC = (
    "import asyncio\nasync def main(context):\n    await asyncio.sleep(0)\n    return context.res.text('async')\n"
)
NODE_ESM = "export default async function (context) { return context.res.text('esm'); }\n"


def test_python_async_main(tmp_path):
    assert run(tmp_path, "python", source=PY_ASYNC).body == b"async"


@needs_node
def test_node_esm_module(tmp_path):
    (tmp_path / "index.mjs").write_text(NODE_ESM)
    result = execute(tmp_path, NODE, "index.mjs", ExecutionRequest(), {}, 20, 256, 1)
    assert result.body == b"esm"


HANGS = {
    "python-loop": "def main(context):\n    while True:\n        pass\n",
    "node-loop": "module.exports = () => { for (;;) {} };\n",
    "python-sleep": "import time\ndef main(context):\n    time.sleep(60)\n",
    "node-sleep": "module.exports = () => new Promise((resolve) => setTimeout(resolve, 60000));\n",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("hang", ["loop", "sleep"])
def test_timeout_kills_the_process(tmp_path, language, hang):
    started = time.monotonic()
    result = run(tmp_path, language, source=HANGS[f"{language}-{hang}"], timeout=1.5)
    assert time.monotonic() - started < 10
    assert (result.status_code, result.failure) == (500, "timeout")
    assert "Operation timed out after 1.5 seconds." in result.errors


MEMORY = {
    "python": "def main(context):\n    data = bytearray(2 * 1024 ** 3)\n    return context.res.text(str(len(data)))\n",
    "node": "module.exports = (c) => { const a = []; for (;;) a.push(Buffer.alloc(64 * 1024 * 1024, 1)); };\n",
}
MEMORY_ERRORS = {"python": "MemoryError", "node": "Array buffer allocation failed"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_memory_bomb_is_contained(tmp_path, language):
    result = run(tmp_path, language, source=MEMORY[language], memory_mb=256)
    assert result.status_code == 500
    assert MEMORY_ERRORS[language] in result.errors


NODE_HEAP = "module.exports = () => { const a = []; for (;;) a.push({ n: a.length, s: 'x'.repeat(64) }); };\n"


@needs_node
def test_node_heap_exhaustion_is_a_memory_failure(tmp_path):
    result = run(tmp_path, "node", source=NODE_HEAP, memory_mb=128)
    assert (result.status_code, result.failure) == (500, "memory")
    assert "Memory limit exceeded." in result.errors


def test_a_process_ended_by_the_cpu_limit_signal_is_a_cpu_failure_inside_bubblewrap_or_not(tmp_path):
    # Inside bubblewrap the signal comes back as exit status 128 + the signal, as a shell reports it.
    source = "import os, signal\n\ndef main(context):\n    os.kill(os.getpid(), signal.SIGXCPU)\n"
    result = run(tmp_path, "python", source=source)
    assert (result.status_code, result.failure) == (500, "cpu")
    assert "CPU time limit exceeded." in result.errors


FORK = """
import os, time
def main(context):
    pids = []
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
    with open("pids.txt", "w") as f:
        f.write(" ".join(map(str, pids)))
    return context.res.text(str(len(pids)))
"""


def processes_with(marker: str) -> list[int]:
    """Live processes (any PID namespace) whose environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_fork_bomb_is_bounded_and_cleaned_up(tmp_path):
    directory, runtime, entrypoint = deploy(tmp_path, "python", FORK)
    marker = f"FORK_MARKER={uuid.uuid4().hex}"
    variables = {"FORK_MARKER": marker.split("=")[1]}
    result = execute(directory, runtime, entrypoint, ExecutionRequest(), variables, 20, 256, 1, max_processes=16)
    assert result.status_code == 200
    assert int(result.body) < 16
    # What an execution leaves running lives with its warm worker, and goes when the worker goes.
    retire(directory)
    assert processes_with(marker) == []


def tarball(entries) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_entry(name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_entry(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_extract_unpacks_files(tmp_path):
    extract(tarball([file_entry("src/main.py", b"print(1)")]), tmp_path / "d")
    assert (tmp_path / "d" / "src" / "main.py").read_bytes() == b"print(1)"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (file_entry("../evil.py"), "'..'"),
        (file_entry("/etc/evil"), "absolute"),
        (link_entry("link", "/etc/passwd"), "links outside"),
        (link_entry("link", "../../outside"), "links outside"),
        (link_entry("hard", "/etc/passwd", tarfile.LNKTYPE), "links outside"),
    ],
)
def test_extract_refuses_escapes(tmp_path, entry, message):
    with pytest.raises(ValueError, match=message):
        extract(tarball([entry]), tmp_path / "d")
    assert not (tmp_path / "evil.py").exists()


def test_extract_refuses_devices_and_bounds(tmp_path):
    device = tarfile.TarInfo("dev")
    device.type = tarfile.CHRTYPE
    with pytest.raises(ValueError, match="device"):
        extract(tarball([(device, None)]), tmp_path / "a")
    with pytest.raises(ValueError, match="more than 2 entries"):
        extract(tarball([file_entry(f"f{i}") for i in range(3)]), tmp_path / "b", max_files=2)
    with pytest.raises(ValueError, match="more than 10 bytes"):
        extract(tarball([file_entry("big", b"y" * 11)]), tmp_path / "c", max_bytes=10)
    with pytest.raises(ValueError, match="not a valid tar"):
        extract(b"not a tarball", tmp_path / "e")


def test_build_runs_commands_with_a_timeout(tmp_path):
    ok = build(tmp_path, "echo built > out.txt && echo done", PYTHON, 20, {"X": "1"})
    assert ok.ok and "done" in ok.log and (tmp_path / "out.txt").exists()
    failed = build(tmp_path, "echo nope; exit 3", PYTHON, 20)
    assert not failed.ok and "nope" in failed.log
    started = time.monotonic()
    slow = build(tmp_path, "sleep 30", PYTHON, 1)
    assert not slow.ok and "timed out" in slow.log and time.monotonic() - started < 10


def test_installed_runtimes():
    assert PYTHON.id.startswith("python-3.") and os.path.exists(PYTHON.command)
    if shutil.which("node"):
        assert NODE is not None and NODE.id.startswith("node-")


READ_OUTSIDE = '''
def main(context):
    try:
        return context.res.text(open(context.req.body_text).read())
    except OSError as error:
        return context.res.text(type(error).__name__, 403)
'''


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_bwrap_confines_the_file_system_to_the_deployment(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret")
    directory = tmp_path / "deployment"
    directory.mkdir()
    (directory / "main.py").write_text(READ_OUTSIDE)
    (directory / "own.txt").write_text("mine")
    own = execute(directory, PYTHON, "main.py", ExecutionRequest(body=b"own.txt"), {}, 20, 256, 1)
    assert own.body == b"mine"
    outside = execute(directory, PYTHON, "main.py", ExecutionRequest(body=str(secret).encode()), {}, 20, 256, 1)
    assert (outside.status_code, outside.body) == (403, b"FileNotFoundError")


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_an_interpreter_under_tmp_stays_visible_in_the_sandbox(tmp_path):
    # A server installed under /tmp (a virtual environment there): its interpreter is bound after the private /tmp.
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(Path(PYTHON.command).resolve())
    runtime = Runtime(PYTHON.id, PYTHON.language, PYTHON.version, str(venv_bin / "python"))
    code = tmp_path / "code"
    code.mkdir()
    (code / "main.py").write_text(PY_HELLO)
    request = ExecutionRequest(path="/", headers={"host": "fn.local"})
    result = execute(code, runtime, "main.py", request, {}, 20.0, 256, 1.0)
    assert result.failure is None and result.status_code < 500, result.errors
