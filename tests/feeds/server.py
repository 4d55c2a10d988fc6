"""A real HTTP server on loopback that serves feed documents the way feed servers do: ETag and
Last-Modified with 304 answers, and on demand slowness, redirects, errors and lying lengths.

Used by the feeds tests and by benchmarks/bench_feeds.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/xml"
    delay: float = 0.0
    redirect_to: str = ""
    # A Content-Length that is not the body's (a server that lies about the size); -1: none at
    # all, the body ending when the server closes the connection.
    declared_length: int | None = None
    last_modified: str = "Wed, 02 Dec 2026 20:40:00 GMT"
    # Seconds between bytes of the body: a server that never times out and never finishes.
    drip: float = 0.0

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class FeedServer:
    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", **options: object) -> str:
        self.routes[path] = Route(body=body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for requested, _headers in self.requests if requested == path)


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            server.requests.append((self.path, dict(self.headers.items())))
            route = server.routes.get(self.path)
            if route is None:
                self._answer(404, b"not found", "text/plain")
                return
            if route.delay:
                time.sleep(route.delay)
            if route.redirect_to:
                self.send_response(302)
                self.send_header("Location", route.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.status == 200 and self._unchanged(route):
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._answer(route.status, route.body, route.content_type, route)

        def _unchanged(self, route: Route) -> bool:
            # RFC 9110: If-None-Match, when sent, decides; If-Modified-Since only without it.
            if "If-None-Match" in self.headers:
                return self.headers["If-None-Match"] == route.etag
            return self.headers.get("If-Modified-Since") == route.last_modified

        def _answer(
            self, status: int, body: bytes, content_type: str, route: Route | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            length = route.declared_length if route and route.declared_length is not None else None
            if length == -1:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(length if length is not None else len(body)))
            if route is not None:
                self.send_header("ETag", route.etag)
                self.send_header("Last-Modified", route.last_modified)
            self.end_headers()
            # The client may hang up first (it stops reading at its size limit).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                if route is not None and route.drip:
                    for offset in range(0, len(body), 64):
                        self.wfile.write(body[offset : offset + 64])
                        self.wfile.flush()
                        time.sleep(route.drip)
                else:
                    self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer(host="127.0.0.1", port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
