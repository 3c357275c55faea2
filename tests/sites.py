"""A small local web site for tests of the requests the engine sends (avatars' images and favicons): it
answers with the pages, redirects and delays a test sets, and records every request it receives."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Site:
    """A web server on `host`:`port` (0: any free port), over TLS with `context`; what it answers is
    path -> (status, content type, body), or a redirect or a delay."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, context: ssl.SSLContext | None = None) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.redirects: dict[str, str] = {}
        self.delays: dict[str, float] = {}
        self.requests: list[str] = []  # the paths asked for
        self.hosts: list[str] = []  # their Host headers
        self.server_names: list[str | None] = []  # the names TLS clients asked for (SNI)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.hosts.append(self.headers.get("Host", ""))
                if self.path in site.delays:
                    time.sleep(site.delays[self.path])
                if self.path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, content_type, body = site.pages.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the engine may hang up early (too large, too slow)
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        if context is not None:
            context.sni_callback = lambda connection, name, _: self.server_names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.base = f"{'https' if context else 'http'}://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes, content_type: str = "image/png", status: int = 200) -> str:
        """Serve `body` at `path`; its URL."""
        self.pages[path] = (status, content_type, body)
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
